// Package proctest finds and ends the processes a test started. The
// end-to-end tests and the stress suite put a token in the environment of
// every proctor they run, which passes it on to everything it starts; a
// process's environment in /proc then says whose it is, even after it has
// left its process group or been adopted by init. Linux only: elsewhere
// no process is ever found.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/procenv"
)

// Token marks the processes of one test: Var=Value in their environment.
type Token struct {
	Var, Value string
}

// Env is the token as an environment entry, "Var=Value".
func (tk Token) Env() string { return tk.Var + "=" + tk.Value }

// Procs returns the live processes carrying the token (a zombie has no
// environment left to read).
func (tk Token) Procs() []int {
	return procenv.Holding(tk.Env())
}

// WaitGone waits until no process carries the token and returns how long
// that took; it fails the test naming the survivors after timeout. Nothing
// signals the end of a process that is not one's child, so it looks every
// 10 ms.
func (tk Token) WaitGone(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		left := tk.Procs()
		if len(left) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("processes still alive %v later: %s", timeout, Describe(left))
		}
		<-tick.C
	}
}

// Kill sends SIGKILL to every process carrying the token until none is
// left (a dying parent may fork once more); it reports survivors after 10
// seconds. It is for cleanup, pass or fail.
func (tk Token) Kill(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := tk.Procs()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("cleanup: processes survive SIGKILL: %s", Describe(left))
			return
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Describe lists pids with their command lines, for failure messages.
func Describe(pids []int) string {
	var parts []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		cmdline = bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})
		parts = append(parts, fmt.Sprintf("%d (%s)", pid, cmdline))
	}
	return strings.Join(parts, ", ")
}
