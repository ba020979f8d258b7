package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/runner"
)

// stackBackend is what start serves on its control socket: the runner for
// requests, the output for logs. It adapts the runner's types and errors to
// package control's.
type stackBackend struct {
	r     *runner.Runner
	mux   *output.Mux
	types []string
}

func (b stackBackend) Types() []string { return b.types }

func (b stackBackend) Status() ([]control.Status, error) {
	all, err := b.r.Status()
	if err != nil {
		return nil, controlErr(err)
	}
	out := make([]control.Status, len(all))
	for i, st := range all {
		out[i] = control.Status{
			Name:     st.Name,
			Type:     st.Type,
			PID:      st.PID,
			State:    string(st.State),
			Uptime:   st.Uptime,
			Restarts: st.Restarts,
			Port:     st.Port,
			Ready:    st.Ready,
		}
	}
	return out, nil
}

func (b stackBackend) Restart(name string) error { return controlErr(b.r.Restart(name)) }

func (b stackBackend) Stop(name string) error { return controlErr(b.r.Stop(name)) }

func (b stackBackend) Wait(types []string) error { return controlErr(b.r.WaitReady(types)) }

func (b stackBackend) Shutdown() error {
	b.r.Shutdown()
	return nil
}

func (b stackBackend) Scale(counts []procfile.TypeCount) error {
	return controlErr(b.r.Scale(counts))
}

func (b stackBackend) Attach(name string, out io.Writer) (control.Attachment, error) {
	a, err := b.r.Attach(name, out)
	if errors.Is(err, runner.ErrNotTTY) {
		return nil, controlErr(fmt.Errorf("%w (start proctor with --tty to attach)", err))
	}
	if err != nil {
		return nil, controlErr(err)
	}
	return attachment{a}, nil
}

func (b stackBackend) Logs(w io.Writer, filter func(string) bool, color bool) func() {
	return b.mux.Subscribe(w, filter, color)
}

// attachment is a runner attachment as control sees it.
type attachment struct{ *runner.Attachment }

func (a attachment) Resize(size control.WindowSize) error {
	return a.Attachment.Resize(runner.WindowSize{Rows: size.Rows, Cols: size.Cols})
}

// runnerToControl pairs each error of the runner's requests with control's
// error of the same meaning.
var runnerToControl = []struct{ runner, control error }{
	{runner.ErrUnknownName, control.ErrUnknownName},
	{runner.ErrNotTTY, control.ErrNotTTY},
	{runner.ErrNotAlive, control.ErrNotAlive},
	{runner.ErrShuttingDown, control.ErrShuttingDown},
	{runner.ErrNotRunning, control.ErrNotRunning},
}

// controlErr returns err as the control server must see it: with the
// runner's message, and matching (errors.Is) control's error for each
// runner error it wraps, which gives the answer its code.
func controlErr(err error) error {
	if err == nil {
		return nil
	}
	var kinds []error
	for _, p := range runnerToControl {
		if errors.Is(err, p.runner) {
			kinds = append(kinds, p.control)
		}
	}
	if kinds == nil {
		return err
	}
	return &kindError{err: err, kinds: kinds}
}

// kindError is an error that also matches the errors of kinds.
type kindError struct {
	err   error
	kinds []error
}

func (e *kindError) Error() string { return e.err.Error() }

func (e *kindError) Unwrap() []error { return append([]error{e.err}, e.kinds...) }

// stackSocketEnv names, in the environment of every process a stack
// starts, the absolute path of that stack's control socket. A proctor
// start run by one of those processes (mastodon's web: foreman start -f
// Procfile.heroku, with foreman being proctor) finds its parent's socket
// there and runs without a control socket of its own instead of failing.
const stackSocketEnv = "PROCTOR_STACK_SOCKET"

// stackSocket is the absolute path of the socket start serves on, for
// stackSocketEnv.
func stackSocket(h *host, flag, root string) string {
	path, _ := socketPath(h, flag, root)
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// serveControl creates start's control socket and serves the stack on it
// until stop is called. A live proctor on the socket is an error (exit 2),
// unless it is the stack this start runs in and no --socket was given: then
// the inner stack runs without a socket, after a notice. A socket the user
// chose (--socket, $PROCTOR_SOCKET) that cannot be created is an error;
// when the default one cannot be (a read-only root), start runs on without
// it, after a warning.
func serveControl(h *host, flag string, a *app, r *runner.Runner, mux *output.Mux) (stop func(), err error) {
	path, explicit := socketPath(h, flag, a.root)
	srv, err := control.Listen(path, stackBackend{r: r, mux: mux, types: procfile.Names(a.Entries)})
	if err != nil {
		var inUse *control.InUseError
		if errors.As(err, &inUse) && flag == "" && h.getenv(stackSocketEnv) == stackSocket(h, flag, a.root) {
			fmt.Fprintf(h.stderr, "proctor: running inside the proctor stack on %s: this inner stack has no control socket (give it one with --socket)\n", path)
			return func() {}, nil
		}
		var named bool
		err, named = withSocketFlag(err)
		if errors.As(err, &inUse) || explicit {
			return nil, &exitError{exitUsage, err}
		}
		hint := ""
		if !named {
			hint = "; --socket chooses another"
		}
		fmt.Fprintf(h.stderr, "proctor: %v\nproctor: runtime control is off: ps, restart, stop, scale, logs and attach will not work%s\n", err, hint)
		return func() {}, nil
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve()
	}()
	return func() {
		srv.Close()
		<-served
	}, nil
}

// withSocketFlag completes an error of control.Listen that says to choose
// another path with the flag that does it: "... with --socket". named
// reports whether it did.
func withSocketFlag(err error) (_ error, named bool) {
	var tooLong *control.PathTooLongError
	if errors.As(err, &tooLong) || errors.Is(err, control.ErrNotSocket) || errors.Is(err, control.ErrOtherUsersSocket) {
		return &hintError{err: err, hint: " with --socket"}, true
	}
	return err, false
}

// hintError is err with hint added to its message.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() + e.hint }

func (e *hintError) Unwrap() error { return e.err }
