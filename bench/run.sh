#!/usr/bin/env bash
# bench/run.sh: the whole-process benchmark of proctor (SPEC section 14).
#
# Needs bash 5 (for $EPOCHREALTIME), awk, GNU coreutils (seq, tee, head,
# tr, mkfifo), grep and /usr/bin/time (Debian/Ubuntu: apt-get install
# time), a C compiler (cc) for the words part and perl for the ready part.
# Run it from a clone (it builds proctor with `go build` when Go is
# installed and no binary is given) or point it at a binary with -p. -h
# tells the rest.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/run.sh [-n RUNS] [-p PROCTOR] [-o FILE] [-s PARTS] [-i SECONDS]
                    [-b MIB] [-L] [-k]

Runs each measurement RUNS times and prints a markdown table of medians,
with a floor or reference measured in the same run, the machine and the
date.

  throughput  4 children write 1,000,000 lines of 80 bytes (250,000 each,
              with seq) into a file through `proctor start --no-color`,
              against the same 4 children writing straight into a file,
              alternated (floor, proctor, floor, proctor, ...). Every line
              of proctor's output is checked: each child line once, whole,
              in order, after the right prefix.
  stack       100 instances that print one line, then sleep until SIGTERM:
              launch until the 100th line is out of proctor (startup), then
              proctor's CPU over an idle window, VmHWM/VmRSS of proctor and
              of its guardian process, and SIGTERM until proctor has exited
              (shutdown). The same 100 run by a bash loop (fork, exec, one
              shared pipe, kill, wait) give the reference. The command is
              shell syntax (`echo "up $PS"; exec sleep 1000`): proctor runs
              /bin/sh for it, as the loop does. With Go, bench/spawnfloor
              (fork and exec of the same 100, nothing else) gives the
              floor of that startup.
  words       the same startup and shutdown with the usual kind of
              Procfile command, a plain word list: 100 instances of
              bench/up/up.c (built with cc), which prints one line and
              waits. proctor executes it without a shell; the bash loop
              runs it as in the stack (`/bin/sh -c "exec CMD" &`).
  ready       100 instances that listen on their PORT (a perl one-liner)
              and sleep: once proctor has reported all 100 listening (the
              readiness probe has nothing left to do) and 2 s more,
              proctor's CPU and thread wakeups over the idle window, which
              should be none.
  big         one child writes MIB (default 1024) MiB without a newline:
              proctor's peak RSS (VmHWM) once it has read them all.

  -n RUNS     runs of each measurement (default 5, or $RUNS)
  -p PROCTOR  the proctor binary (default: `CGO_ENABLED=0 go build` of this
              clone when Go is installed, the static build the README
              installs, else `proctor` in PATH)
  -o FILE     also write the table to FILE
  -s PARTS    only these parts, comma-separated (default
              throughput,stack,words,ready,big)
  -i SECONDS  idle window (default 5)
  -b MIB      size of the line without a newline (default 1024)
  -L          also measure the idle window once readiness probing has
              stopped: one more stack, idle for 2 minutes first
  -k          keep the work directory

Timing is noisy on a shared machine: compare proctor with the floor of the
same run, and re-run when the load average (printed) is high.
EOF
}

runs=${RUNS:-5}
proctor=${PROCTOR:-}
outfile=
parts=throughput,stack,words,ready,big
idle=5
big_mib=1024
long=
keep=
while getopts "n:p:o:s:i:b:Lkh" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	p) proctor=$OPTARG ;;
	o) outfile=$OPTARG ;;
	s) parts=$OPTARG ;;
	i) idle=$OPTARG ;;
	b) big_mib=$OPTARG ;;
	L) long=1 ;;
	k) keep=1 ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

die() {
	echo "bench: $*" >&2
	exit 1
}

[[ -n ${EPOCHREALTIME:-} ]] || die "needs bash 5 or later (\$EPOCHREALTIME)"
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (Debian/Ubuntu: apt-get install time)"
for tool in awk seq tee head tr grep mkfifo; do
	command -v "$tool" >/dev/null || die "needs $tool"
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number"

work=$(mktemp -d "${TMPDIR:-/tmp}/proctor-bench.XXXXXX")
cleanup() {
	# Stop what a failed measurement left behind: only our own jobs.
	local p
	for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null || true; done
	if [[ -z $keep ]]; then rm -rf "$work"; else echo "bench: work directory kept: $work" >&2; fi
}
trap cleanup EXIT

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
if [[ -z $proctor ]]; then
	if command -v go >/dev/null && [[ -f $here/../go.mod ]]; then
		echo "bench: building proctor (CGO_ENABLED=0 go build, as the README installs it)" >&2
		(cd "$here/.." && CGO_ENABLED=0 go build -o "$work/proctor" .) || die "go build failed"
		proctor=$work/proctor
	else
		proctor=$(command -v proctor) || die "no proctor binary: pass -p PROCTOR"
	fi
fi
[[ -x $proctor ]] || die "$proctor is not executable"
spawnfloor=
if command -v go >/dev/null && [[ -f $here/../go.mod ]]; then
	(cd "$here/.." && CGO_ENABLED=0 go build -o "$work/spawnfloor" ./bench/spawnfloor) || die "go build ./bench/spawnfloor failed"
	spawnfloor=$work/spawnfloor
fi
build="dynamically linked"
if ! grep -q 'ld-linux\|/lib64/ld-' <(head -c 4096 "$proctor" | tr -c '[:print:]' '\n'); then
	build="statically linked"
fi

# A port range of our own, so that concurrent runs do not warn about each other.
port_base=$((20000 + ($$ % 300) * 100))

# ---------------------------------------------------------------- throughput

# The writers of bench/lib.sh, run as `-m w=4`: each tags its lines with its
# PS, w.1 to w.4.
gen=$(writer_cmd '$PS')
mkdir -p "$work/tp"
printf 'w: %s\n' "$gen" >"$work/tp/Procfile"

floor_once() {
	local t0 t1 n
	rm -f "$work/tp/floor.out"
	t0=$(now)
	floor_start "$work/tp/floor.out" "$work/tp/floor.time" "$gen" "$gen" "$gen" "$gen"
	wait "$floor_pid"
	t1=$(now)
	n=$(awk 'END { print NR }' "$work/tp/floor.out")
	[[ $n == $((4 * lines_per_child)) ]] || die "floor wrote $n lines"
	floor_t+=("$(sub "$t0" "$t1")")
	floor_cpu+=("$(cpu_of "$work/tp/floor.time")")
}

proctor_once() {
	local t0 t1 verdict
	rm -f "$work/tp/proctor.out"
	t0=$(now)
	/usr/bin/time -f "%U %S %M" -o "$work/tp/proctor.time" \
		"$proctor" start -f "$work/tp/Procfile" -m w=4 --can-die w --no-color >"$work/tp/proctor.out" 2>"$work/tp/proctor.err" ||
		die "proctor start failed: $(cat "$work/tp/proctor.err")"
	t1=$(now)
	verdict=$(check_lines "$work/tp/proctor.out")
	if [[ $verdict != ok ]]; then
		intact=no
		echo "bench: lines not intact: $verdict" >&2
	fi
	proctor_t+=("$(sub "$t0" "$t1")")
	proctor_cpu+=("$(cpu_of "$work/tp/proctor.time")")
	proctor_maxrss+=("$(awk '{ print $3 }' "$work/tp/proctor.time")")
}

# ------------------------------------------------------------ 100 instances

# The stack: 100 instances that print one line, then sleep until SIGTERM.
stack_cmd='echo "up $PS"; exec sleep 1000'

# find_guardian PID: the child of PID whose command line names proctor-guardian
# (the compiled guardian on Linux x86-64, a /bin/sh script elsewhere).
# proctor starts it before any instance, so the children are tried lowest
# pid first, and the search mostly ends at the first. Each /proc/PID of a
# child read here stays in the kernel's cache until that child is reaped,
# and freeing it makes each wait4 of the shutdown dearer: reading all 100
# would slow proctor's shutdown, and not the bash loop's.
find_guardian() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sort -n); do
		if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q proctor-guardian; then
			echo "$c"
			return
		fi
	done
}
# idle_window PID SECONDS: proctor's CPU over the window, as
# "utime+stime_ms schedstat_ms wakeups".
idle_window() {
	local c0 c1 r0 r1 w0 w1
	c0=$(cpu_ms "$1") r0=$(run_ns "$1") w0=$(switches "$1")
	sleep "$2"
	c1=$(cpu_ms "$1") r1=$(run_ns "$1") w1=$(switches "$1")
	awk -v c0="$c0" -v c1="$c1" -v r0="$r0" -v r1="$r1" -v w0="$w0" -v w1="$w1" \
		'BEGIN { printf "%g %.3f %d\n", c1 - c0, (r1 - r0) / 1e6, w1 - w0 }'
}

# start_100 DIR CMD: starts proctor in a new DIR on a Procfile of CMD run
# 100 times, its output copied into DIR/out, and returns once the 100th
# instance's line is out; sets started_pid and started_in (seconds).
start_100() {
	local d=$1 t0 t1 n
	rm -rf "$d"
	mkdir -p "$d"
	printf 's: %s\n' "$2" >"$d/Procfile"
	mkfifo "$d/out.fifo" "$d/tee.fifo"
	t0=$(now)
	"$proctor" start -f "$d/Procfile" -m s=100 -p "$port_base" --no-color >"$d/out.fifo" 2>"$d/err" &
	started_pid=$!
	tee -p "$d/out" <"$d/out.fifo" >"$d/tee.fifo" &
	# grep handles each read at once and exits at the 100th child line;
	# tee goes on copying proctor's output into a file.
	n=$(grep -m 100 -c -F '| up s.' <"$d/tee.fifo" || true)
	t1=$(now)
	[[ $n == 100 ]] || die "$2: only $n instances printed; proctor stderr: $(cat "$d/err")"
	started_in=$(sub "$t0" "$t1")
}

# stop_timed PID: SIGTERM to PID, a job of this shell, and waits for it;
# sets stopped_in (seconds from the signal to its end).
stop_timed() {
	local t0 t1
	t0=$(now)
	kill -TERM "$1"
	wait "$1" || true
	t1=$(now)
	stopped_in=$(sub "$t0" "$t1")
}

# stack_once [SETTLE]: one stack of 100; SETTLE seconds before the idle
# window (default 2: the first probes, the last lines).
stack_once() {
	local settle=${1:-2} d=$work/stack pid g idle_out
	start_100 "$d" "$stack_cmd"
	pid=$started_pid
	local cpu_start
	cpu_start=$(cpu_ms "$pid")

	sleep "$settle"
	idle_out=$(idle_window "$pid" "$idle")
	if [[ $settle == 2 ]]; then
		start_t+=("$started_in")
		start_cpu+=("$cpu_start")
		read -r a b c <<<"$idle_out"
		idle_ms+=("$a") idle_run_ms+=("$b") idle_wakeups+=("$c")
		hwm+=("$(status_kib "$pid" VmHWM)")
		rss+=("$(status_kib "$pid" VmRSS)")
		g=$(find_guardian "$pid")
		if [[ -n $g ]]; then
			ghwm+=("$(status_kib "$g" VmHWM)")
			grss+=("$(status_kib "$g" VmRSS)")
		fi
	else
		long_idle=$idle_out
	fi

	stop_timed "$pid"
	[[ $settle == 2 ]] && stop_t+=("$stopped_in")
	wait || true # tee
	grep -q 'sending SIGTERM to all processes' "$d/out" || die "no shutdown line in proctor's output"
}

# floor_stack_once: the same 100 started by bench/spawnfloor, a Go program
# that only forks and executes them (no pipes, no output of its own): the
# floor of proctor's startup with this command.
floor_stack_once() {
	local d=$work/floor pid t0 t1 n
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/out.fifo"
	t0=$(now)
	"$spawnfloor" "$stack_cmd" >"$d/out.fifo" &
	pid=$!
	n=$(grep -m 100 -c -F 'up s.' <"$d/out.fifo" || true)
	t1=$(now)
	[[ $n == 100 ]] || die "spawnfloor: only $n instances printed"
	floor_start_t+=("$(sub "$t0" "$t1")")
	kill -TERM "$pid"
	wait "$pid" || true
}

# ref_once CMD STARTS STOPS: the same 100 run by a bash subshell, about the
# least a supervisor does (fork, exec, one pipe shared by all, kill, wait):
# the reference for startup and shutdown on this machine. Each runs
# `/bin/sh -c CMD` with PS=s.N; the times go onto the arrays named STARTS
# and STOPS.
ref_once() {
	local cmd=$1 d=$work/ref pid t0 t1 n
	local -n starts=$2 stops=$3
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/out.fifo"
	t0=$(now)
	(
		trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
		for ((j = 1; j <= 100; j++)); do PS=s.$j /bin/sh -c "$cmd" & done
		wait
	) >"$d/out.fifo" &
	pid=$!
	n=$(grep -m 100 -c -F 'up s.' <"$d/out.fifo" || true)
	t1=$(now)
	[[ $n == 100 ]] || die "reference: only $n instances printed"
	starts+=("$(sub "$t0" "$t1")")
	sleep 1
	stop_timed "$pid"
	stops+=("$stopped_in")
}

# ------------------------------------------------------ a plain word list

# words_once: 100 instances of bench/up/up.c, a command without shell
# syntax: startup and shutdown as in stack_once.
words_once() {
	local d=$work/words pid
	start_100 "$d" "$up"
	pid=$started_pid
	words_start_t+=("$started_in")
	sleep 1
	stop_timed "$pid"
	words_stop_t+=("$stopped_in")
	wait || true # tee
	grep -q 'sending SIGTERM to all processes' "$d/out" || die "words: no shutdown line in proctor's output"
}

# ------------------------------------------------------ ready and idle

# The ready stack: 100 instances that bind 127.0.0.1:$PORT, then sleep.
ready_cmd='exec perl -MIO::Socket::INET -e '"'"'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die "port $ENV{PORT}: $!\n"; sleep 1000'"'"

# ready_once: one ready stack; the idle window starts once proctor has
# said of all 100 that they listen.
ready_once() {
	local d=$work/ready pid n a b c
	rm -rf "$d"
	mkdir -p "$d"
	printf 's: %s\n' "$ready_cmd" >"$d/Procfile"
	mkfifo "$d/out.fifo" "$d/tee.fifo"
	"$proctor" start -f "$d/Procfile" -m s=100 -p "$port_base" --no-color >"$d/out.fifo" 2>"$d/err" &
	pid=$!
	tee -p "$d/out" <"$d/out.fifo" >"$d/tee.fifo" &
	n=$(timeout 60 grep -m 100 -c -E 's\.[0-9]+ is listening on port' <"$d/tee.fifo" || true)
	[[ $n == 100 ]] || die "ready stack: only $n instances listened; proctor stderr: $(cat "$d/err"); output: $(tail -5 "$d/out")"
	sleep 2 # as in stack_once: the runtime's own wind-down after the last probe
	read -r a b c <<<"$(idle_window "$pid" "$idle")"
	ready_ms+=("$a") ready_run_ms+=("$b") ready_wakeups+=("$c")
	kill -TERM "$pid"
	wait "$pid" || true
	wait || true # tee
}

# -------------------------------------------------------- bounded memory

# big_once: a child writes big_mib MiB without a newline, then says so and
# sleeps; proctor's VmHWM is read then. The line reaches proctor's stdout,
# /dev/null, in 1 MiB pieces.
big_once() {
	local d=$work/big pid
	mkdir -p "$d"
	printf 'big: head -c %d /dev/zero | tr "\\0" x; : >%s; exec sleep 1000\n' $((big_mib << 20)) "$d/done" >"$d/Procfile"
	rm -f "$d/done"
	"$proctor" start -f "$d/Procfile" -p "$port_base" --no-color >/dev/null 2>"$d/err" &
	pid=$!
	while [[ ! -e $d/done ]]; do
		kill -0 "$pid" 2>/dev/null || die "proctor start (big line) failed: $(cat "$d/err")"
		sleep 0.1
	done
	big_hwm=$(status_kib "$pid" VmHWM)
	kill -TERM "$pid"
	wait "$pid" || true
}

# -------------------------------------------------------------------- main

has() { [[ ,$parts, == *,$1,* ]]; }

floor_t=() proctor_t=() floor_cpu=() proctor_cpu=() proctor_maxrss=()
start_t=() start_cpu=() stop_t=() idle_ms=() idle_run_ms=() idle_wakeups=()
hwm=() rss=() ghwm=() grss=() ref_start_t=() ref_stop_t=()
words_start_t=() words_stop_t=() words_ref_start_t=() words_ref_stop_t=()
floor_start_t=()
ready_ms=() ready_run_ms=() ready_wakeups=()
big_hwm= long_idle=
intact=yes
load_before=$(load)

if has throughput; then
	echo "bench: throughput, $runs x (floor, proctor)" >&2
	for ((i = 0; i < runs; i++)); do
		floor_once
		proctor_once
	done
fi
if has stack; then
	echo "bench: 100 instances, $runs x (bash reference; proctor: startup, idle ${idle} s, memory, shutdown)" >&2
	for ((i = 0; i < runs; i++)); do
		ref_once "$stack_cmd" ref_start_t ref_stop_t
		[[ -z $spawnfloor ]] || floor_stack_once
		stack_once
	done
	if [[ -n $long ]]; then
		echo "bench: 100 instances, idle ${idle} s once readiness probing has stopped (about 2 minutes)" >&2
		stack_once 125
	fi
fi
if has words; then
	cc=$(command -v cc || command -v gcc) || die "the words part needs a C compiler, cc (or leave it out: -s throughput,stack,ready,big)"
	up=$work/up
	"$cc" -O2 -o "$up" "$here/up/up.c" || die "cc $here/up/up.c failed"
	echo "bench: 100 instances of a plain word list, $runs x (bash reference; proctor: startup, shutdown)" >&2
	for ((i = 0; i < runs; i++)); do
		# exec, as in the stack's command: Debian's dash forks for the
		# last command of -c, and the loop's kill would miss the program.
		ref_once "exec $up" words_ref_start_t words_ref_stop_t
		words_once
	done
fi
if has ready; then
	command -v perl >/dev/null || die "the ready part needs perl (or leave it out: -s throughput,stack,big)"
	echo "bench: 100 listening instances, $runs x (idle ${idle} s once all are ready)" >&2
	for ((i = 0; i < runs; i++)); do
		ready_once
	done
fi
if has big; then
	echo "bench: ${big_mib} MiB line without a newline" >&2
	big_once
fi
load_after=$(load)

mib() { awk -v k="$1" 'BEGIN { if (k == "n/a" || k == "") print "n/a"; else printf "%.2f MiB (%d KiB)", k / 1024, k }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "n/a" && v + 0 <= t + 0) ? "yes" : "**no**" }'; }
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

table() {
	echo "| measurement (median of $runs runs) | proctor | floor / reference (same run) | target | met |"
	echo "|---|---|---|---|---|"
	if has throughput; then
		local mf mp ratio
		mf=$(median "${floor_t[@]}") mp=$(median "${proctor_t[@]}")
		ratio=$(awk -v p="$mp" -v f="$mf" 'BEGIN { printf "%.2f", p / f }')
		echo "| throughput: 4 × $(thousands "$lines_per_child") lines of 80 B into a file | $mp s | $mf s (the children straight into the file) | ≤ 1.2× floor | $(verdict "$ratio" 1.2) (${ratio}×) |"
		echo "| throughput: CPU, user+sys of everything | $(median "${proctor_cpu[@]}") s | $(median "${floor_cpu[@]}") s | — | — |"
		echo "| throughput: each line once, whole, in order, right prefix | $intact | — | all | $([[ $intact == yes ]] && echo yes || echo '**no**') |"
		echo "| throughput: peak RSS of proctor (or of its largest child) | $(mib "$(median "${proctor_maxrss[@]}")") | — | — | — |"
	fi
	if has stack; then
		local m
		m=$(median "${start_t[@]}")
		echo "| startup: launch → 100th instance's line out of proctor | $m s | $(median "${ref_start_t[@]}") s (bash \`&\` loop) | ≤ 0.10 s | $(verdict "$m" 0.10) |"
		echo "| startup: proctor / bash loop (a shell command: /bin/sh in both) | $(ratio "$m" "$(median "${ref_start_t[@]}")")× | — | — | — |"
		if [[ -n $spawnfloor ]]; then
			local f
			f=$(median "${floor_start_t[@]}")
			echo "| startup: bench/spawnfloor (fork and exec only) / bash loop, the floor of the row above | $(ratio "$f" "$(median "${ref_start_t[@]}")")× ($f s) | — | — | — |"
		fi
		echo "| startup: proctor's own CPU (utime+stime) until then | $(median "${start_cpu[@]}") ms | — | — | — |"
		m=$(median "${stop_t[@]}")
		echo "| shutdown: SIGTERM → proctor exited, 100 instances | $m s | $(median "${ref_stop_t[@]}") s (bash kill + wait) | ≤ 0.03 s | $(verdict "$m" 0.03) |"
		echo "| shutdown: proctor / bash kill + wait | $(ratio "$m" "$(median "${ref_stop_t[@]}")")× | — | ≤ 1.0× | $(verdict "$(ratio "$m" "$(median "${ref_stop_t[@]}")")" 1.0) |"
		m=$(median "${hwm[@]}")
		echo "| memory: proctor's VmHWM (peak RSS), 100 instances | $(mib "$m") | — | < 10 MiB | $(verdict "$m" 10239) |"
		echo "| memory: proctor's VmRSS after the idle window | $(mib "$(median "${rss[@]}")") | — | — | — |"
		echo "| memory: guardian process (\`proctor-guardian\`), VmHWM / VmRSS | $(mib "$(median "${ghwm[@]}")") / $(mib "$(median "${grss[@]}")") | — | — | — |"
		m=$(awk -v a="$(median "${hwm[@]}")" -v b="$(median "${ghwm[@]}")" 'BEGIN { print a + b }')
		echo "| memory: proctor + guardian VmHWM | $(mib "$m") | — | ≤ 10 MiB | $(verdict "$m" 10240) |"
		m=$(median "${idle_ms[@]}")
		echo "| idle ${idle} s, 100 instances, readiness probing on: utime+stime | $m ms | — | 0 | $(verdict "$m" 0) |"
		echo "| idle ${idle} s, probing on: time on CPU (schedstat) / thread wakeups | $(median "${idle_run_ms[@]}") ms / $(median "${idle_wakeups[@]}") | — | — | — |"
		if [[ -n $long_idle ]]; then
			local a b c
			read -r a b c <<<"$long_idle"
			echo "| idle ${idle} s after probing stopped (1 run): utime+stime, schedstat, wakeups | $a ms, $b ms, $c | — | 0 | $(verdict "$a" 0) |"
		fi
	fi
	if has words; then
		local m r
		m=$(median "${words_start_t[@]}") r=$(median "${words_ref_start_t[@]}")
		echo "| startup, plain word list (bench/up/up.c): launch → 100th line out of proctor | $m s | $r s (bash \`&\` loop, \`/bin/sh -c \"exec …\"\` each) | — | — |"
		echo "| startup, plain word list: proctor / bash loop | $(ratio "$m" "$r")× | — | ≤ 0.5× | $(verdict "$(ratio "$m" "$r")" 0.5) |"
		m=$(median "${words_stop_t[@]}") r=$(median "${words_ref_stop_t[@]}")
		echo "| shutdown, plain word list: SIGTERM → proctor exited / bash kill + wait | $m s / $r s = $(ratio "$m" "$r")× | — | — | — |"
	fi
	if has ready; then
		local m
		m=$(median "${ready_wakeups[@]}")
		echo "| idle ${idle} s, 100 instances all ready (listening): utime+stime, schedstat / thread wakeups | $(median "${ready_ms[@]}") ms, $(median "${ready_run_ms[@]}") ms / $m | — | 0 wakeups | $(verdict "$m" 0) |"
	fi
	if has big; then
		echo "| memory: proctor's VmHWM after reading ${big_mib} MiB without a newline | $(mib "$big_hwm") | — | bounded | $(verdict "$big_hwm" 65536) |"
	fi
	echo
	echo "Machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r); load average before $load_before, after $load_after."
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). proctor: $("$proctor" --version 2>/dev/null | head -1 || echo unknown), $build."
	if has throughput; then echo "Raw throughput times (s): floor ${floor_t[*]}; proctor ${proctor_t[*]}."; fi
	if has stack; then echo "Raw stack times (s): startup ${start_t[*]} (bash ${ref_start_t[*]}); shutdown ${stop_t[*]} (bash ${ref_stop_t[*]})."; fi
	if has words; then echo "Raw word-list times (s): startup ${words_start_t[*]} (bash ${words_ref_start_t[*]}); shutdown ${words_stop_t[*]} (bash ${words_ref_stop_t[*]})."; fi
	return 0
}

table
if [[ -n $outfile ]]; then table >"$outfile"; fi
