package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// Errors of control requests.
var (
	// ErrNotRunning is returned by requests to a Runner that is not running.
	ErrNotRunning = errors.New("proctor is not running")
	// ErrUnknownName is wrapped when a name is neither an instance nor a type.
	ErrUnknownName = errors.New("no such process")
	// ErrShuttingDown is returned for requests that would start or stop
	// processes while the stack shuts down.
	ErrShuttingDown = errors.New("proctor is shutting down")
	// ErrNotTTY is wrapped when attaching to an instance without a terminal.
	ErrNotTTY = errors.New("not running in a terminal")
	// ErrNotAlive is wrapped when attaching to an instance with no process.
	ErrNotAlive = errors.New("not running")
)

// Status is a snapshot of one instance, as `proctor ps` shows it.
type Status struct {
	Name     string
	Type     string
	PID      int // 0 when no process runs
	State    State
	Uptime   time.Duration // since the current process started; 0 when none runs
	Restarts int
	Port     int
	Ready    bool
}

// call runs op on the shell goroutine and waits for its reply, which op
// gives exactly once, at once or later (when the instances it waits for
// have changed state).
func call[T any](r *Runner, op func(s *shell, reply func(T))) (T, error) {
	replies := make(chan T, 1)
	req := func(s *shell) {
		replied := false
		op(s, func(v T) {
			if !replied {
				replied = true
				replies <- v
			}
		})
	}
	var zero T
	select {
	case r.requests <- req:
	case <-r.done:
		return zero, ErrNotRunning
	}
	select {
	case v := <-replies:
		return v, nil
	case <-r.done:
		// The shell answers every request before it ends; a reply may
		// still be in the channel.
		select {
		case v := <-replies:
			return v, nil
		default:
			return zero, ErrNotRunning
		}
	}
}

// ask hands a request event, made with its id, to the machine and waits
// for the machine's answer.
func ask(r *Runner, request func(id uint64) event) error {
	err, callErr := call(r, func(s *shell, reply func(error)) {
		s.handle(request(s.expect(reply)))
	})
	if callErr != nil {
		return callErr
	}
	return err
}

// Status returns a snapshot of every instance, in Procfile order and by
// number.
func (r *Runner) Status() ([]Status, error) {
	return call(r, func(s *shell, reply func([]Status)) { reply(s.m.Status(s.opts.Now())) })
}

// Stop stops an instance, or every instance of a type, without stopping the
// rest of the stack: SIGTERM to its group, SIGKILL after the timeout. It
// returns once they have exited. A stopped instance is not restarted.
func (r *Runner) Stop(name string) error {
	return ask(r, func(id uint64) event { return evStop{id, name} })
}

// Restart restarts an instance, or every instance of a type one after
// another: each is stopped (SIGTERM, SIGKILL after the timeout) and started
// again before the next. It returns once the last one has started.
func (r *Runner) Restart(name string) error {
	return ask(r, func(id uint64) event { return evRestart{id, name} })
}

// Changed restarts the instances of typ, one after another, because files
// it watches changed (path, and more others); the stream says which. It
// returns once the last has started again.
func (r *Runner) Changed(typ, path string, more int) error {
	return ask(r, func(id uint64) event { return evChanged{id, typ, path, more} })
}

// WaitReady returns once every instance of the named types is ready (see
// the machine's waitRequest for no names), or ErrShuttingDown when the stack
// stops first.
func (r *Runner) WaitReady(types []string) error {
	return ask(r, func(id uint64) event { return evWait{id, types} })
}

// Scale changes the formation of the running stack: each named type gets
// Count instances. New instances take the next numbers and their ports;
// surplus instances stop, highest number first, and leave the list. Types
// not named are untouched. It returns once the new instances have started
// and the surplus ones have exited. On a bad request nothing changes.
func (r *Runner) Scale(counts []procfile.TypeCount) error {
	return ask(r, func(id uint64) event { return evScale{id, counts} })
}

// Attachment connects a terminal to an instance that has one: what is written to it
// goes to the instance as keystrokes, and the instance's raw output is
// copied to the writer given to Attach until Close or the instance's end.
type Attachment struct {
	term *os.File
	sink *sink

	mu     sync.Mutex
	closed bool
}

// errDetached is returned by Write after Close.
var errDetached = errors.New("detached")

// Write sends keystrokes to the instance's terminal. It blocks while the
// terminal's input buffer is full (the instance does not read), until Close.
func (a *Attachment) Write(p []byte) (int, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return 0, errDetached
	}
	// Another attachment's Close may have left a deadline in the past.
	a.term.SetWriteDeadline(time.Time{})
	a.mu.Unlock()
	return a.term.Write(p)
}

// Resize sets the instance's window size; it gets SIGWINCH.
func (a *Attachment) Resize(size WindowSize) error { return SetWindowSize(a.term, size) }

// Done is closed when the instance's terminal closes (the instance exited).
func (a *Attachment) Done() <-chan struct{} { return a.sink.done }

// Close detaches: output stops being copied; the instance keeps running.
// A Write blocked on a terminal nobody reads is woken and fails. Close
// returns once nothing more will be written to the Attach writer.
func (a *Attachment) Close() error {
	a.mu.Lock()
	a.closed = true
	// The deadline is the terminal's, shared by every attachment of the
	// instance; their next Write clears it.
	a.term.SetWriteDeadline(time.Unix(1, 0))
	a.mu.Unlock()
	a.sink.close()
	return nil
}

// Attach connects to the terminal of a running instance started with a
// terminal (Options.TTY); its raw output is copied to out (a slow out
// loses output rather than slowing the instance).
func (r *Runner) Attach(name string, out io.Writer) (*Attachment, error) {
	type result struct {
		a   *Attachment
		err error
	}
	res, err := call(r, func(s *shell, reply func(result)) {
		units, err := s.m.lookup(name)
		if err == nil && (len(units) != 1 || units[0].Name != name) {
			err = fmt.Errorf("%w: attach takes an instance name such as %s.1, not a type", ErrUnknownName, name)
		}
		if err != nil {
			reply(result{err: err})
			return
		}
		proc := s.procs[units[0].pid]
		switch {
		case !s.opts.TTY:
			reply(result{err: fmt.Errorf("%s: %w", name, ErrNotTTY)})
		case proc == nil || proc.raw == nil:
			reply(result{err: fmt.Errorf("%s: %w", name, ErrNotAlive)})
		default:
			reply(result{a: &Attachment{term: proc.tty, sink: proc.raw.add(out)}})
		}
	})
	if err != nil {
		return nil, err
	}
	return res.a, res.err
}
