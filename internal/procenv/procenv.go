// Package procenv finds processes by an entry of their environment, read
// from /proc/PID/environ, and lists the processes of /proc. The tests use it
// to find what a test started (proctor's guardian does the same search on
// its own, see runner.GuardianCommand); the runner lists processes with
// PIDs.
// An environment entry is inherited by every descendant that does not clear
// it, so it names them even after they left their process group or session,
// or were adopted by init. Linux only: where there is no /proc (macOS), no
// process is ever found.
package procenv

import (
	"bytes"
	"os"
	"strconv"
)

// PIDs lists the processes in /proc, or none when that /proc is not of this
// process's PID namespace: in a new namespace without its own /proc mount,
// /proc shows the host, whose pids name other processes (pid 1 there is the
// host's init).
func PIDs() []int {
	if link, err := os.Readlink("/proc/self"); err != nil || link != strconv.Itoa(os.Getpid()) {
		return nil
	}
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Holding returns the live processes, other than this one, whose environment
// holds the entry kv ("NAME=value"). A zombie has no environment left, and a
// process this one may not read (another user's) is skipped.
func Holding(kv string) []int {
	want := []byte(kv + "\x00")
	self := os.Getpid()
	var out []int
	for _, pid := range PIDs() {
		if pid == self {
			continue
		}
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && holds(environ, want) {
			out = append(out, pid)
		}
	}
	return out
}

// holds reports whether environ, NUL-separated entries, holds the entry
// want (which ends with its NUL).
func holds(environ, want []byte) bool {
	if len(environ) > 0 && environ[len(environ)-1] != 0 {
		environ = append(environ, 0)
	}
	return bytes.HasPrefix(environ, want) || bytes.Contains(environ, append([]byte{0}, want...))
}
