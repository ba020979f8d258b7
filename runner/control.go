package runner

import (
	"errors"
	"time"
)

// ErrNotRunning is returned by requests to a Runner that is not running.
var ErrNotRunning = errors.New("runner is not running")

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

// request is a control request handled by the supervisor goroutine.
type request struct {
	op    func(s *supervisor) any
	reply chan any
}

// do runs op on the supervisor goroutine and returns its result.
func (r *Runner) do(op func(s *supervisor) any) (any, error) {
	req := request{op: op, reply: make(chan any, 1)}
	select {
	case r.requests <- req:
	case <-r.done:
		return nil, ErrNotRunning
	}
	return <-req.reply, nil
}

func (s *supervisor) onRequest(req request) {
	req.reply <- req.op(s)
}

// Status returns a snapshot of every instance in start order. It is safe to
// call from any goroutine while Run runs.
func (r *Runner) Status() ([]Status, error) {
	v, err := r.do(func(s *supervisor) any { return s.status() })
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
