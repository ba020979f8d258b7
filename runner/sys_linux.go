package runner

import (
	"errors"
	"os"
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

// childPipe makes a pipe for one of a child's standard streams: child is
// the end the child gets (the read end when childReads, for its stdin),
// own the end proctor keeps. The child's end, and proctor's end of a stdin
// pipe, which proctor only holds open, are plain blocking descriptors; only
// the end proctor reads is non-blocking, in the runtime poller. os.Pipe
// would put both ends in the poller, and each child end would then cost a
// poller registration, its removal and two fcntl calls (Fd makes it
// blocking again for the child): about 1,000 system calls for 100
// instances.
func childPipe(childReads bool) (child, own *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	if childReads {
		return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(p[1]), "|1"), os.NewFile(uintptr(p[0]), "|0"), nil
}
