#!/usr/bin/env bash
# shutdown-ab.sh RUNS PROCTOR...: the shutdown of bench/run.sh's stack (100
# instances of `echo "up $PS"; exec sleep 1000`), and only that, for the
# bash loop and each PROCTOR binary in turn, RUNS rounds; prints the median
# of each, in milliseconds from SIGTERM until `wait` returns.
#
# Alternating the candidates round by round, with many rounds, is what
# makes a difference of a few percent visible on a shared machine:
# bench/run.sh's shutdown ratio moves by ±15% between its own runs. Nothing
# here reads the instances' /proc entries (see find_guardian in run.sh).
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 RUNS PROCTOR..." >&2
	exit 2
fi
runs=$1
shift
cmd='echo "up $PS"; exec sleep 1000'

# once WHO: one launch and shutdown; prints the shutdown in ms.
once() {
	local who=$1 d pid reader t0 t1 n=0 line
	d=$(mktemp -d)
	mkfifo "$d/out"
	if [[ $who == bash ]]; then
		(
			trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
			for ((j = 1; j <= 100; j++)); do PS=s.$j /bin/sh -c "$cmd" & done
			wait
		) >"$d/out" &
	else
		printf 's: %s\n' "$cmd" >"$d/Procfile"
		"$who" start -f "$d/Procfile" -m s=100 -p 47000 --no-color >"$d/out" 2>"$d/err" &
	fi
	pid=$!
	exec 3<"$d/out"
	while ((n < 100)) && read -r line <&3; do
		[[ $line == *"up s."* ]] && n=$((n + 1))
	done
	cat <&3 >/dev/null &
	reader=$!
	sleep 1
	t0=$EPOCHREALTIME
	kill -TERM "$pid"
	wait "$pid" || true
	t1=$EPOCHREALTIME
	wait "$reader" || true
	exec 3<&-
	rm -rf "$d"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}

who=(bash "$@")
declare -A times
for ((i = 0; i < runs; i++)); do
	for w in "${who[@]}"; do
		times[$w]+="$(once "$w") "
	done
done
for w in "${who[@]}"; do
	# shellcheck disable=SC2086
	printf '%s: median %s ms of %d\n' "$w" "$(printf '%s\n' ${times[$w]} | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')" "$runs"
done
