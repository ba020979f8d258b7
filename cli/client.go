package cli

// The control commands: ps, restart, stop and scale talk to a running
// `proctor start` over its control socket (package control); logs and
// attach live in their own files. Completion of process names asks the
// socket too.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/procfile"
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
	flags.StringVar(&f.socket, "socket", "", socketFlagHelp)
	flags.StringVarP(&f.root, "root", "d", "", "app root directory, where start put the socket (default: the Procfile's directory, else the current directory)")
	flags.StringVarP(&f.procfile, "procfile", "f", "", "the app's Procfile: its directory is the root unless -d is given")
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

func newPsCmd(h *host) *cobra.Command {
	var (
		f      clientFlags
		asJSON bool
		stats  bool
	)
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the processes of the running stack",
		Long: `List every instance of the stack that proctor start runs here: its name,
pid, state (starting, running, stopping, stopped, exited, restarting), the
time since its process started, how often it was restarted, its PORT, and
whether something accepts connections on that port (READY: yes, no, or -
for an instance without a port). --json prints an array of objects with the
keys name, type, pid, state, uptime_seconds, restarts, port and ready.

--stats prints figures of the proctor process itself instead, to watch it
for leaks: its pid, goroutines, open file descriptors and heap bytes (with
--json, an object with the keys pid, goroutines, fds and heap_bytes).`,
		Example: `  proctor ps
  proctor ps --json | jq -r '.[] | select(.state != "running") | .name'
  proctor ps -d ~/src/app`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if stats {
				return printStats(ctx, h, f.client(h), asJSON)
			}
			st, err := f.client(h).Status(ctx)
			if err != nil {
				return clientError(err, "")
			}
			if asJSON {
				b, err := json.MarshalIndent(st.Processes, "", "  ")
				if err != nil {
					return &exitError{exitFail, err}
				}
				_, err = fmt.Fprintf(h.stdout, "%s\n", b)
				return err
			}
			return writeTable(h, st.Processes)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of the table")
	cmd.Flags().BoolVar(&stats, "stats", false, "print proctor's own pid, goroutines, open file descriptors and heap bytes instead")
	return cmd
}

// printStats prints what the stats request reports, as "key  value" lines
// or, asJSON, as one object.
func printStats(ctx context.Context, h *host, c *control.Client, asJSON bool) error {
	pid, st, err := c.Stats(ctx)
	if err != nil {
		return clientError(err, "")
	}
	if asJSON {
		b, err := json.MarshalIndent(struct {
			PID int `json:"pid"`
			control.Stats
		}{pid, st}, "", "  ")
		if err != nil {
			return &exitError{exitFail, err}
		}
		_, err = fmt.Fprintf(h.stdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(h.stdout, "pid         %d\ngoroutines  %d\nfds         %d\nheap_bytes  %d\n", pid, st.Goroutines, st.FDs, st.HeapBytes)
	return err
}

// writeTable prints ps's table.
func writeTable(h *host, procs []control.Process) error {
	tw := tabwriter.NewWriter(h.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPID\tSTATE\tUPTIME\tRESTARTS\tPORT\tREADY")
	for _, p := range procs {
		pid, uptime, port, ready := "-", "-", "-", "-"
		if p.PID != 0 {
			pid = strconv.Itoa(p.PID)
			uptime = formatUptime(time.Duration(p.UptimeSeconds * float64(time.Second)))
		}
		if p.Port != 0 {
			port = strconv.Itoa(p.Port)
			ready = "no"
			if p.Ready {
				ready = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, pid, p.State, uptime, p.Restarts, port, ready)
	}
	return tw.Flush()
}

// formatUptime writes d in its two largest units: 42s, 3m07s, 2h05m,
// 3d04h.
func formatUptime(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

func newRestartCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "restart NAME",
		Short: "Restart an instance, or every instance of a type, of the running stack",
		Long: `Restart one instance (web.2) or every instance of a process type (web, one
after another) of the stack that proctor start runs here: SIGTERM to its
process group, SIGKILL after start's --timeout, then the same command again
with the same PORT. The rest of the stack keeps running. restart returns
once the last instance has started again; a stopped instance is started.`,
		Example: `  proctor restart web.2
  proctor restart worker`,
		Args:              exactlyOneName,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Restart(ctx, args[0]); err != nil {
				return clientError(err, "restart")
			}
			fmt.Fprintf(h.stdout, "restarted %s\n", args[0])
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func newStopCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop an instance, or every instance of a type, of the running stack",
		Long: `Stop one instance (web.2) or every instance of a process type (web) of the
stack that proctor start runs here, without stopping the rest: SIGTERM to
its process group, SIGKILL after start's --timeout. It stays stopped (even
under --restart) until restarted or scaled. stop returns once it has
exited.`,
		Example: `  proctor stop worker.1
  proctor stop clock`,
		Args:              exactlyOneName,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Stop(ctx, args[0]); err != nil {
				return clientError(err, "stop")
			}
			fmt.Fprintf(h.stdout, "stopped %s\n", args[0])
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func newScaleCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "scale TYPE=N[,TYPE=N...]",
		Short: "Change the number of instances of process types in the running stack",
		Long: `Change the formation of the stack that proctor start runs here: each TYPE
named gets N instances (0 stops them all); types not named keep theirs. New
instances take the next numbers and their ports (base + step*type + N-1, as
at start); surplus instances stop, highest number first. all=N is not
accepted here: name each type. scale returns once new instances have
started and surplus ones have exited.`,
		Example: `  proctor scale web=3
  proctor scale web=1,worker=4
  proctor scale clock=0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("scale: missing TYPE=N[,TYPE=N...]")
			}
			return nil
		},
		ValidArgsFunction: f.completeScale(h),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := procfile.ParseFormation(strings.Join(args, ","))
			if err != nil {
				return &usageError{err}
			}
			if fm.HasAll {
				return usageErrorf("scale: all=N is not meaningful for a running stack: name each type (e.g. web=2,worker=1)")
			}
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Scale(ctx, fm.Counts); err != nil {
				return clientError(err, "scaling")
			}
			var parts []string
			for _, tc := range fm.Counts {
				parts = append(parts, tc.Type+"="+strconv.Itoa(tc.Count))
			}
			fmt.Fprintf(h.stdout, "scaled %s\n", strings.Join(parts, ","))
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
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
		many := cmd.Name() == "logs"
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

// completeScale completes "TYPE=" with the running stack's types, after
// the pairs already written ("web=2,wor" → "web=2,worker=").
func (f *clientFlags) completeScale(h *host) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const directive = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		done, partial := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			done, partial = toComplete[:i+1], toComplete[i+1:]
		}
		if strings.Contains(partial, "=") {
			return nil, directive
		}
		st, ok := f.stackForCompletion(h, cmd)
		if !ok {
			return nil, directive
		}
		named := map[string]bool{}
		for _, a := range append(slices.Clone(args), strings.Split(done, ",")...) {
			for _, pair := range strings.Split(a, ",") {
				name, _, _ := strings.Cut(pair, "=")
				named[strings.TrimSpace(name)] = true
			}
		}
		var out []cobra.Completion
		for _, t := range st.Types {
			if t == procfile.ReleaseType || named[t] || !strings.HasPrefix(t, partial) {
				continue
			}
			out = append(out, done+t+"=")
		}
		return out, directive
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
