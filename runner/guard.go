package runner

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// The guardian is a small process that outlives proctor for one purpose: if
// proctor dies without shutting down (kill -9, a crash, the OOM killer), it
// stops every process group proctor started. The parent-death signal alone
// reaches only proctor's direct children (each instance's shell or
// program), not what they started; on macOS there is no parent-death signal
// at all.
//
// The guardian is a small static program on Linux x86-64 and a shell script
// elsewhere (see GuardianCommand). proctor starts it as a direct child in
// its own process group, with an empty environment, without a parent-death
// signal, and keeps the write end of a pipe to its stdin. It writes one line per event:
//
//	=TOKEN  the token of this run (first, before any group)
//	+PGID   a process group was started
//	-PGID   that process group is empty (every member is gone)
//	bye     proctor is shutting down normally; exit without killing
//
// When the guardian reads end of file without "bye", proctor died: it sends
// SIGTERM to every group still listed, waits up to the grace period for the
// groups to empty, and sends SIGKILL to what is left. A group is removed only
// once it is empty, and a process group id cannot be reused while any member
// lives, so the guardian never signals a stranger's group.
//
// The token covers what the list cannot: every instance is started with
// PROCTOR_GUARD_TOKEN=TOKEN in its environment, which its descendants
// inherit, and on Linux the guardian also stops the group of every process
// whose environment holds it. That reaches a group whose "+PGID" proctor had
// no time to write (it is written just after the shell starts, and a kill -9
// can land in between) and a descendant that moved itself into a new session
// (setsid), which no group of the list holds. The token is random, so it
// names the processes of this run and no other. The guardian ignores
// SIGINT, SIGTERM, SIGHUP and SIGQUIT: it must survive what is sent to
// proctor's terminal and to proctor itself, and ends by end of file only.

// guardProtocol is the guardian's vocabulary.
const (
	guardToken  = '='
	guardAdd    = '+'
	guardRemove = '-'
	guardBye    = "bye"
)

// guardTokenEnv is the variable that carries the run's token to every
// instance and its descendants.
const guardTokenEnv = "PROCTOR_GUARD_TOKEN"

// guardianEnv, set to "script", makes proctor run the script guardian
// where it would run the compiled one.
const guardianEnv = "PROCTOR_GUARDIAN"

// GuardianName is the guardian's name in its command line ($0 of its
// script), by which ps, tests and benchmarks tell it from the instances.
const GuardianName = "proctor-guardian"

// GuardianCommand is the command line of the guardian process for a grace
// period of grace between SIGTERM and SIGKILL. On Linux x86-64 it runs the
// compiled guardian (guardian/guardian.c, embedded in proctor and executed
// from a memfd): about 24 KiB of memory where a shell takes 1.7 MiB and a
// second copy of proctor 8 MiB. Elsewhere, or when the kernel will not run
// it, a POSIX shell runs guardScript, which does the same; so it does when
// PROCTOR_GUARDIAN=script is in proctor's environment (for hosts whose
// security tools object to a program executed from memory). The name
// GuardianName is the first argument of either.
func GuardianCommand(grace time.Duration) []string {
	if os.Getenv(guardianEnv) == "script" {
		return scriptGuardianCommand(grace)
	}
	if path := compiledGuardianPath(); path != "" {
		return compiledGuardianCommand(path, grace)
	}
	return scriptGuardianCommand(grace)
}

// compiledGuardianCommand runs the compiled guardian at path.
func compiledGuardianCommand(path string, grace time.Duration) []string {
	return []string{path, GuardianName, strconv.FormatInt(grace.Milliseconds(), 10)}
}

// scriptGuardianCommand runs guardScript under /bin/sh.
func scriptGuardianCommand(grace time.Duration) []string {
	return []string{shellPath, "-c", guardScript, GuardianName, strconv.FormatInt(grace.Milliseconds(), 10)}
}

// scriptInstead returns the script's command line for the compiled
// guardian's argv (same arguments after the path), or nil for any other.
func scriptInstead(argv []string) []string {
	if path := compiledGuardianPath(); path == "" || len(argv) == 0 || argv[0] != path {
		return nil
	}
	return append([]string{shellPath, "-c", guardScript}, argv[1:]...)
}

// guardScript is the guardian where the compiled one is not available, and
// the model guardian/guardian.c follows rule for rule. Its arguments: the
// grace period in milliseconds, and "list" only in tests, which makes it
// print what it read at end of file instead of stopping anything. It reads
// events with the shell's read builtin, keeping the listed groups in one
// space-delimited string; only when proctor has died does it run other
// programs (grep and sleep, from the system's own directories). Group ids
// are digits without a leading zero, more than 1 and fewer than ten digits;
// anything else is ignored, as is a group listed twice.
//
// The token search reads /proc/PID/environ with GNU or BSD grep -z (NUL
// separated lines; -x the whole entry), and is skipped where /proc is not
// this process's PID namespace's (its /proc/self is not $$) or there is no
// /proc (macOS).
const guardScript = `PATH=/usr/bin:/bin
trap '' INT TERM HUP QUIT PIPE
grace=$1 mode=$2 groups=' ' token=
add() { case $groups in *" $1 "*) ;; *) groups="$groups$1 " ;; esac; }
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	bye) exit 0 ;;
	=?*) token=${line#=} ;;
	[+-][1-9]*)
		id=${line#?}
		case $id in *[!0-9]* | ??????????* | 1) continue ;; esac
		case $line in
		+*) add "$id" ;;
		*) case $groups in *" $id "*) groups="${groups%% $id *} ${groups#* $id }" ;; esac ;;
		esac
		;;
	esac
	line=
done
if [ "$mode" = list ]; then
	printf 'token=%s\ngroups=%s\n' "$token" "$groups"
	exit 0
fi
carriers() {
	[ -n "$token" ] || return 0
	self=
	read -r self _ 2>/dev/null </proc/self/stat
	[ "$self" = "$$" ] || return 0
	for f in $(grep -lsaxzF "PROCTOR_GUARD_TOKEN=$token" /proc/[0-9]*/environ); do
		p=${f#/proc/} s=
		read -r s 2>/dev/null <"/proc/${p%/environ}/stat" || continue
		set -- ${s##*) }
		case ${3:-0} in 0 | 1 | "$$") ;; *) add "$3" ;; esac
	done
}
stop() {
	left=
	for g in $groups; do
		kill -s TERM -- "-$g" 2>/dev/null && kill -s CONT -- "-$g" 2>/dev/null
		kill -s 0 -- "-$g" 2>/dev/null && left="$left $g"
	done
	n=$1
	while [ -n "$left" ] && [ "$n" -gt 0 ]; do
		sleep 0.02
		n=$((n - 1)) still=
		for g in $left; do kill -s 0 -- "-$g" 2>/dev/null && still="$still $g"; done
		left=$still
	done
	for g in $left; do kill -s KILL -- "-$g" 2>/dev/null; done
}
carriers
stop $((grace / 20))
groups=' '
carriers
stop 0
`

// groupAlive reports whether any process is left in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// guardian is proctor's end of the pipe to the guardian process. Events are
// queued and written together by flush, which the supervisor calls when it
// has no event waiting (while shutting down, guardShutdownWait later): a
// start of 100 instances, or their exits at shutdown, wake the guardian once
// rather than 100 times. What is still queued when proctor is killed is
// covered by the token: the guardian also stops every process that carries
// it.
type guardian struct {
	pid     int
	w       *os.File
	pending []byte // events not written yet, one per line
	urgent  bool   // pending holds the token or an added group: no shutdown wait
}

// guardWriteTimeout bounds a write to the guardian, so that a stuck guardian
// cannot stall the supervisor.
const guardWriteTimeout = time.Second

// guardFlushAt is how many queued bytes make send write at once.
const guardFlushAt = 4096

// guardShutdownWait is how long the guardian's removals wait once proctor is
// shutting down (see shell.loop). Should proctor be killed meanwhile, the
// guardian signals those groups, which are empty: only the reuse of their
// ids within this time would make one a stranger's, and pids are not
// reused that fast.
const guardShutdownWait = 20 * time.Millisecond

// send queues one event, and writes the queue once it is long.
func (g *guardian) send(event string) error {
	if g == nil || g.w == nil {
		return nil
	}
	g.pending = append(append(g.pending, event...), '\n')
	if len(g.pending) >= guardFlushAt {
		return g.flush()
	}
	return nil
}

// queued reports whether events wait for flush.
func (g *guardian) queued() bool { return g != nil && len(g.pending) > 0 }

// flush writes the queued events; after an error the guardian is given up.
func (g *guardian) flush() error {
	if g == nil || g.w == nil || len(g.pending) == 0 {
		return nil
	}
	g.w.SetWriteDeadline(time.Now().Add(guardWriteTimeout))
	_, err := g.w.Write(g.pending)
	g.pending, g.urgent = g.pending[:0], false
	if err != nil {
		g.w.Close()
		g.w = nil
	}
	return err
}

func (g *guardian) token(token string) error { return g.sendUrgent(string(guardToken) + token) }
func (g *guardian) add(pgid int) error       { return g.sendUrgent(string(guardAdd) + strconv.Itoa(pgid)) }
func (g *guardian) remove(pgid int) error    { return g.send(string(guardRemove) + strconv.Itoa(pgid)) }

// sendUrgent queues an event that must not wait for a shutdown: a group the
// guardian does not know of is one it cannot stop (on macOS, or where no
// token reaches it).
func (g *guardian) sendUrgent(event string) error {
	if g != nil && g.w != nil {
		g.urgent = true
	}
	return g.send(event)
}

// deferrable reports whether the queued events may wait while proctor
// shuts down: only removals of groups that ended are queued.
func (g *guardian) deferrable() bool { return g != nil && !g.urgent }

// close tells the guardian that proctor shut down normally. Events still
// queued are dropped: after "bye" the guardian stops nothing, so they would
// change nothing, and the script guardian reads its input a byte at a time
// (the shell's read builtin on a pipe), so the removals of 100 groups that
// ended together would delay its exit, and proctor's, by milliseconds.
func (g *guardian) close() {
	if g == nil || g.w == nil {
		return
	}
	g.pending, g.urgent = g.pending[:0], false
	if g.send(guardBye) == nil {
		g.flush()
	}
	if g.w != nil {
		g.w.Close()
		g.w = nil
	}
}
