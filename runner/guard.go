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
//	+PGID   a process group was started
//	-PGID   that process group is empty (every member is gone)
//	bye     proctor is shutting down normally; exit without killing
//
// When the guardian reads end of file without "bye", proctor died: it sends
// SIGTERM to every group still listed, waits up to the grace period for the
// groups to empty, and sends SIGKILL to what is left. A group is removed only
// once it is empty, and a process group id cannot be reused while any member
// lives, so the guardian never signals a stranger's group.

// guardProtocol is the guardian's vocabulary.
const (
	guardAdd    = '+'
	guardRemove = '-'
	guardBye    = "bye"
)

// Guard runs the guardian: it reads events from r (proctor's pipe) until end
// of file and returns the exit code for the guardian process. grace is the
// time between SIGTERM and SIGKILL when proctor died.
func Guard(r io.Reader, grace time.Duration) int {
	// The guardian must survive what is sent to proctor's terminal and to
	// proctor itself; it ends by end of file only.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	groups, bye := readGuardEvents(r)
	if bye || len(groups) == 0 {
		return 0
	}
	stopGroups(groups, grace, 20*time.Millisecond)
	return 0
}

// readGuardEvents applies the events read from r and returns the groups
// still listed at end of file, and whether proctor said bye.
func readGuardEvents(r io.Reader) (groups map[int]bool, bye bool) {
	groups = map[int]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == guardBye {
			return groups, true
		}
		if len(line) < 2 {
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
	return groups, false
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

func (g *guardian) add(pgid int) error    { return g.send(string(guardAdd) + strconv.Itoa(pgid)) }
func (g *guardian) remove(pgid int) error { return g.send(string(guardRemove) + strconv.Itoa(pgid)) }

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
