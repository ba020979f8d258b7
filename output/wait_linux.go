package output

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// readyWaiter waits until a pipe or pty has something to read (data, its
// end, or an error) without a read buffer, so that a Copy of a quiet child
// holds none: 100 idle instances would otherwise keep 200 buffers, most of
// proctor's heap. It also enlarges the pipe of a fast child.
type readyWaiter struct {
	rc    syscall.RawConn
	woken bool
	check func(fd uintptr) bool // w.ready, bound once
	pfd   [1]unix.PollFd
}

// newReadyWaiter returns a waiter for r, or nil when r is not a file
// descriptor in the runtime poller (then Copy keeps its buffer and blocks
// in Read).
func newReadyWaiter(r io.Reader) *readyWaiter {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &readyWaiter{rc: rc}
	w.check = w.ready
	return w
}

// wait returns once a Read is worth trying. A spurious wakeup only means
// that Read waits in its turn, holding a buffer.
func (w *readyWaiter) wait() {
	w.woken = false
	_ = w.rc.Read(w.check) // on error (closed, not pollable) Read reports it
}

// ready is called by the poller: at once, and again each time the
// descriptor becomes readable. The first time it asks poll(2), without
// waiting, whether a Read would return at once; false makes the poller
// wait. (Counting the bytes waiting is not enough: a pipe whose writers
// are all gone has none, and the poller was told so before this wait.)
func (w *readyWaiter) ready(fd uintptr) bool {
	if w.woken {
		return true
	}
	w.woken = true
	w.pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	n, err := unix.Poll(w.pfd[:], 0)
	return err != nil || n > 0
}

// enlarge asks for a pipe of size bytes, and reports whether it got it
// (not a pipe, or over a limit: no).
func (w *readyWaiter) enlarge(size int) bool {
	var err error
	if cerr := w.rc.Control(func(fd uintptr) {
		_, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
	}); cerr != nil {
		return false
	}
	return err == nil
}
