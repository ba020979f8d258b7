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

// stdinPipe makes the pipe the instances share as their standard input:
// r is theirs, w is the end proctor holds open. Both are plain blocking
// descriptors, outside the runtime poller (os.Pipe would put them in it,
// and each child end would then cost a poller registration, its removal
// and two fcntl calls).
func stdinPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}

// outputPipe makes a pipe for a child's stdout or stderr: child is its
// write end, a plain blocking descriptor, and own the read end proctor
// keeps, non-blocking, for output.Mux.CopyPipe (or os.NewFile, which puts
// it in the runtime poller). Neither is an *os.File: that would cost an
// fcntl and a finalizer for each of 200 descriptors of a stack of 100.
func outputPipe() (child, own int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, os.NewSyscallError("pipe2", err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return -1, -1, os.NewSyscallError("fcntl", err)
	}
	return p[1], p[0], nil
}

// threadID returns the id of the calling thread.
func threadID() int { return unix.Gettid() }
