package runner

import (
	"io"
	"slices"
	"sync"
)

// fanout copies the raw output of an instance with a terminal (Options.TTY) to attached terminals.
// The reader goroutine calls write for every chunk it reads; it never
// blocks: each sink has a bounded queue, and a chunk a sink has no room for
// is dropped for that sink only.
type fanout struct {
	mu     sync.Mutex
	sinks  []*sink
	closed bool
}

// sinkQueue is how many chunks an attached terminal may lag behind.
const sinkQueue = 256

// sink is one attached writer, served by its own goroutine.
type sink struct {
	f       *fanout
	ch      chan []byte
	done    chan struct{}
	endOnce sync.Once
}

// add attaches w. If the instance's output already ended, the sink is
// returned already done.
func (f *fanout) add(w io.Writer) *sink {
	s := &sink{f: f, ch: make(chan []byte, sinkQueue), done: make(chan struct{})}
	go s.run(w)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		s.end()
		return s
	}
	f.sinks = append(f.sinks, s)
	return s
}

func (s *sink) run(w io.Writer) {
	defer close(s.done)
	failed := false
	for b := range s.ch {
		if !failed {
			_, err := w.Write(b)
			failed = err != nil
		}
	}
}

// end closes the sink's queue; called with f.mu held.
func (s *sink) end() { s.endOnce.Do(func() { close(s.ch) }) }

// close detaches the sink and waits until its goroutine is done.
func (s *sink) close() {
	s.f.mu.Lock()
	s.f.sinks = slices.DeleteFunc(s.f.sinks, func(x *sink) bool { return x == s })
	s.end()
	s.f.mu.Unlock()
	<-s.done
}

func (f *fanout) write(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sinks) == 0 {
		return
	}
	b := slices.Clone(p)
	for _, s := range f.sinks {
		select {
		case s.ch <- b:
		default: // the terminal lags: drop rather than slow the instance
		}
	}
}

// close ends every sink: the instance's output is over.
func (f *fanout) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, s := range f.sinks {
		s.end()
	}
	f.sinks = nil
}

// teeReader reads from r and copies what it reads to f.
type teeReader struct {
	r io.Reader
	f *fanout
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.f.write(p[:n])
	}
	return n, err
}
