package output

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// errWouldBlock is what a pipe of the pipe loop reads when it has nothing
// yet (EAGAIN): the loop waits for it again.
var errWouldBlock = errors.New("read would block")

// pipeFiles are the pipes of CopyPipe read by goroutines (a fast child,
// or every pipe where there is no pipe loop), closed by AbortPipes.
type pipeFiles struct {
	mu      sync.Mutex
	files   map[*os.File]struct{}
	aborted bool
}

// add tracks f, or reports false after AbortPipes.
func (p *pipeFiles) add(f *os.File) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.aborted {
		return false
	}
	if p.files == nil {
		p.files = map[*os.File]struct{}{}
	}
	p.files[f] = struct{}{}
	return true
}

func (p *pipeFiles) remove(f *os.File) {
	p.mu.Lock()
	delete(p.files, f)
	p.mu.Unlock()
}

// isAborted reports whether abort was called.
func (p *pipeFiles) isAborted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.aborted
}

// abort closes every tracked file, and those added later at once.
func (p *pipeFiles) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aborted = true
	for f := range p.files {
		f.Close()
	}
}

// CopyPipe copies the read end of a pipe, fd, into the output as Copy
// does, and calls done with what Copy would return once fd is at its end
// and closed. fd must be non-blocking; the Mux owns it from then on.
// CopyPipe returns at once.
//
// On Linux one goroutine reads every such pipe, woken by one epoll
// instance: 100 instances (200 pipes) cost no goroutine each, no read
// buffer while quiet, and at shutdown their 200 ends of file are read in
// a few batches instead of waking 200 goroutines. A child whose reads
// fill the buffer (a fast child) gets a goroutine of its own, as with
// Copy. done runs on that goroutine or the loop's: it must return soon
// (System is fine) and must not call Close.
func (m *Mux) CopyPipe(name string, stream Stream, fd int, done func(error)) {
	m.ensure(name)
	if l := m.pipeLoop(); l != nil {
		if err := l.add(name, stream, fd, done); err == nil {
			return
		}
	}
	m.copyPipeFile(name, stream, os.NewFile(uintptr(fd), "|"+name), nil, done)
}

// copyPipeFile copies f, tracked for AbortPipes, on a goroutine of its own,
// continuing from l when l is not nil (a fast child leaving the pipe loop).
func (m *Mux) copyPipeFile(name string, stream Stream, f *os.File, l *copyLoop, done func(error)) {
	if !m.pipeFiles.add(f) {
		f.Close()
		if l != nil {
			l.flush()
			l.c.stopTimer()
			l.release()
		}
		done(fmt.Errorf("%s: %w", name, os.ErrClosed))
		return
	}
	go func() {
		var err error
		if l == nil {
			err = m.Copy(name, stream, f)
		} else {
			err = l.follow(f)
		}
		m.pipeFiles.remove(f)
		f.Close()
		done(err)
	}()
}

// AbortPipes closes the pipes given to CopyPipe that are still open, and
// those given later: their copies end, with an error wrapping
// os.ErrClosed. It is for pipes a process outside the caller's reach
// holds open.
func (m *Mux) AbortPipes() {
	m.pipeFiles.abort()
	if l := m.pipeLoopIfStarted(); l != nil {
		l.abort()
	}
}
