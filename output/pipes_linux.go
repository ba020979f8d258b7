package output

import (
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeLoop reads the pipes of CopyPipe: one goroutine, one epoll instance
// (level-triggered), one read per ready pipe and wakeup. The epoll
// instance is itself a descriptor in the runtime poller, readable when a
// pipe is ready, so the loop parks like any goroutine waiting for a read:
// no thread is held, and a quiet stack wakes nothing.
type pipeLoop struct {
	m    *Mux
	epfd int
	ep   *os.File        // epfd, kept in the runtime poller
	rc   syscall.RawConn // ep's
	wake int             // an eventfd in the epoll set: abort and stop

	mu       sync.Mutex
	pipes    map[int32]*loopPipe // by descriptor
	aborted  bool                // AbortPipes was called
	stopped  bool                // Close was called, or the loop failed
	released bool                // wake is closed: stop has returned
	exited   chan struct{}
}

// loopPipe is one pipe of the loop.
type loopPipe struct {
	fd   int
	c    copier
	l    copyLoop
	done func(error)
}

// fdReader reads a non-blocking descriptor: io.EOF at its end,
// errWouldBlock when it has nothing yet.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// pipeLoop returns the Mux's loop, started on first use, or nil when it
// cannot be (then CopyPipe falls back to a goroutine per pipe).
func (m *Mux) pipeLoop() *pipeLoop {
	m.loopOnce.Do(func() {
		if m.closed.Load() {
			return
		}
		if l, err := startPipeLoop(m); err == nil {
			m.loop.Store(l)
		}
	})
	return m.loop.Load()
}

// pipeLoopIfStarted returns the loop, or nil if none was started.
func (m *Mux) pipeLoopIfStarted() *pipeLoop { return m.loop.Load() }

func startPipeLoop(m *Mux) (*pipeLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev)
	if err != nil {
		err = os.NewSyscallError("epoll_ctl", err)
	} else if err = unix.SetNonblock(epfd, true); err != nil {
		// Non-blocking, it goes into the runtime poller (os.NewFile).
		err = os.NewSyscallError("fcntl", err)
	}
	if err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil, err
	}
	ep := os.NewFile(uintptr(epfd), "epoll")
	rc, err := ep.SyscallConn()
	if err != nil {
		unix.Close(wake)
		ep.Close()
		return nil, err
	}
	l := &pipeLoop{m: m, epfd: epfd, ep: ep, rc: rc, wake: wake, pipes: map[int32]*loopPipe{}, exited: make(chan struct{})}
	go l.run()
	return l, nil
}

// add gives fd to the loop, or returns an error and leaves fd to the
// caller. The check, the entry and the registration are one step under mu:
// an abort or a stop that ends the loop's pipes finds fd registered, or
// not at all.
func (l *pipeLoop) add(name string, stream Stream, fd int, done func(error)) error {
	p := &loopPipe{fd: fd, done: done}
	p.c = copier{m: l.m, name: name, f: newFormatter(&l.m.opts, name, stream)}
	// startBuf whatever the line limit (tests lower it): a read that fills
	// it marks a fast child.
	p.l = copyLoop{c: &p.c, r: fdReader(fd), polled: true, size: startBuf}
	l.mu.Lock()
	defer l.mu.Unlock()
	// An AbortPipes before the loop started marked only the files.
	if l.aborted || l.stopped || l.m.pipeFiles.isAborted() {
		return os.ErrClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.pipes[int32(fd)] = p
	return nil
}

// run is the loop's goroutine.
func (l *pipeLoop) run() {
	defer close(l.exited)
	evs := make([]unix.EpollEvent, 128)
	var (
		n    int
		werr error
	)
	ready := func(fd uintptr) bool {
		n, werr = unix.EpollWait(int(fd), evs, 0)
		return werr != nil || n > 0
	}
	for {
		if err := l.rc.Read(ready); err != nil {
			// Not in the runtime poller after all: wait in the system call.
			n, werr = unix.EpollWait(l.epfd, evs, -1)
		}
		if werr == unix.EINTR {
			continue
		}
		if werr != nil {
			// Not expected: the pipes go on, each on a goroutine of its own.
			l.mu.Lock()
			l.stopped = true
			left := l.takeAll()
			l.mu.Unlock()
			for _, p := range left {
				l.handOff(p)
			}
			return
		}
		for _, ev := range evs[:n] {
			if ev.Fd == int32(l.wake) {
				if l.woken() {
					return
				}
				continue
			}
			l.serve(ev.Fd)
		}
	}
}

// serve reads the pipe fd once, and ends it or hands it off as needed.
func (l *pipeLoop) serve(fd int32) {
	l.mu.Lock()
	p := l.pipes[fd]
	l.mu.Unlock()
	if p == nil {
		return
	}
	more, err := p.l.run()
	switch {
	case !more:
		l.finish(p, err)
	case p.l.fast:
		// A fast child: a goroutine of its own waits for it in the runtime
		// poller, and the others' lines do not wait behind its reads.
		l.remove(p)
		l.m.handoffs.Add(1)
		l.handOff(p)
	}
}

// handOff gives p, out of the loop, to a goroutine of its own (os.NewFile
// of a non-blocking descriptor puts it in the runtime poller).
func (l *pipeLoop) handOff(p *loopPipe) {
	f := os.NewFile(uintptr(p.fd), "|"+p.c.name)
	l.m.copyPipeFile(p.c.name, p.c.f.stream, f, &p.l, p.done)
}

// takeAll removes every pipe from the loop and returns them; called with
// mu held.
func (l *pipeLoop) takeAll() []*loopPipe {
	left := make([]*loopPipe, 0, len(l.pipes))
	for fd, p := range l.pipes {
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, p.fd, nil)
		delete(l.pipes, fd)
		left = append(left, p)
	}
	return left
}

// remove takes p out of the loop. Deleting it from the epoll set before
// closing matters: a child being forked holds a copy of every descriptor
// until its exec, and the set would keep reporting the copy's pipe.
func (l *pipeLoop) remove(p *loopPipe) {
	l.mu.Lock()
	delete(l.pipes, int32(p.fd))
	l.mu.Unlock()
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, p.fd, nil)
}

// finish ends p: closed, its memory given back, done called.
func (l *pipeLoop) finish(p *loopPipe, err error) {
	l.remove(p)
	l.end(p, err)
}

// end closes p, out of the loop, and calls its done.
func (l *pipeLoop) end(p *loopPipe, err error) {
	unix.Close(p.fd)
	p.c.stopTimer()
	p.l.release()
	p.done(err)
}

// abortAll ends every pipe left, writing the partial line each holds.
func (l *pipeLoop) abortAll() {
	l.mu.Lock()
	left := l.takeAll()
	l.mu.Unlock()
	for _, p := range left {
		p.l.flush()
		l.end(p, &os.PathError{Op: "read", Path: "pipe", Err: os.ErrClosed})
	}
}

// woken handles the eventfd and reports whether the loop must stop.
func (l *pipeLoop) woken() bool {
	var b [8]byte
	unix.Read(l.wake, b[:])
	l.mu.Lock()
	aborted, stopped := l.aborted, l.stopped
	l.mu.Unlock()
	if aborted || stopped {
		l.abortAll()
	}
	return stopped
}

// signal sets a flag and wakes the loop, under mu, unless the loop's
// descriptors are released (its wake descriptor's number may be another
// file's by now).
func (l *pipeLoop) signal(set func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	set()
	if !l.released {
		one := [8]byte{1}
		unix.Write(l.wake, one[:])
	}
}

// abort ends every pipe of the loop, and refuses new ones.
func (l *pipeLoop) abort() { l.signal(func() { l.aborted = true }) }

// stop ends the loop, once the pipes left (none, when used as documented)
// are ended, and releases its descriptors.
func (l *pipeLoop) stop() {
	l.signal(func() { l.stopped = true })
	<-l.exited
	l.mu.Lock()
	l.released = true
	unix.Close(l.wake)
	l.mu.Unlock()
	l.ep.Close()
}
