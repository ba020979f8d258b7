package runner

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/proctor-run/proctor/internal/procenv"
)

// The guardian is a small process that outlives proctor for one purpose: if
// proctor dies without shutting down (kill -9, a crash, the OOM killer), it
// stops every process group proctor started. The parent-death signal alone
// reaches only proctor's direct children, the `/bin/sh -c` shells, and not
// the servers they started; on macOS there is no parent-death signal at all.
//
// proctor starts the guardian as a direct child in its own process group,
// without a parent-death signal, and keeps the write end of a pipe to its
// stdin. It writes one line per event:
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
// names the processes of this run and no other.

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

// Guard runs the guardian: it reads events from r (proctor's pipe) until end
// of file and returns the exit code for the guardian process. grace is the
// time between SIGTERM and SIGKILL when proctor died.
func Guard(r io.Reader, grace time.Duration) int {
	// The guardian must survive what is sent to proctor's terminal and to
	// proctor itself; it ends by end of file only.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	groups, token, bye := readGuardEvents(r)
	if bye {
		return 0
	}
	own := syscall.Getpgrp()
	carriers := func() {
		for _, pgid := range tokenGroups(token) {
			if pgid > 1 && pgid != own {
				groups[pgid] = true
			}
		}
	}
	carriers()
	stopGroups(groups, grace, 20*time.Millisecond)
	// What forked into a new group while the others stopped gets no grace.
	groups = map[int]bool{}
	carriers()
	stopGroups(groups, 0, 0)
	return 0
}

// tokenGroups returns the process groups of the processes whose
// environment holds the run's token. It finds none without a token, or
// without /proc.
func tokenGroups(token string) []int {
	if token == "" {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for _, pid := range procenv.Holding(guardTokenEnv + "=" + token) {
		if pgid, err := syscall.Getpgid(pid); err == nil && !seen[pgid] {
			seen[pgid] = true
			out = append(out, pgid)
		}
	}
	return out
}

// readGuardEvents applies the events read from r and returns the groups
// still listed at end of file, the run's token, and whether proctor said
// bye.
func readGuardEvents(r io.Reader) (groups map[int]bool, token string, bye bool) {
	groups = map[int]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == guardBye {
			return groups, token, true
		}
		if len(line) < 2 {
			continue
		}
		if line[0] == guardToken {
			token = line[1:]
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case guardAdd:
			groups[pgid] = true
		case guardRemove:
			delete(groups, pgid)
		}
	}
	return groups, token, false
}

// stopGroups sends SIGTERM to each group, polls until they are empty or
// grace has passed, then sends SIGKILL to those left. Polling is fine here:
// it happens once, after proctor died.
func stopGroups(groups map[int]bool, grace, poll time.Duration) {
	for pgid := range groups {
		if err := syscall.Kill(-pgid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
			delete(groups, pgid)
			continue
		}
		syscall.Kill(-pgid, syscall.SIGCONT) // a stopped group gets its SIGTERM now
	}
	deadline := time.Now().Add(grace)
	for len(groups) > 0 && time.Now().Before(deadline) {
		time.Sleep(poll)
		for pgid := range groups {
			if !groupAlive(pgid) {
				delete(groups, pgid)
			}
		}
	}
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// groupAlive reports whether any process is left in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// guardian is proctor's end of the pipe to the guardian process.
type guardian struct {
	pid int
	w   *os.File
}

// guardWriteTimeout bounds a write to the guardian, so that a stuck guardian
// cannot stall the supervisor.
const guardWriteTimeout = time.Second

// send writes one event; after an error the guardian is given up.
func (g *guardian) send(event string) error {
	if g == nil || g.w == nil {
		return nil
	}
	g.w.SetWriteDeadline(time.Now().Add(guardWriteTimeout))
	if _, err := g.w.WriteString(event + "\n"); err != nil {
		g.w.Close()
		g.w = nil
		return err
	}
	return nil
}

func (g *guardian) token(token string) error { return g.send(string(guardToken) + token) }
func (g *guardian) add(pgid int) error       { return g.send(string(guardAdd) + strconv.Itoa(pgid)) }
func (g *guardian) remove(pgid int) error    { return g.send(string(guardRemove) + strconv.Itoa(pgid)) }

// close tells the guardian that proctor shut down normally.
func (g *guardian) close() {
	if g == nil || g.w == nil {
		return
	}
	g.send(guardBye)
	if g.w != nil {
		g.w.Close()
		g.w = nil
	}
}
