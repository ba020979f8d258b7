package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
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
	ErrNotTTY = errors.New("not running in a terminal (start proctor with --tty to attach)")
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

// request is a control request handled on the supervisor goroutine. op
// calls reply exactly once, at once or later (when the instances it waits
// for have changed state).
type request struct {
	op    func(s *supervisor, reply func(any))
	reply chan any
}

// do runs op on the supervisor goroutine and waits for its reply.
func (r *Runner) do(op func(s *supervisor, reply func(any))) (any, error) {
	req := request{op: op, reply: make(chan any, 1)}
	select {
	case r.requests <- req:
	case <-r.done:
		return nil, ErrNotRunning
	}
	select {
	case v := <-req.reply:
		return v, nil
	case <-r.done:
		// The supervisor answers every request before it ends; a reply
		// may still be in the channel.
		select {
		case v := <-req.reply:
			return v, nil
		default:
			return nil, ErrNotRunning
		}
	}
}

// doErr is do for requests whose reply is an error.
func (r *Runner) doErr(op func(s *supervisor, done func(error))) error {
	v, err := r.do(func(s *supervisor, reply func(any)) {
		op(s, func(err error) { reply(err) })
	})
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	return v.(error)
}

func (s *supervisor) onRequest(req request) {
	replied := false
	req.op(s, func(v any) {
		if !replied {
			replied = true
			req.reply <- v
		}
	})
}

// waiter is a control request waiting for instances to change state.
type waiter struct {
	ready func() bool
	done  func()
}

// await calls done once ready reports true, checked after every event.
func (s *supervisor) await(ready func() bool, done func()) {
	if ready() {
		done()
		return
	}
	s.waiters = append(s.waiters, &waiter{ready, done})
}

// checkWaiters completes the waiters whose condition now holds.
func (s *supervisor) checkWaiters() {
	for i := 0; i < len(s.waiters); {
		w := s.waiters[i]
		if w.ready() {
			s.waiters = slices.Delete(s.waiters, i, i+1)
			w.done()
			continue
		}
		i++
	}
}

// releaseWaiters completes every waiter: the supervisor is ending and
// nothing will change any more.
func (s *supervisor) releaseWaiters() {
	for _, w := range s.waiters {
		w.done()
	}
	s.waiters = nil
}

// Status returns a snapshot of every instance, in Procfile order and by
// number. It is safe to call from any goroutine while Run runs.
func (r *Runner) Status() ([]Status, error) {
	v, err := r.do(func(s *supervisor, reply func(any)) { reply(s.status()) })
	if err != nil {
		return nil, err
	}
	return v.([]Status), nil
}

func (s *supervisor) status() []Status {
	now := s.opts.Now()
	out := make([]Status, 0, len(s.insts))
	for _, in := range s.insts {
		st := Status{Name: in.Name, Type: in.Type, PID: in.pid, State: in.state, Restarts: in.restarts, Port: in.Port, Ready: in.ready}
		if in.alive() {
			st.Uptime = now.Sub(in.started)
		}
		out = append(out, st)
	}
	return out
}

// lookup resolves name, an instance ("web.2") or a process type ("web"),
// to instances in number order.
func (s *supervisor) lookup(name string) ([]*instance, error) {
	var out []*instance
	for _, in := range s.insts {
		if in.Name == name || in.Type == name {
			out = append(out, in)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, e := range s.entries {
		if e.Name == name {
			return nil, nil // a type with no instances
		}
	}
	var names []string
	for _, in := range s.insts {
		names = append(names, in.Name)
	}
	return nil, fmt.Errorf("%w %q (running: %s)", ErrUnknownName, name, strings.Join(names, ", "))
}

// Stop stops an instance, or every instance of a type, without stopping the
// rest of the stack: SIGTERM to its group, SIGKILL after the timeout. It
// returns once they have exited. A stopped instance is not restarted.
func (r *Runner) Stop(name string) error {
	return r.doErr(func(s *supervisor, done func(error)) {
		if s.shutting {
			done(ErrShuttingDown)
			return
		}
		insts, err := s.lookup(name)
		if err != nil {
			done(err)
			return
		}
		for _, in := range insts {
			s.stopInstance(in)
		}
		// Done when each has exited, or was started again by a later request.
		s.await(func() bool {
			for _, in := range insts {
				if in.alive() && in.userStop {
					return false
				}
			}
			return true
		}, func() { done(nil) })
	})
}

// stopInstance sends SIGTERM to in's group and arms a SIGKILL for after the
// timeout; its exit will neither restart it nor stop the stack.
func (s *supervisor) stopInstance(in *instance) {
	in.userStop = true
	in.userRestart = false
	if in.restartTimer != nil {
		in.restartTimer.Stop()
	}
	if !in.alive() {
		in.state = Stopped
		return
	}
	s.terminate(in)
}

// terminate sends SIGTERM to a running instance and SIGKILL after the
// timeout if that same run is still alive.
func (s *supervisor) terminate(in *instance) {
	in.state = Stopping
	signalGroup(in.pid, syscall.SIGTERM)
	gen := in.gen
	s.after(s.opts.Timeout, func() {
		if in.gen == gen && in.alive() {
			signalGroup(in.pid, syscall.SIGKILL)
		}
	})
}

// Restart restarts an instance, or every instance of a type one after
// another: each is stopped (SIGTERM, SIGKILL after the timeout) and started
// again before the next. It returns once the last one has started.
func (r *Runner) Restart(name string) error {
	return r.doErr(func(s *supervisor, done func(error)) {
		if s.shutting {
			done(ErrShuttingDown)
			return
		}
		insts, err := s.lookup(name)
		if err == nil && len(insts) == 0 {
			err = fmt.Errorf("%w: type %q has no instances (scale it up first)", ErrUnknownName, name)
		}
		if err != nil {
			done(err)
			return
		}
		s.restartEach(insts, done)
	})
}

func (s *supervisor) restartEach(insts []*instance, done func(error)) {
	if len(insts) == 0 {
		done(nil)
		return
	}
	in := insts[0]
	if in.removed || !slices.Contains(s.insts, in) {
		s.restartEach(insts[1:], done) // being scaled away, or gone
		return
	}
	oldGen := in.gen
	in.userStop = false
	in.restarts++
	if in.restartTimer != nil {
		in.restartTimer.Stop()
	}
	s.out.System(fmt.Sprintf("restarting %s on request (restart %d)", in.Name, in.restarts))
	if in.alive() {
		in.userRestart = true
		s.terminate(in)
	} else {
		in.state = Stopped
		s.start(in)
	}
	s.await(func() bool {
		return in.gen != oldGen || s.shutting || in.userStop
	}, func() {
		if s.shutting {
			done(ErrShuttingDown)
			return
		}
		s.restartEach(insts[1:], done)
	})
}

// Scale changes the formation of the running stack: each named type gets
// Count instances. New instances take the next numbers and their ports;
// surplus instances stop, highest number first, and leave the list. Types
// not named are untouched. It returns once the new instances have started
// and the surplus ones have exited. On a bad request nothing changes.
func (r *Runner) Scale(counts []procfile.TypeCount) error {
	return r.doErr(func(s *supervisor, done func(error)) {
		if s.shutting {
			done(ErrShuttingDown)
			return
		}
		if err := s.checkScale(counts); err != nil {
			done(err)
			return
		}
		var surplus []*instance
		for _, tc := range counts {
			surplus = append(surplus, s.scaleType(tc)...)
		}
		// New instances have started by now; wait for the surplus ones to
		// exit, unless a later request took them back.
		s.await(func() bool {
			for _, in := range surplus {
				if in.alive() && in.removed && in.userStop {
					return false
				}
			}
			return true
		}, func() {
			if s.shutting {
				done(ErrShuttingDown)
				return
			}
			done(nil)
		})
	})
}

// checkScale validates a scale request before anything changes.
func (s *supervisor) checkScale(counts []procfile.TypeCount) error {
	for _, tc := range counts {
		i := s.typeIndex(tc.Type)
		if i < 0 {
			return fmt.Errorf("%w: unknown process type %q (the Procfile has %s)", ErrUnknownName, tc.Type, strings.Join(procfile.Names(s.entries), ", "))
		}
		if tc.Type == procfile.ReleaseType {
			return fmt.Errorf("%q runs once before the other types and cannot be scaled", procfile.ReleaseType)
		}
		if tc.Count < 0 || tc.Count > procfile.MaxCount {
			return fmt.Errorf("count for %q must be from 0 to %d", tc.Type, procfile.MaxCount)
		}
		if tc.Count > 0 {
			if _, err := procfile.NewInstance(s.entries, i, tc.Count, s.opts.Ports); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *supervisor) typeIndex(name string) int {
	for i, e := range s.entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// scaleType brings tc.Type to tc.Count running instances. It returns the
// instances it is stopping.
func (s *supervisor) scaleType(tc procfile.TypeCount) (surplus []*instance) {
	i := s.typeIndex(tc.Type)
	changed := false
	have := map[int]*instance{}
	for _, in := range s.insts {
		if in.Type == tc.Type {
			have[in.Num] = in
		}
	}
	for num := 1; num <= tc.Count; num++ {
		in, ok := have[num]
		if !ok {
			p, _ := procfile.NewInstance(s.entries, i, num, s.opts.Ports) // checked by checkScale
			in = s.newInstance(p)
			s.insts = append(s.insts, in)
		}
		wasStopping := in.userStop || in.removed
		in.userStop, in.removed = false, false
		switch {
		case in.alive() && wasStopping:
			in.userRestart = true // being stopped: start it again once it exits
		case in.alive(), in.state == Restarting:
		default:
			in.state = Stopped
			s.start(in)
			changed = true
		}
	}
	var nums []int
	for num := range have {
		if num > tc.Count {
			nums = append(nums, num)
		}
	}
	slices.Sort(nums)
	for _, num := range slices.Backward(nums) {
		in := have[num]
		in.removed = true
		s.stopInstance(in)
		surplus = append(surplus, in)
		if !in.alive() {
			s.remove(in)
		}
	}
	s.sortInstances()
	if changed || len(surplus) > 0 {
		s.out.System(fmt.Sprintf("scaled %s to %d", tc.Type, tc.Count))
	}
	return surplus
}

// remove drops an instance scaled away from the list.
func (s *supervisor) remove(in *instance) {
	s.insts = slices.DeleteFunc(s.insts, func(x *instance) bool { return x == in })
}

// sortInstances keeps the list in Procfile order, then by number.
func (s *supervisor) sortInstances() {
	slices.SortStableFunc(s.insts, func(a, b *instance) int {
		if a.TypeIndex != b.TypeIndex {
			return a.TypeIndex - b.TypeIndex
		}
		return a.Num - b.Num
	})
}

// Attachment connects a terminal to a --tty instance: what is written to it
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

// Attach connects to the terminal of a running --tty instance; its raw
// output is copied to out (a slow out loses output rather than slowing the
// instance).
func (r *Runner) Attach(name string, out io.Writer) (*Attachment, error) {
	v, err := r.do(func(s *supervisor, reply func(any)) {
		insts, err := s.lookup(name)
		switch {
		case err != nil:
			reply(err)
		case len(insts) != 1 || insts[0].Name != name:
			reply(fmt.Errorf("%w: attach takes an instance name such as %s.1, not a type", ErrUnknownName, name))
		case insts[0].raw == nil:
			if !s.opts.TTY {
				reply(fmt.Errorf("%s: %w", name, ErrNotTTY))
			} else {
				reply(fmt.Errorf("%s: %w", name, ErrNotAlive))
			}
		default:
			in := insts[0]
			sk := in.raw.add(out)
			reply(&Attachment{term: in.tty, sink: sk})
		}
	})
	if err != nil {
		return nil, err
	}
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.(*Attachment), nil
}
