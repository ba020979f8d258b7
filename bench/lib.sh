# bench/lib.sh: what bench/run.sh (proctor alone) and bench/peers/run.sh
# (proctor beside foreman, node-foreman, goreman and hivemind) share: the
# writers of the throughput run, their floor, the checks of the lines that
# come out, and the clocks and /proc readings. Sourced, not run; the caller
# sets `set -euo pipefail` and defines die.

now() { echo "$EPOCHREALTIME"; }
# sub A B: B - A, in seconds with 4 decimals.
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
# median of the numbers given as arguments ("n/a" when none is).
median() {
	printf '%s\n' "$@" | awk 'NF && $1 != "n/a"' | sort -g | awk '{ v[++n] = $1 } END {
		if (n == 0) { print "n/a"; exit }
		if (n % 2) print v[(n + 1) / 2]; else printf "%.6g\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
hz=$(getconf CLK_TCK)
# thousands N: N with a comma every three digits (250,000).
thousands() { echo "$1" | awk '{ s = $1; while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }
# cpu_of FILE: user+sys seconds from a `/usr/bin/time -f "%U %S ..."` file.
cpu_of() { awk '{ print $1 + $2 }' "$1"; }

# ------------------------------------------------------------------ writers

# Each writer writes 250,000 distinct 80-byte lines: a tag ("w.1" to "w.4"),
# a 10-digit sequence number and 64 x's. seq writes through stdio, 4 KiB per
# write, to a pipe or a file alike: the same children through a process
# manager and straight into the file.
lines_per_child=${LINES_PER_CHILD:-250000}
pad=$(printf '%64s' '' | tr ' ' x)

# writer_cmd TAG: the shell command of one writer. TAG is written into the
# command as given, so '$PS' makes the writer tag its lines with its PS.
writer_cmd() { echo "seq -f \"$1 %010.0f $pad\" 1 $lines_per_child"; }

# floor_start OUT TIMEFILE CMD...: runs each CMD with /bin/sh -c (the i-th
# with PS=w.i) in the background, all writing straight into OUT, under
# /usr/bin/time (user, sys, max RSS into TIMEFILE); floor_pid is the job to
# wait for.
floor_start() {
	local out=$1 timefile=$2
	shift 2
	/usr/bin/time -f "%U %S %M" -o "$timefile" \
		bash -c 'i=0; for c in "$@"; do i=$((i + 1)); PS=w.$i /bin/sh -c "$c" & done; wait' _ "$@" >"$out" &
	floor_pid=$!
}

# check_lines FILE: for proctor's own format (`HH:MM:SS w.N    | LINE`, the
# writers run as `-m w=4` and tagged with $PS): prints "ok", or what is
# wrong: each child line must come once, whole, in order, after the right
# prefix, and nothing else but proctor's own lines.
check_lines() {
	awk -v per="$lines_per_child" -v pad="$pad" '
	$2 == "system" { next }
	NF == 7 && $3 == "|" && $4 == "started" && $5 == "with" && $6 == "pid" { next }
	{
		name = $2
		ok = NF == 6 && $3 == "|" && $4 == name && name ~ /^w\.[1-4]$/ && $6 == pad &&
			$1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ && length($0) == 97 &&
			$5 == sprintf("%010d", last[name] + 1)
		if (!ok) { if (bad++ < 3) printf "bad line %d: %s\n", NR, substr($0, 1, 120); next }
		last[name]++
	}
	END {
		for (i = 1; i <= 4; i++) if (last["w." i] != per) {
			printf "w.%d: %d of %d lines\n", i, last["w." i], per; bad++
		}
		if (!bad) print "ok"
	}' "$1"
}

# tally_lines FILE [STYLE]: for any tool's format. Each output line loses
# its ANSI sequences and a final \r; with STYLE bar (the default), what
# follows the first "|" (and its spaces) is the child's line, what stands
# just before it the instance name; with STYLE bracket (process-compose's
# `[NAME<tab>] LINE`), a line that starts with "[" has the name up to the
# first "] " (less its blanks) and the child's line after it. The
# writers tag their lines w.1 to w.4 themselves and run as Procfile entries
# w1 to w4, so a right name is w1 (goreman, hivemind, process-compose) or
# w1.1 (foreman, node-foreman, proctor). Prints one line of counts:
#   intact not_whole split altered disordered misnamed
# intact: writer lines seen whole, in order, after the right name, the first
# time; not_whole: writer lines never seen whole (lost, split or altered);
# split: output lines holding a piece of a writer line (its start or its
# end); altered: other output lines holding a damaged writer line
# (interleaved or changed bytes); disordered: whole lines seen again, or
# after a later line of their writer; misnamed: whole lines after the wrong
# name.
tally_lines() {
	awk -v per="$lines_per_child" -v pad="$pad" -v style="${2:-bar}" '
	{
		gsub(/\033\][^\007]*\007/, "")
		gsub(/\033\[[0-9;?]*[A-Za-z]/, "")
		sub(/\r$/, "")
		if (style == "bracket") {
			i = substr($0, 1, 1) == "[" ? index($0, "] ") : 0
			if (i) {
				name = substr($0, 2, i - 2); gsub(/[ \t]/, "", name); pl = substr($0, i + 2)
			} else { pl = $0; name = "" }
		} else if (i = index($0, "|")) {
			pre = substr($0, 1, i - 1); pl = substr($0, i + 1)
			sub(/^ +/, "", pl)
			n = split(pre, f, " "); name = n ? f[n] : ""
		} else { pl = $0; name = "" }
		if (length(pl) == 79 && pl ~ /^w\.[1-4] [0-9]+ x+$/ && substr(pl, 16) == pad) {
			tag = substr(pl, 1, 3); seqno = substr(pl, 5, 10) + 0; w = "w" substr(tag, 3, 1)
			if (name != w && name != w ".1") { misnamed++; next }
			if (seqno <= last[tag]) { disordered++; next }
			if (!(tag SUBSEP seqno in seen)) { seen[tag, seqno] = 1; intact++ }
			last[tag] = seqno
			next
		}
		if (pl !~ /xxxx|^w\.[1-4] [0-9]/) next # a line of the tool itself
		if (pl ~ /^w\.[1-4] [0-9]*( x*)?$/ || pl ~ /^[0-9]* ?x+$/) split_++
		else altered++
	}
	END {
		printf "%d %d %d %d %d %d\n", intact, 4 * per - intact, split_, altered, disordered, misnamed
	}' "$1"
}

# ------------------------------------------------------------------ /proc

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# cpu_ms PID: utime+stime of the whole process, in ms (clock-tick resolution).
cpu_ms() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' "/proc/$1/stat"; }
# run_ns PID: time on CPU of its live threads, in ns (schedstat).
run_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%d\n", s }'; }
# switches PID: context switches of its live threads: each one a wakeup.
switches() {
	cat /proc/"$1"/task/*/status |
		awk '$1 == "voluntary_ctxt_switches:" || $1 == "nonvoluntary_ctxt_switches:" { s += $2 } END { print s }'
}
