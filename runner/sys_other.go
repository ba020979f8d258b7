//go:build unix && !linux

package runner

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group (or, with a tty, its
// own session with the tty as controlling terminal). There is no
// parent-death signal outside Linux.
func sysProcAttr(tty bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if tty {
		a.Setsid, a.Setctty, a.Ctty = true, true, 0
	} else {
		a.Setpgid = true
	}
	return a
}

// becomeSubreaper does nothing: only Linux has child subreapers.
func becomeSubreaper() error { return nil }

// subreaper reports whether orphaned descendants come back to proctor.
const subreaper = false

// hasChildren reports whether proctor has a child left. Without a child
// subreaper no stranger is adopted, and the reaper's word is taken.
func hasChildren() bool { return false }

// stdinPipe makes the pipe the instances share as their standard input:
// r is theirs, w is the end proctor holds open.
func stdinPipe() (r, w *os.File, err error) { return os.Pipe() }

// outputPipe makes a pipe for a child's stdout or stderr: child is its
// write end, and own the read end proctor keeps, non-blocking, for
// output.Mux.CopyPipe.
func outputPipe() (child, own int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, -1, os.NewSyscallError("pipe", err)
	}
	if err := syscall.SetNonblock(p[0], true); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return -1, -1, os.NewSyscallError("fcntl", err)
	}
	return p[1], p[0], nil
}

// threadID returns 0: only Linux's listChildren reads threads' children.
func threadID() int { return 0 }
