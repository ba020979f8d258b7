package cli

// What the control commands (ps, restart, stop, scale, logs and attach)
// share as clients of a running `proctor start`, which they talk to over
// its control socket (package control): where the socket is, the
// interrupt of a wait, the mapping of errors to exits, and the completion
// of process names, which asks the socket too.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proctor-run/proctor/control"
)

// socketName is the control socket's file name in the app's root.
const socketName = ".proctor.sock"

// socketEnv names the variable that locates the control socket.
const socketEnv = "PROCTOR_SOCKET"

// socketPath finds the control socket: the --socket flag, else
// $PROCTOR_SOCKET, else .proctor.sock in root. explicit reports whether
// the user chose it.
func socketPath(h *host, flag, root string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if p := h.getenv(socketEnv); p != "" {
		return p, true
	}
	return filepath.Join(root, socketName), false
}

// socketFlagHelp is the --socket help of every command that has it.
const socketFlagHelp = "control socket (default: $" + socketEnv + ", else " + socketName + " in the root)"

// clientFlags locate the socket of a running proctor.
type clientFlags struct {
	socket   string
	root     string
	procfile string
}

func (f *clientFlags) register(flags *pflag.FlagSet) {
	f.registerWith(flags, "f")
}

// registerWith registers the flags, with procfileShort as --procfile's
// short name (logs leaves -f to --follow).
func (f *clientFlags) registerWith(flags *pflag.FlagSet, procfileShort string) {
	flags.StringVar(&f.socket, "socket", "", socketFlagHelp)
	flags.StringVarP(&f.root, "root", "d", "", "app root directory, where start put the socket (default: the Procfile's directory, else the current directory)")
	flags.StringVarP(&f.procfile, "procfile", procfileShort, "", "the app's Procfile: its directory is the root unless -d is given")
}

// client returns a client for the socket the flags point to.
func (f *clientFlags) client(h *host) *control.Client {
	_, root := (&appFlags{procfile: f.procfile, root: f.root}).paths()
	path, _ := socketPath(h, f.socket, root)
	return &control.Client{Path: path}
}

// interrupted is the cause of a context ended by a signal.
type interrupted struct{ sig syscall.Signal }

func (e *interrupted) Error() string { return "interrupted by " + e.sig.String() }

// interruptContext returns a context that ends when SIGINT, SIGTERM or
// SIGHUP arrives on h.sigs, with an *interrupted cause; stop releases it.
func interruptContext(h *host) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case sig := <-h.sigs:
				if s, ok := sig.(syscall.Signal); ok && (s == syscall.SIGINT || s == syscall.SIGTERM || s == syscall.SIGHUP) {
					cancel(&interrupted{s})
					return
				}
			case <-quit:
				return
			}
		}
	})
	return ctx, func() {
		close(quit)
		wg.Wait()
		cancel(nil)
	}
}

// clientError maps an error of a control request to an exit: 128+N when
// signal N interrupted the wait (what was asked goes on in proctor),
// otherwise 1.
func clientError(err error, what string) error {
	var intr *interrupted
	if errors.As(err, &intr) {
		msg := "interrupted"
		if what != "" {
			msg += "; proctor carries on with the " + what
		}
		return &exitError{128 + int(intr.sig), errors.New(msg)}
	}
	return &exitError{exitFail, err}
}

// exactlyOneName checks the NAME argument of restart, stop and attach.
func exactlyOneName(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageErrorf("%s: missing NAME (an instance such as web.1, or a type such as web)", cmd.Name())
	case len(args) > 1:
		return usageErrorf("%s: unexpected argument %q (one NAME at a time)", cmd.Name(), args[1])
	}
	return nil
}

// completionTimeout bounds how long completion waits for proctor.
const completionTimeout = time.Second

// stackForCompletion asks the running proctor for its state; ok is false
// when none answers.
func (f *clientFlags) stackForCompletion(h *host, cmd *cobra.Command) (control.Stack, bool) {
	// Completion runs without the .proctor defaults; they may move the
	// socket (socket:, root:, procfile:).
	_ = applyConfig(cmd, &host{stdin: h.stdin, stdout: h.stdout, stderr: nopWriter{}, getenv: h.getenv, environ: h.environ})
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	st, err := f.client(h).Status(ctx)
	return st, err == nil
}

// nopWriter discards what is written to it.
type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// completeNames completes instance names of the running stack, and type
// names when withTypes; logs takes several, the others one.
func (f *clientFlags) completeNames(h *host, withTypes bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		many := cmd.Name() == "logs" || cmd.Name() == "wait"
		if !many && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		st, ok := f.stackForCompletion(h, cmd)
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		add := func(name, desc string) {
			if strings.HasPrefix(name, toComplete) && !slices.Contains(args, name) {
				out = append(out, cobra.CompletionWithDesc(name, desc))
			}
		}
		if withTypes {
			for _, t := range st.Types {
				n := 0
				for _, p := range st.Processes {
					if p.Type == t {
						n++
					}
				}
				desc := fmt.Sprintf("process type, %d instances", n)
				if n == 1 {
					desc = "process type, 1 instance"
				}
				add(t, desc)
			}
		}
		for _, p := range st.Processes {
			if withTypes || p.PID != 0 { // attach: only what runs
				add(p.Name, p.State)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// writeErr reports a failed write to stdout, unless the reader went away
// (EPIPE), which ends a stream quietly.
func writeErr(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return &exitError{exitFail, err}
}
