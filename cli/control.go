package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/runner"
)

// stackBackend is what start serves on its control socket: the runner for
// requests, the output for logs.
type stackBackend struct {
	r     *runner.Runner
	mux   *output.Mux
	types []string
}

func (b stackBackend) Status() ([]runner.Status, error)        { return b.r.Status() }
func (b stackBackend) Types() []string                         { return b.types }
func (b stackBackend) Restart(name string) error               { return b.r.Restart(name) }
func (b stackBackend) Stop(name string) error                  { return b.r.Stop(name) }
func (b stackBackend) Scale(counts []procfile.TypeCount) error { return b.r.Scale(counts) }

func (b stackBackend) Attach(name string, out io.Writer) (control.Attachment, error) {
	a, err := b.r.Attach(name, out)
	if errors.Is(err, runner.ErrNotTTY) {
		return nil, fmt.Errorf("%w (start proctor with --tty to attach)", err)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (b stackBackend) Logs(w io.Writer, filter func(string) bool, color bool) func() {
	return b.mux.Subscribe(w, filter, color)
}

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
	srv, err := control.Listen(path, stackBackend{r: r, mux: mux, types: procfile.Names(a.entries)})
	if err != nil {
		var inUse *control.InUseError
		if errors.As(err, &inUse) && flag == "" && h.getenv(stackSocketEnv) == stackSocket(h, flag, a.root) {
			fmt.Fprintf(h.stderr, "proctor: running inside the proctor stack on %s: this inner stack has no control socket (give it one with --socket)\n", path)
			return func() {}, nil
		}
		if errors.As(err, &inUse) || explicit {
			return nil, &exitError{exitUsage, err}
		}
		hint := ""
		if !strings.Contains(err.Error(), "--socket") {
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
