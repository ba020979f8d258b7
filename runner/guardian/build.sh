#!/bin/sh
# Builds guardian-linux-amd64 from guardian.c: a static executable for Linux
# x86-64 without a C library, which runner embeds (guard_compiled_linux_amd64.go).
# Run by `go generate ./runner`; TestCompiledGuardianUpToDate checks that the
# committed file is what this script makes with the compiler named in
# guardian-linux-amd64.cc.
#
# Usage: build.sh [OUTPUT]   (default: guardian-linux-amd64 next to this file)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/guardian-linux-amd64}
cc=${CC:-gcc}
"$cc" -std=c11 -Os -Wall -Wextra -Werror -static -nostdlib -ffreestanding \
	-fno-builtin -fno-stack-protector -fno-pie -no-pie -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -ffunction-sections -fdata-sections \
	-Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,noseparate-code -s \
	-o "$out" "$here/guardian.c"
if [ -z "${1:-}" ]; then
	"$cc" --version | head -n 1 >"$here/guardian-linux-amd64.cc"
fi
