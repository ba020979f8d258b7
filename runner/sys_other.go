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

// childPipe makes a pipe for one of a child's standard streams: child is
// the end the child gets (the read end when childReads, for its stdin),
// own the end proctor keeps.
func childPipe(childReads bool) (child, own *os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	if childReads {
		return r, w, nil
	}
	return w, r, nil
}
