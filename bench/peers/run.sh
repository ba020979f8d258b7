#!/usr/bin/env bash
# bench/peers/run.sh: the whole-process benchmark of bench/run.sh, run in one
# session for proctor and for the Procfile managers users would otherwise
# pick, installed the ordinary way. Optional: CI does not run it. -h tells
# the rest.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/peers/run.sh [-n RUNS] [-t TOOLS] [-s PARTS] [-c COUNT]
                          [-i SECONDS] [-o DIR] [-p PROCTOR] [-W LOAD] [-I] [-k]

Installs the peers it can, then measures every tool on the same workloads,
RUNS times each, alternating the tools within a run, with the floor and the
reference measured in the same runs, and writes DIR/peers.tsv (one row per
tool: medians and facts), DIR/raw.tsv (every measurement) and DIR/peers.md
(the table, the machine, the date, the load).

Tools (-t, comma-separated; default all):
  proctor   this clone, built with `go build` (or -p PROCTOR)
  foreman   Ruby foreman: Debian package ruby-foreman (apt-get: needs root,
            or sudo without a password)
  nf        node-foreman: npm package foreman@3.0.1, binary nf (needs node
            and npm)
  goreman   go install github.com/mattn/goreman@v0.3.16
  hivemind  go install github.com/DarthSim/hivemind@v1.1.0
  overmind  go install github.com/DarthSim/overmind/v2@v2.5.1; needs tmux
            (Debian package tmux, apt-get like ruby-foreman). Overmind runs
            the Procfile in a tmux server of its own (tmux -L with a name it
            makes up per run) and keeps its control socket, ./.overmind.sock,
            in the Procfile's directory, which is new for every run: no
            overmind flag is set. Only TMUX_TMPDIR is set, to this run's work
            directory, so that the tmux servers it leaves can be found and
            ended (tmux kill-server) after every measurement.
  process-compose
            go install github.com/f1bonacc1/process-compose@v1.85.0.
            v1.122.0 was asked for, but the module proxy reached here (on
            2026-12-07) refuses it (403), v1.110.0 and v1.100.0 too, and
            v1.120.0 needs github.com/f1bonacc1/glippy v1.2.0, also refused:
            v1.85.0 is the newest it serves. Where it cannot be installed
            it is skipped, and the table says so. It reads a
            process-compose.yaml, not a Procfile: each workload's Procfile
            is turned into one (DIR/process-compose.yaml: a process per
            entry, same name, same command, nothing else set, so no
            restarts), run as `process-compose up -f DIR/process-compose.yaml
            -t=false --no-server -L DIR/process-compose.log`: no TUI (the
            lines of the processes on stdout, as `[NAME<tab>] LINE`), no
            HTTP server (no port to collide), its own log in the run's work
            directory, not /tmp. Its default shell is kept: it runs each
            command with bash -c where the others use sh.
A peer that cannot be installed is skipped, and the output says why. npm and
go install put the peers under $PEERS_HOME (default
~/.cache/proctor-bench-peers), never into this module.

Workloads, identical for every tool (default flags of each tool):
  throughput  a Procfile of 4 writers (bench/lib.sh), each 250,000 lines of
              80 bytes, the tool's stdout into a file; the floor is the same 4
              commands writing straight into a file. Each writer, when done,
              waits at a barrier until all 4 are done, then exits: the tools
              without --can-die stop the stack at the first exit, and the
              barrier makes that exit come after every line was written.
              Every output line is checked (lib.sh tally_lines): lines
              intact, not whole (lost, split or altered), out of order,
              after the wrong name.
  stack       a Procfile of COUNT (default 100) entries that print one line,
              then sleep: launch until the COUNTth line is out of the tool
              (startup), the tool's CPU over an idle window (utime+stime and
              wakeups, with its helper processes: proctor's guardian), its
              peak RSS (VmHWM) and its helpers', then SIGTERM to the tool
              until it has exited and no instance is left (shutdown). A bash
              loop running the same instances gives the reference.
  facts       once per tool: orphans after Ctrl-C (SIGINT to the tool's
              process group, as a terminal sends it, with a process that
              forks two sleep children and a setsid one); whether a final
              line without a newline is printed; the exit code when a child
              exits with 3 (and whether the tool stops by itself).

  -n RUNS     runs of each timed measurement (default 5)
  -t TOOLS    tools to measure (default
              proctor,foreman,nf,goreman,hivemind,overmind,process-compose)
  -s PARTS    only these parts, comma-separated (default
              throughput,stack,facts)
  -c COUNT    instances of the stack (default 100)
  -i SECONDS  idle window (default 5)
  -o DIR      results directory (default bench/peers/results)
  -p PROCTOR  the proctor binary (default: go build of this clone)
  -W LOAD     first wait (up to 30 minutes) until the 1-minute load average
              is below LOAD
  -I          install nothing: measure only the peers already installed
  -k          keep the work directory
LINES_PER_CHILD=N in the environment makes the writers shorter (for trying
the script out; the table then says so).

Needs bash 5, awk, GNU coreutils, grep, util-linux setsid, /usr/bin/time
(Debian: apt-get install time), Go for proctor, goreman, hivemind, overmind
and process-compose, and tmux for overmind.
EOF
}

runs=5
tools=proctor,foreman,nf,goreman,hivemind,overmind,process-compose
parts=throughput,stack,facts
count=100
idle=5
outdir=
proctor=${PROCTOR:-}
wait_load=
install=1
keep=
while getopts "n:t:s:c:i:o:p:W:Ikh" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	t) tools=$OPTARG ;;
	s) parts=$OPTARG ;;
	c) count=$OPTARG ;;
	i) idle=$OPTARG ;;
	o) outdir=$OPTARG ;;
	p) proctor=$OPTARG ;;
	W) wait_load=$OPTARG ;;
	I) install= ;;
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
	echo "peers: $*" >&2
	exit 1
}
note() { echo "peers: $*" >&2; }

[[ -n ${EPOCHREALTIME:-} ]] || die "needs bash 5 or later (\$EPOCHREALTIME)"
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (Debian/Ubuntu: apt-get install time)"
for t in awk seq tee head tr grep mkfifo setsid timeout; do
	command -v "$t" >/dev/null || die "needs $t"
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number"
[[ $count =~ ^[1-9][0-9]*$ ]] || die "-c wants a positive number"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
outdir=${outdir:-$here/results}
peers_home=${PEERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/proctor-bench-peers}

work=$(mktemp -d "${TMPDIR:-/tmp}/proctor-peers.XXXXXX")
cleanup() {
	local p
	for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null || true; done
	if [[ -n ${marks:-} ]]; then reap_marked "$marks" >/dev/null || true; fi
	if command -v tmux >/dev/null && [[ -d $work/tmux ]]; then end_tmux >/dev/null || true; fi
	if [[ -z $keep ]]; then rm -rf "$work"; else note "work directory kept: $work"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------- installing

goreman_mod=github.com/mattn/goreman goreman_ver=v0.3.16
goreman_sum=h1:YGEMBVOZYMOf9Ys+xdy1OOSgHDcmHvp3R4IYF/wyIfI=
hivemind_mod=github.com/DarthSim/hivemind hivemind_ver=v1.1.0
hivemind_sum=h1:om9ELlhZ07p+yZ+OzYzaXd5RYw/j+X7UwgWyNLpOcBY=
overmind_mod=github.com/DarthSim/overmind/v2 overmind_ver=v2.5.1
overmind_sum=h1:egwGmQSV1A+KvfKn/hzj9XjWb4qGQ0CSzbcX2g/pRM0=
# v1.122.0 was asked for; the module proxy reached here (2026-12-07)
# refuses its zip (403), v1.110.0's and v1.100.0's too, and the version
# list; v1.120.0 needs github.com/f1bonacc1/glippy v1.2.0, also refused.
# v1.85.0 is the newest it was found to serve.
pc_mod=github.com/f1bonacc1/process-compose pc_ver=v1.85.0 pc_asked=v1.122.0
pc_sum=h1:qCPqs/wfIXdklhmxoRnf3foH3XmC+YMrhzjf5uGjqo4=
nf_ver=3.0.1

declare -A bin=() version=() skipped=()

as_root() {
	if [[ $(id -u) == 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo "$@"
	else
		return 1
	fi
}

# apt_install TOOL COMMAND PACKAGE: installs the Debian PACKAGE when
# COMMAND is missing; false, with skipped[TOOL] set, when that fails.
apt_install() {
	command -v "$2" >/dev/null && return 0
	[[ -n $install ]] || return 0
	if ! command -v apt-get >/dev/null; then
		skipped[$1]="$2 not installed, and no apt-get to install $3"
		return 1
	fi
	note "installing $3 (apt-get)"
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$3" >"$work/apt-$3.log" 2>&1; then
		as_root apt-get update -qq >>"$work/apt-$3.log" 2>&1 || true
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$3" >>"$work/apt-$3.log" 2>&1 || {
			skipped[$1]="apt-get install $3 failed (needs root or passwordless sudo): $(tail -1 "$work/apt-$3.log")"
			return 1
		}
	fi
}

install_foreman() {
	apt_install foreman foreman ruby-foreman || return 0
	if ! command -v foreman >/dev/null; then
		skipped[foreman]="foreman not installed (-I)"
		return
	fi
	bin[foreman]=$(command -v foreman)
	version[foreman]="foreman $(foreman version 2>/dev/null | awk 'NR == 1')"
	if command -v dpkg-query >/dev/null; then
		version[foreman]+=" (Debian ruby-foreman $(dpkg-query -W -f '${Version}' ruby-foreman 2>/dev/null || echo '?'))"
	fi
	version[foreman]+=", $(ruby -e 'print "ruby ", RUBY_VERSION' 2>/dev/null || echo ruby)"
}

install_nf() {
	local nf=$peers_home/npm/node_modules/.bin/nf
	if [[ ! -x $nf && -n $install ]]; then
		if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
			skipped[nf]="node and npm are needed for node-foreman"
			return
		fi
		note "installing node-foreman (npm install foreman@$nf_ver)"
		mkdir -p "$peers_home/npm"
		npm install --prefix "$peers_home/npm" --no-audit --no-fund "foreman@$nf_ver" >"$work/npm.log" 2>&1 || {
			skipped[nf]="npm install foreman@$nf_ver failed: $(tail -1 "$work/npm.log")"
			return
		}
	fi
	if [[ ! -x $nf ]]; then
		skipped[nf]="node-foreman not installed (-I)"
		return
	fi
	bin[nf]=$nf
	version[nf]="node-foreman $("$nf" --version 2>/dev/null | awk 'NR == 1') (npm foreman), node $(node --version 2>/dev/null)"
}

# go_install NAME MODULE VERSION SUM: go install MODULE@VERSION into
# $peers_home/bin. Where the module proxy refuses what a plain
# `go install MODULE@VERSION` also asks for (the version list, to look for
# a deprecation notice) or the checksum database does not answer for the
# module, the same version is installed from a throwaway module outside
# this one (go get, then go install), and its hash must then equal SUM, the
# go.sum hash recorded here.
go_install() {
	local name=$1 mod=$2 ver=$3 sum=$4 gobin=$peers_home/bin log=$work/go-$1.log
	if [[ ! -x $gobin/$name && -n $install ]]; then
		if ! command -v go >/dev/null; then
			skipped[$name]="go is needed for go install $mod@$ver"
			return
		fi
		note "installing $name (go install $mod@$ver)"
		mkdir -p "$gobin"
		if ! (cd "$work" && GOWORK=off GOBIN=$gobin go install "$mod@$ver") >"$log" 2>&1; then
			local m=$work/gomod-$name got
			mkdir -p "$m"
			if ! (cd "$m" && export GOWORK=off GOFLAGS=-mod=mod &&
				go mod init bench.local/"$name" &&
				{ go get "$mod@$ver" || GONOSUMDB=$mod go get "$mod@$ver"; }) >>"$log" 2>&1; then
				if grep -q '403 Forbidden' "$log"; then
					skipped[$name]="the Go module proxy reached here does not serve $mod@$ver (403 Forbidden)"
					return
				fi
				# The last line of go's own, without tabs (peers.tsv has a field each).
				skipped[$name]="go install $mod@$ver failed: $(grep -v -e '^go: downloading' -e '^[[:space:]]' "$log" | tail -1 | tr '\t' ' ')"
				return
			fi
			# go get may record only the go.mod hash: ask for the module's.
			got=$(cd "$m" && GOWORK=off GOFLAGS=-mod=mod GONOSUMDB=$mod go mod download -json "$mod@$ver" 2>>"$log" |
				awk -F'"' '$2 == "Sum" { print $4 }')
			if [[ $got != "$sum" ]]; then
				skipped[$name]="$mod@$ver has hash $got, not the recorded $sum"
				return
			fi
			(cd "$m" && GOWORK=off GOFLAGS=-mod=mod GOBIN=$gobin go install "$mod") >>"$log" 2>&1 || {
				skipped[$name]="go install $mod@$ver failed: $(tail -1 "$log")"
				return
			}
		fi
	fi
	if [[ ! -x $gobin/$name ]]; then
		skipped[$name]="$name not installed (-I)"
		return
	fi
	# The binary names the module version it was built from: one left by
	# an older pin of this script is not taken for this one.
	local built
	built=$(go version -m "$gobin/$name" 2>/dev/null | awk '$1 == "mod" { print $3 }')
	if [[ -n $built && $built != "$ver" ]]; then
		skipped[$name]="$gobin/$name is $mod $built, not $ver (remove it, or run without -I)"
		return
	fi
	bin[$name]=$gobin/$name
	version[$name]="$name $ver ($mod, go install)"
}

install_overmind() {
	apt_install overmind tmux tmux || return 0
	if ! command -v tmux >/dev/null; then
		skipped[overmind]="overmind needs tmux, not installed (-I)"
		return
	fi
	go_install overmind "$overmind_mod" "$overmind_ver" "$overmind_sum"
	[[ -z ${bin[overmind]:-} ]] || version[overmind]+=", $(tmux -V)"
}

install_process_compose() {
	go_install process-compose "$pc_mod" "$pc_ver" "$pc_sum"
	[[ -z ${bin[process-compose]:-} ]] ||
		version[process-compose]+="; $pc_asked was asked for, but the module proxy here serves no newer version (refused: v1.122.0, v1.110.0, v1.100.0, and v1.120.0's github.com/f1bonacc1/glippy v1.2.0); each Procfile run as a process-compose.yaml of the same entries, its commands by bash -c (run.sh -h)"
}

install_proctor() {
	if [[ -z $proctor ]]; then
		command -v go >/dev/null || die "no proctor binary: pass -p PROCTOR"
		note "building proctor (go build)"
		(cd "$root" && go build -o "$work/proctor" .) || die "go build failed"
		proctor=$work/proctor
	fi
	[[ -x $proctor ]] || die "$proctor is not executable"
	bin[proctor]=$proctor
	local c
	c=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
	version[proctor]="$("$proctor" --version 2>/dev/null | awk 'NR == 1'), tree at $c"
}

has_tool() { [[ ,$tools, == *,$1,* ]]; }
all_tools=(proctor foreman nf goreman hivemind overmind process-compose)
for t in "${all_tools[@]}"; do
	has_tool "$t" || continue
	case $t in
	proctor) install_proctor ;;
	foreman) install_foreman ;;
	nf) install_nf ;;
	goreman) go_install goreman "$goreman_mod" "$goreman_ver" "$goreman_sum" ;;
	hivemind) go_install hivemind "$hivemind_mod" "$hivemind_ver" "$hivemind_sum" ;;
	overmind) install_overmind ;;
	process-compose) install_process_compose ;;
	esac
done
present=()
for t in "${all_tools[@]}"; do
	has_tool "$t" || continue
	if [[ -n ${bin[$t]:-} ]]; then
		present+=("$t")
		note "$t: ${version[$t]}"
	else
		note "$t: skipped: ${skipped[$t]}"
	fi
done
((${#present[@]})) || die "no tool to measure"

# ------------------------------------------------------------ the tools

# A port range of our own, so that concurrent runs do not meet.
port_base=$((20000 + ($$ % 300) * 100))

# tool_cmd TOOL PROCFILE: the command that starts the Procfile's stack with
# the tool's default flags (only the base port is ours), into tool_argv.
tool_cmd() {
	local p=$2
	case $1 in
	proctor) tool_argv=("${bin[proctor]}" start -f "$p" -p "$port_base") ;;
	foreman) tool_argv=("${bin[foreman]}" start -f "$p" -p "$port_base") ;;
	nf) tool_argv=("${bin[nf]}" start -j "$p" -p "$port_base") ;;
	# -p is goreman's RPC port: one no instance gets.
	goreman) tool_argv=("${bin[goreman]}" -f "$p" -b "$port_base" -p $((port_base + 99)) start) ;;
	hivemind) tool_argv=("${bin[hivemind]}" -p "$port_base" "$p") ;;
	# Its tmux servers' sockets under the work directory (see -h).
	overmind) tool_argv=(env TMUX_TMPDIR="$work/tmux" "${bin[overmind]}" start -f "$p" -p "$port_base") ;;
	# The Procfile as a process-compose.yaml beside it (see -h).
	process-compose)
		local d=${p%/*}
		pc_yaml "$p" >"$d/process-compose.yaml"
		tool_argv=("${bin[process-compose]}" up -f "$d/process-compose.yaml" -t=false --no-server -L "$d/process-compose.log")
		;;
	esac
}

# pc_yaml PROCFILE: the process-compose.yaml of the Procfile's entries: one
# process per entry, same name, the command as a YAML single-quoted scalar
# (every ' doubled, nothing else escaped).
pc_yaml() {
	echo 'processes:'
	awk '{
		i = index($0, ":"); name = substr($0, 1, i - 1); cmd = substr($0, i + 1)
		sub(/^[ \t]+/, "", cmd); gsub(/\047/, "\047\047", cmd)
		printf "  %s:\n    command: \047%s\047\n", name, cmd
	}' "$1"
}

# end_tmux: ends the tmux servers overmind started (with TMUX_TMPDIR under
# the work directory) and left running; prints how many there were.
mkdir -p "$work/tmux"
end_tmux() {
	local s n=0
	for s in "$work"/tmux/tmux-*/*; do
		[[ -S $s ]] || continue
		if tmux -S "$s" kill-server 2>/dev/null; then n=$((n + 1)); fi
		rm -f "$s"
	done
	echo "$n"
}
# tmux_after TOOL RUN: after each measurement of overmind, the tmux servers
# still running are ended and counted (tmux_left).
tmux_after() {
	[[ $1 == overmind ]] || return 0
	local n
	n=$(end_tmux)
	record "$1" tmux_left "$2" "$n"
	((n == 0)) || note "$1: $n tmux servers still running after the measurement (ended)"
}

# up_re TOOL: sets re to the end of the tool's prefix, before the child's
# line: "|", then spaces and colour sequences (goreman resets the colour
# after the "| "); for process-compose "] ", after "[NAME<tab>".
up_re() {
	if [[ $1 == process-compose ]]; then re='\] '; else re=$'\\|( |\e\\[[0-9;]*m)*'; fi
}
# prefix_style TOOL: how lib.sh tally_lines finds the tool's prefix.
prefix_style() { if [[ $1 == process-compose ]]; then echo bracket; else echo bar; fi; }

# start_tool TOOL DIR OUT: starts the tool on DIR/Procfile in DIR, its
# stdout and stderr into OUT, stdin from /dev/null, in a process group of
# its own, as a shell does for a job (so Ctrl-C goes to that group); sets
# fpid and fstart (the time just before).
start_tool() {
	tool_cmd "$1" "$2/Procfile"
	fstart=$(now)
	set -m
	(cd "$2" && exec "${tool_argv[@]}") >"$3" 2>&1 </dev/null &
	fpid=$!
	set +m
}

# Instances are found by a mark in their command line: a sleep of a
# duration no one else uses. marks holds every mark of this session's
# live stacks, for cleanup.
marks=
mark_seq=0
new_mark() {
	mark_seq=$((mark_seq + 1))
	mark="9${mark_seq}00.$$"
	marks+="${marks:+ }$mark"
}
# marked MARK...: the pids of the processes whose command line holds a
# MARK. The pattern escapes the dot, so grep's own command line never
# matches it.
marked() {
	local pat f
	pat=$(printf '%s\n' "$@" | sed 's/\./\\./g' | paste -sd'|')
	for f in $(grep -lE -a "$pat" /proc/[0-9]*/cmdline 2>/dev/null || true); do
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done
}
# sleeps PID...: how many of them are sleep processes.
sleeps() {
	local p n=0 comm
	for p in "$@"; do
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		[[ $comm != sleep ]] || n=$((n + 1))
	done
	echo "$n"
}
# reap_marked MARK...: SIGKILL to what is left of those processes (by pid);
# prints how many there were.
reap_marked() {
	local pids
	# shellcheck disable=SC2086
	pids=$(marked $*)
	# shellcheck disable=SC2086
	[[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
	echo "$pids" | awk 'NF { n++ } END { print n + 0 }'
}

# watch_pid SECONDS PID: SIGKILL to PID after SECONDS unless unwatch is
# called first (a hung tool must not hang the benchmark).
watch_pid() {
	{
		sleep "$1" &
		wait $!
		kill -KILL "$2" 2>/dev/null
	} &
	watchdog=$!
}
unwatch() {
	local c
	for c in $(cat /proc/"$watchdog"/task/*/children 2>/dev/null); do kill "$c" 2>/dev/null || true; done
	kill "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
}

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$work/raw.tsv"; }
printf 'tool\tmeasurement\trun\tvalue\n' >"$work/raw.tsv"

# --------------------------------------------------------------- throughput

# The 4 writers of bench/lib.sh, tagging their lines w.1 to w.4, each
# followed by the barrier: report on the done fifo, wait on the gate fifo.
tp_procfile() {
	local d=$1 i
	for i in 1 2 3 4; do
		printf 'w%d: %s; echo %d >%s/done; read x <%s/gate\n' "$i" "$(writer_cmd "w.$i")" "$i" "$d" "$d"
	done >"$d/Procfile"
}

# barrier PID: waits until the 4 writers are done, then opens the gate;
# false when they did not all report within 10 minutes.
barrier() {
	local k x
	for k in 1 2 3 4; do
		read -r -t 600 -u "$done_fd" x || return 1
	done
	printf '\n\n\n\n' >&"$gate_fd"
}

tp_setup() {
	local d=$1
	rm -rf "$d"
	mkdir -p "$d"
	tp_procfile "$d"
	mkfifo "$d/done" "$d/gate"
	# Held open for reading and writing, so neither side's open blocks.
	exec {done_fd}<>"$d/done" {gate_fd}<>"$d/gate"
}
tp_teardown() { exec {done_fd}>&- {gate_fd}>&-; }

floor_once() {
	local r=$1 d=$work/floor t0 t1 n cmds=()
	tp_setup "$d"
	mapfile -t cmds < <(sed 's/^w[0-9]*: //' "$d/Procfile")
	t0=$(now)
	floor_start "$d/out" "$d/time" "${cmds[@]}"
	barrier || die "floor: the writers did not finish"
	wait "$floor_pid"
	t1=$(now)
	tp_teardown
	n=$(awk 'END { print NR }' "$d/out")
	[[ $n == $((4 * lines_per_child)) ]] || die "floor wrote $n lines"
	record floor tp_s "$r" "$(sub "$t0" "$t1")"
	record floor tp_cpu_s "$r" "$(cpu_of "$d/time")"
}

tp_once() {
	local tool=$1 r=$2 d=$work/tp-$1 t0 t1 pid ok=1 c
	tp_setup "$d"
	tool_cmd "$tool" "$d/Procfile"
	t0=$(now)
	(cd "$d" && exec /usr/bin/time -f "%U %S %M" -o "$d/time" "${tool_argv[@]}") >"$d/out" 2>"$d/err" </dev/null &
	pid=$!
	watch_pid 900 "$pid"
	barrier || ok=
	wait "$pid" || true
	t1=$(now)
	unwatch
	tp_teardown
	if [[ -z $ok ]]; then
		note "$tool: the writers did not finish (run $r); stderr: $(head -c 300 "$d/err")"
		kill -KILL "$pid" 2>/dev/null || true
		record "$tool" tp_failed "$r" 1
		return
	fi
	read -r c < <(tally_lines "$d/out" "$(prefix_style "$tool")")
	local v
	read -r -a v <<<"$c"
	record "$tool" tp_s "$r" "$(sub "$t0" "$t1")"
	record "$tool" tp_cpu_s "$r" "$(cpu_of "$d/time" 2>/dev/null || echo n/a)"
	record "$tool" tp_maxrss_kib "$r" "$(awk '{ print $3 }' "$d/time" 2>/dev/null || echo n/a)"
	record "$tool" intact "$r" "${v[0]}"
	record "$tool" not_whole "$r" "${v[1]}"
	record "$tool" split "$r" "${v[2]}"
	record "$tool" altered "$r" "${v[3]}"
	record "$tool" disordered "$r" "${v[4]}"
	record "$tool" misnamed "$r" "${v[5]}"
	if [[ ${v[1]} != 0 || ${v[2]} != 0 || ${v[3]} != 0 ]]; then
		note "$tool: run $r: $((4 * lines_per_child)) lines: ${v[1]} not whole (${v[2]} split pieces, ${v[3]} altered lines)"
	fi
}

# ------------------------------------------------------------ 100 instances

stack_procfile() {
	local d=$1 i
	for ((i = 1; i <= count; i++)); do
		printf 's%d: echo "up s%d"; exec sleep %s\n' "$i" "$i" "$mark"
	done >"$d/Procfile"
}

# helpers PID: the tool's children that are not instances (proctor's
# guardian; none for the others).
helpers() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		grep -qaF "$mark" "/proc/$c/cmdline" 2>/dev/null || echo "$c"
	done
}
sum_of() { awk '{ s += $1 } END { print s + 0 }'; }

# stack_once TOOL RUN SIGNAL: one stack of COUNT. SIGNAL TERM: startup,
# idle window, memory, then SIGTERM to the tool alone (as kill, systemd or
# docker stop send it); SIGNAL INT: startup, then Ctrl-C (SIGINT to the
# tool's process group, as a terminal sends it).
stack_once() {
	local tool=$1 r=$2 sig=$3 d=$work/stack-$1 pid t0 t1 t2 n hs h left k re
	rm -rf "$d"
	mkdir -p "$d"
	new_mark
	stack_procfile "$d"
	mkfifo "$d/out.fifo" "$d/tee.fifo"
	start_tool "$tool" "$d" "$d/out.fifo"
	pid=$fpid t0=$fstart
	tee -p "$d/out" <"$d/out.fifo" >"$d/tee.fifo" &
	up_re "$tool"
	n=$(timeout 120 grep -m "$count" -c -E "$re"'up s[0-9]' <"$d/tee.fifo" || true)
	t1=$(now)
	if [[ $n != "$count" ]]; then
		note "$tool: only ${n:-0} of $count instances printed (run $r): $(tail -3 "$d/out")"
		kill -KILL -- "-$pid" 2>/dev/null || true
		wait || true
		reap_marked "$mark" >/dev/null
		record "$tool" stack_failed "$r" 1
		return
	fi
	record "$tool" startup_s "$r" "$(sub "$t0" "$t1")"
	if [[ $sig == TERM ]]; then
		sleep 2
		# The idle window: the tool and its helpers.
		hs=$(helpers "$pid")
		local pids=("$pid") c0 c1 w0 w1
		for h in $hs; do pids+=("$h"); done
		c0=$(for p in "${pids[@]}"; do cpu_ms "$p"; done | sum_of)
		w0=$(for p in "${pids[@]}"; do switches "$p"; done | sum_of)
		sleep "$idle"
		c1=$(for p in "${pids[@]}"; do cpu_ms "$p" 2>/dev/null || echo 0; done | sum_of)
		w1=$(for p in "${pids[@]}"; do switches "$p" 2>/dev/null || echo 0; done | sum_of)
		record "$tool" idle_cpu_ms "$r" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')"
		record "$tool" idle_wakeups "$r" $((w1 - w0))
		record "$tool" rss_kib "$r" "$(status_kib "$pid" VmHWM)"
		record "$tool" helpers_rss_kib "$r" "$(for h in $hs; do status_kib "$h" VmHWM; done | sum_of)"
	else
		sleep 1
	fi

	watch_pid 60 "$pid"
	t0=$(now)
	if [[ $sig == TERM ]]; then kill -TERM "$pid"; else kill -INT -- "-$pid"; fi
	wait "$pid" || true
	t1=$(now)
	unwatch
	# Instances left when the tool has exited: wait up to 10 s for them.
	left=$(marked "$mark" | awk 'NF { n++ } END { print n + 0 }')
	t2=$t1
	if ((left > 0)); then
		t2=n/a
		for ((k = 0; k < 100; k++)); do
			if [[ -z $(marked "$mark") ]]; then
				t2=$(now)
				break
			fi
			sleep 0.1
		done
	fi
	sig=${sig,,}
	record "$tool" "shutdown_${sig}_exit_s" "$r" "$(sub "$t0" "$t1")"
	record "$tool" "shutdown_${sig}_s" "$r" "$([[ $t2 == n/a ]] && echo n/a || sub "$t0" "$t2")"
	record "$tool" "left_${sig}_at_exit" "$r" "$left"
	record "$tool" "left_${sig}_after_10s" "$r" "$(reap_marked "$mark")"
	wait || true # tee
}

# ref_once: the same instances run by a bash subshell (fork, exec, one pipe
# shared by all, kill, wait), as in bench/run.sh.
ref_once() {
	local r=$1 d=$work/ref pid t0 t1 n
	rm -rf "$d"
	mkdir -p "$d"
	new_mark
	mkfifo "$d/out.fifo"
	t0=$(now)
	(
		trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
		for ((j = 1; j <= count; j++)); do /bin/sh -c "echo \"up s$j\"; exec sleep $mark" & done
		wait
	) >"$d/out.fifo" &
	pid=$!
	n=$(grep -m "$count" -c -F 'up s' <"$d/out.fifo" || true)
	t1=$(now)
	[[ $n == "$count" ]] || die "reference: only $n instances printed"
	record bash startup_s "$r" "$(sub "$t0" "$t1")"
	sleep 1
	t0=$(now)
	kill -TERM "$pid"
	wait "$pid" || true
	t1=$(now)
	record bash shutdown_s "$r" "$(sub "$t0" "$t1")"
	reap_marked "$mark" >/dev/null
}

# ------------------------------------------------------------------- facts

# wait_exit PID SECONDS: sets rc to the tool's exit code, or to "running"
# after SECONDS.
wait_exit() {
	local k
	for ((k = 0; k < $2 * 20; k++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			rc=0
			wait "$1" || rc=$?
			return
		fi
		sleep 0.05
	done
	rc=running
}
# wait_output FILE PATTERN SECONDS
wait_output() {
	local k
	for ((k = 0; k < $3 * 10; k++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

fact_ctrl_c() {
	local tool=$1 d=$work/ctrlc-$1 m1 m2 m3 rc a b c all re
	rm -rf "$d"
	mkdir -p "$d"
	new_mark
	m1=$mark
	new_mark
	m2=$mark
	new_mark
	m3=$mark
	{
		echo "forker: sleep $m1 & sleep $m1 & setsid sleep $m2 & echo forked; wait"
		echo "web: echo up; exec sleep $m3"
	} >"$d/Procfile"
	start_tool "$tool" "$d" "$d/out"
	up_re "$tool"
	if ! wait_output "$d/out" 'forked' 30 || ! wait_output "$d/out" "$re"up 30; then
		note "$tool: Ctrl-C fact: the stack did not start: $(tail -3 "$d/out")"
	fi
	sleep 1
	# Ctrl-C; if the tool is still there after 30 s, Ctrl-C again (which
	# some tools take as "kill now"); after 10 s more, kill -9 of the tool
	# alone. What is left then is what the user is left with.
	kill -INT -- "-$fpid" 2>/dev/null || true
	wait_exit "$fpid" 30
	if [[ $rc == running ]]; then
		kill -INT -- "-$fpid" 2>/dev/null || true
		wait_exit "$fpid" 10
		if [[ $rc == running ]]; then
			kill -KILL "$fpid" 2>/dev/null || true
			wait "$fpid" 2>/dev/null || true
			rc="hung (kill -9)"
		else
			rc="second Ctrl-C: exit $rc"
		fi
	else
		rc="exit $rc"
	fi
	sleep 1
	# The forker's shell holds m1 and m2 in its command line too: the
	# sleeps are told apart by their name.
	a=$(sleeps $(marked "$m1"))
	b=$(sleeps $(marked "$m2"))
	c=$(marked "$m3" | awk 'NF { n++ } END { print n + 0 }')
	all=$(marked "$m1" "$m2" "$m3" | awk 'NF { n++ } END { print n + 0 }')
	record "$tool" ctrl_c_exit 1 "$rc"
	record "$tool" orphans_forked 1 "$a"
	record "$tool" orphans_setsid 1 "$b"
	record "$tool" orphans_plain 1 "$c"
	record "$tool" orphans_shell 1 $((all - a - b - c))
	record "$tool" orphans 1 "$all"
	reap_marked "$m1" "$m2" "$m3" >/dev/null
}

fact_final_line() {
	local tool=$1 d=$work/final-$1 rc
	rm -rf "$d"
	mkdir -p "$d"
	echo "p: sleep 0.5; printf 'final line without newline'" >"$d/Procfile"
	start_tool "$tool" "$d" "$d/out"
	wait_exit "$fpid" 20
	if [[ $rc == running ]]; then
		kill -INT -- "-$fpid" 2>/dev/null || true
		wait_exit "$fpid" 20
		[[ $rc != running ]] || { kill -KILL -- "-$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true; }
	fi
	record "$tool" final_line 1 "$(grep -qF 'final line without newline' "$d/out" && echo yes || echo no)"
}

fact_exit_code() {
	local tool=$1 d=$work/exit-$1 rc stopped=yes
	rm -rf "$d"
	mkdir -p "$d"
	new_mark
	{
		echo "fail: sleep 1; exit 3"
		echo "ok: exec sleep $mark"
	} >"$d/Procfile"
	start_tool "$tool" "$d" "$d/out"
	wait_exit "$fpid" 20
	if [[ $rc == running ]]; then
		stopped=no
		kill -INT -- "-$fpid" 2>/dev/null || true
		wait_exit "$fpid" 20
		if [[ $rc == running ]]; then
			kill -KILL -- "-$fpid" 2>/dev/null || true
			wait "$fpid" 2>/dev/null || true
			rc=killed
		fi
	fi
	record "$tool" fail_exit 1 "$rc"
	record "$tool" fail_stops 1 "$stopped"
	reap_marked "$mark" >/dev/null
}

# -------------------------------------------------------------------- main

if [[ -n $wait_load ]]; then
	for ((k = 0; k < 60; k++)); do
		awk -v l="$wait_load" '{ exit !($1 < l) }' /proc/loadavg && break
		note "load average $(load), waiting for < $wait_load"
		sleep 30
	done
fi
load_before=$(load)
started=$(date -u '+%Y-%m-%d %H:%M UTC')

# rotate R: the tools in the order of run R (each tool takes each place in
# turn, so that drift over the session spreads evenly).
rotate() {
	local n=${#present[@]} i
	for ((i = 0; i < n; i++)); do echo "${present[$(((i + $1) % n))]}"; done
}

has_part() { [[ ,$parts, == *,$1,* ]]; }
has_part throughput && note "throughput: $runs x (floor, then ${present[*]} in turn), $(thousands $((4 * lines_per_child))) lines each"
for ((r = 1; r <= runs; r++)); do
	has_part throughput || break
	record load load1 "tp$r" "$(cut -d' ' -f1 /proc/loadavg)"
	floor_once "$r"
	for t in $(rotate "$r"); do
		tp_once "$t" "$r"
		tmux_after "$t" "$r"
	done
done
has_part stack && note "stack of $count: $runs x (bash reference; each tool: startup, idle ${idle} s, memory, SIGTERM; each tool: startup, Ctrl-C)"
for ((r = 1; r <= runs; r++)); do
	has_part stack || break
	record load load1 "stack$r" "$(cut -d' ' -f1 /proc/loadavg)"
	ref_once "$r"
	for t in $(rotate "$r"); do
		stack_once "$t" "$r" TERM
		tmux_after "$t" "$r"
	done
	for t in $(rotate "$((r + 1))"); do
		stack_once "$t" "$r" INT
		tmux_after "$t" "$r"
	done
done
has_part facts && note "facts: Ctrl-C orphans, final line without newline, exit code of a failing child"
for t in "${present[@]}"; do
	has_part facts || break
	fact_ctrl_c "$t"
	tmux_after "$t" facts
	fact_final_line "$t"
	tmux_after "$t" facts
	fact_exit_code "$t"
	tmux_after "$t" facts
done
load_after=$(load)

# ------------------------------------------------------------------ output

# values TOOL MEASUREMENT: every recorded value, one per line.
values() { awk -F'\t' -v t="$1" -v m="$2" '$1 == t && $2 == m { print $4 }' "$work/raw.tsv"; }
med() { median $(values "$1" "$2"); }
total() { values "$1" "$2" | sum_of; }
one() { values "$1" "$2" | awk 'NR == 1'; }

mkdir -p "$outdir"
cp "$work/raw.tsv" "$outdir/raw.tsv"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="$(nproc) CPUs ($cpu_model), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
floor_med=$(med floor tp_s)
{
	printf '# machine\t%s\n' "$machine"
	printf '# date\t%s\n' "$started"
	printf '# load\tbefore %s, after %s%s\n' "$load_before" "$load_after" \
		"$(values load load1 | sort -g | awk 'NR == 1 { lo = $1 } END { if (NR) printf "; 1-minute load at the start of each run %s to %s", lo, $1 }')"
	printf '# runs\t%s\n' "$runs"
	printf '# lines\t4 x %s\n' "$lines_per_child"
	printf '# instances\t%s\n' "$count"
	printf '# idle_s\t%s\n' "$idle"
	printf '# floor_tp_s\t%s\n' "$floor_med"
	printf '# floor_tp_cpu_s\t%s\n' "$(med floor tp_cpu_s)"
	printf '# bash_startup_s\t%s\n' "$(med bash startup_s)"
	printf '# bash_shutdown_s\t%s\n' "$(med bash shutdown_s)"
	cols=(tp_s tp_ratio tp_cpu_s tp_maxrss_kib not_whole split altered disordered misnamed
		startup_s shutdown_term_s shutdown_term_exit_s left_term_at_exit left_term_after_10s
		shutdown_int_s shutdown_int_exit_s left_int_at_exit left_int_after_10s
		rss_kib helpers_rss_kib idle_cpu_ms idle_wakeups
		orphans orphans_forked orphans_setsid orphans_plain orphans_shell ctrl_c_exit final_line fail_exit fail_stops failures)
	printf 'tool\tstatus\tversion'
	printf '\t%s' "${cols[@]}"
	printf '\n'
	for t in "${all_tools[@]}"; do
		has_tool "$t" || continue
		if [[ -z ${bin[$t]:-} ]]; then
			printf '%s\tskipped\t%s\n' "$t" "${skipped[$t]}"
			continue
		fi
		printf '%s\tmeasured\t%s' "$t" "${version[$t]}"
		for c in "${cols[@]}"; do
			case $c in
			tp_ratio) v=$(awk -v p="$(med "$t" tp_s)" -v f="$floor_med" 'BEGIN { if (p == "n/a" || f + 0 == 0) print "n/a"; else printf "%.2f", p / f }') ;;
			failures) v=$(($(total "$t" tp_failed) + $(total "$t" stack_failed))) ;;
			not_whole | split | altered | disordered | misnamed | left_*) v=$(total "$t" "$c") ;;
			orphans* | ctrl_c_exit | final_line | fail_exit | fail_stops) v=$(one "$t" "$c") ;;
			# A shutdown that left instances running has no time: n/a if any run did.
			shutdown_*_s) if [[ $(values "$t" "$c") == *n/a* ]]; then v=n/a; else v=$(med "$t" "$c"); fi ;;
			*) v=$(med "$t" "$c") ;;
			esac
			printf '\t%s' "${v:-n/a}"
		done
		printf '\n'
	done
} >"$outdir/peers.tsv"

"$here/table.sh" "$outdir/peers.tsv" >"$outdir/peers.md"
cat "$outdir/peers.md"
note "wrote $outdir/peers.tsv, $outdir/raw.tsv and $outdir/peers.md"
