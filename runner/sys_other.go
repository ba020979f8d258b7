//go:build unix && !linux

package runner

import "syscall"

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
