package runner

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in its own process group (or, with a tty, its
// own session with the tty as controlling terminal) and asks the kernel to
// SIGKILL it if proctor's spawning thread dies, so that a SIGKILL of proctor
// does not leave the stack running unsupervised.
func sysProcAttr(tty bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if tty {
		a.Setsid, a.Setctty, a.Ctty = true, true, 0
	} else {
		a.Setpgid = true
	}
	return a
}

// becomeSubreaper makes proctor the parent of every orphaned descendant
// (double fork, setsid), so that it can reap and signal them.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// subreaper reports whether orphaned descendants come back to proctor.
const subreaper = true

// hasChildren reports whether proctor has a child, running or not yet
// reaped. It uses WNOWAIT, so it takes no exit status from the reaper.
func hasChildren() bool {
	var info unix.Siginfo
	var err error = unix.EINTR
	for errors.Is(err, unix.EINTR) {
		err = unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	}
	return !errors.Is(err, unix.ECHILD)
}
