package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/runner"
	"github.com/proctor-run/proctor/watch"
)

// startFlags are the flags of `proctor start`.
type startFlags struct {
	app       appFlags
	formation string
	timeout   seconds
	color     bool
	noColor   bool
	noTime    bool
	noPrefix  bool
	logFormat string
	tty       bool
	canDie    []string
	restart   []string
	noRelease bool
	socket    string
	logDir    string
	watch     []string
	detach    bool
}

func newStartCmd(h *host) *cobra.Command {
	f := &startFlags{timeout: seconds(runner.DefaultTimeout)}
	cmd := &cobra.Command{
		Use:   "start [TYPE... | TYPE=N...]",
		Short: "Start the processes of the Procfile",
		Long: `Start every process type of the Procfile (or only the TYPEs named), each
instance in its own process group with its own PORT, and merge their output
into one stream: "HH:MM:SS web.1 | line". Ctrl-C (SIGINT), SIGTERM or SIGHUP
stop everything: SIGTERM to each process group, SIGKILL after --timeout.
When one instance exits, the others are stopped (unless --can-die or
--restart say otherwise) and proctor exits with its code. TYPE=N arguments
(web=1 worker=2, as node-foreman and heroku local take them) are the
formation, like -m web=1,worker=2.`,
		Example: `  proctor start
  proctor start web worker -m web=2
  proctor start web=1 worker=2
  proctor start --restart worker --can-die clock -t 10`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.detach && h.getenv(detachedEnv) == "" {
				return startDetached(h, f)
			}
			err := startApp(h, cmd, f, args)
			recordExit(h, err)
			return err
		},
		ValidArgsFunction: f.app.completeTypes,
	}
	fl := cmd.Flags()
	f.app.register(fl, true)
	fl.StringVarP(&f.formation, "formation", "m", "", `instances per type, e.g. "all=1,web=2,worker=0" (default all=1)`)
	fl.VarP(&f.timeout, "timeout", "t", "seconds between SIGTERM and SIGKILL at shutdown (e.g. 5, 2.5, 500ms)")
	fl.BoolVarP(&f.color, "color", "c", false, "force colored output (even when not a terminal or NO_COLOR is set)")
	fl.BoolVar(&f.noColor, "no-color", false, "never color the output")
	fl.BoolVar(&f.noTime, "no-timestamp", false, "omit the time of each line")
	fl.BoolVar(&f.noPrefix, "no-prefix", false, "write the bare lines of the processes: no time, name or ' | '")
	fl.StringVar(&f.logFormat, "log-format", "text", "output format: text or json (one object per line)")
	fl.BoolVarP(&f.detach, "detach", "D", false, "run the stack in the background: return once it is ready (exit 0) or failed (its exit code); output in .proctor.d/log unless --log-dir; stop it with proctor down")
	fl.StringArrayVar(&f.watch, "watch", nil, "restart TYPE's instances when a file under the root matching GLOB changes, as TYPE=GLOB (may repeat; ** matches directories)")
	fl.StringVar(&f.logDir, "log-dir", "", "also append each type's bare lines to DIR/TYPE.log (.proctor's log_file wins for its type)")
	fl.BoolVar(&f.tty, "tty", false, "run each process in a pseudo-terminal, so it line-buffers and keeps its colors")
	fl.StringSliceVar(&f.canDie, "can-die", nil, `process types that may exit without stopping the others, or "all" (comma-separated; may repeat)`)
	fl.StringSliceVar(&f.restart, "restart", nil, `process types restarted when they exit, or "all" (comma-separated; may repeat)`)
	fl.BoolVar(&f.noRelease, "no-release", false, "skip the release entry (run once before the others by default)")
	fl.StringVar(&f.socket, "socket", "", socketFlagHelp+"; ps, restart, stop, scale, logs and attach talk to it")
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]cobra.Completion{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// seconds is a duration flag given in seconds ("5", "2.5") or as a Go
// duration ("500ms").
type seconds time.Duration

func (s *seconds) String() string {
	return strconv.FormatFloat(time.Duration(*s).Seconds(), 'f', -1, 64)
}

func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || n != n {
			return fmt.Errorf("%q is not a number of seconds", v)
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 || d > 24*time.Hour {
		return fmt.Errorf("%q is out of range (0 to 86400 seconds)", v)
	}
	*s = seconds(d)
	return nil
}

func (s *seconds) Type() string { return "seconds" }

// startMemoryLimit is the soft memory limit of the Go runtime while
// proctor runs a stack, unless GOMEMLIMIT or GOGC says otherwise.
// proctor's live heap is small and bounded (pooled buffers, a bounded
// output queue), but many children writing long lines at once make
// garbage fast, and Go's default GOGC=100 lets the heap grow to twice the
// live data between collections: in the stress suite, 500 chatty
// instances peaked at 112 MiB RSS. The limit makes the collector run
// sooner only then; a small stack never comes near it (a lower GOGC would
// instead cost every stack memory: 0.9 MiB more with 100 idle instances,
// from more frequent collections). Should the live heap itself approach
// the limit, the runtime caps the collector's CPU at half the machine.
const startMemoryLimit = 64 << 20

func startApp(h *host, cmd *cobra.Command, f *startFlags, types []string) error {
	if h.getenv("GOMEMLIMIT") == "" && h.getenv("GOGC") == "" {
		debug.SetMemoryLimit(startMemoryLimit)
	}
	a, err := f.app.load(h, cmd.Flags(), false)
	if err != nil {
		return err
	}
	formation, given := f.formation, cmd.Flags().Changed("formation")
	if fm, ok, err := formationArgs(types); err != nil {
		return err
	} else if ok {
		if given {
			return usageErrorf("the formation is given twice, with -m and as TYPE=N arguments: use one")
		}
		formation, given, types = fm, true, nil
	}
	counts, err := resolveCounts(a.Entries, formation, given, types)
	if err != nil {
		return err
	}
	// A start -D's own variables are for this proctor, not its processes
	// (a nested proctor would take them for its own).
	a.Environ = slices.DeleteFunc(a.Environ, func(kv string) bool {
		return strings.HasPrefix(kv, detachedEnv+"=") || strings.HasPrefix(kv, readyFDEnv+"=")
	})
	if h.getenv(detachedEnv) == "" {
		os.Remove(filepath.Join(a.root, stateDirName, "exit")) // an earlier detached run's
	}
	if err := f.app.loadProcesses(h, a); err != nil {
		return &exitError{exitUsage, err}
	}
	for _, w := range f.watch {
		typ, glob, ok := strings.Cut(w, "=")
		if !ok || !slices.Contains(procfile.Names(a.Entries), typ) {
			return usageErrorf("--watch %q: expected TYPE=GLOB with a type of the Procfile (%s)", w, strings.Join(procfile.Names(a.Entries), ", "))
		}
		if err := watch.CheckGlob(glob); err != nil {
			return usageErrorf("--watch %q: %v", w, err)
		}
		a.watch = appendGlob(a.watch, typ, glob)
	}
	// Every instance can find the stack it runs in (a nested start does).
	a.Environ = env.Set(a.Environ, stackSocketEnv, stackSocket(h, f.socket, a.root))
	plan, err := a.Plan(counts)
	if err != nil {
		return &exitError{exitUsage, withPortHint(err)}
	}
	if f.noRelease {
		plan = slices.DeleteFunc(plan, func(in procfile.Instance) bool { return in.Type == procfile.ReleaseType })
	}
	if len(plan) == 0 {
		return usageErrorf("%w (every count is 0)", runner.ErrEmptyFormation)
	}
	for _, list := range [][]string{f.canDie, f.restart} {
		if err := checkTypes(a.Entries, list); err != nil {
			return err
		}
	}
	format, err := parseLogFormat(f.logFormat)
	if err != nil {
		return err
	}
	mux := output.New(h.stdout, output.Options{
		Format:      format,
		Color:       wantColor(h, f),
		NoTimestamp: f.noTime,
		NoPrefix:    f.noPrefix,
	})
	opts := runner.Options{
		App:      a.App,
		Plan:     plan,
		Dir:      a.root,
		Timeout:  time.Duration(f.timeout),
		CanDie:   f.canDie,
		Restart:  f.restart,
		TTY:      f.tty,
		Guardian: runner.GuardianCommand(time.Duration(f.timeout)),
		Output:   mux,
	}
	if f.tty {
		opts.WindowSize = terminalSize(h)
	}
	r, err := runner.New(opts)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	closeLogs, err := openLogFiles(a, f.logDir, mux)
	if err != nil {
		mux.Close()
		return &exitError{exitUsage, err}
	}
	defer closeLogs()
	stopControl, err := serveControl(h, f.socket, a, r, mux)
	if err != nil {
		mux.Close()
		return err
	}
	warnBusyPorts(plan, mux)
	stopWatch, err := watchFiles(h, a, f, r, mux)
	if err != nil {
		stopControl()
		mux.Close()
		return &exitError{exitFail, err}
	}
	stopSignals := forwardSignals(h.sigs, r)
	announceReady(h, r)
	err = r.Run(context.Background())
	stopSignals()
	stopWatch()
	stopControl()
	closeErr := mux.Close()
	code := exitOK
	var exit *runner.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode() // the runner has said which instance and how
	case err != nil:
		return &exitError{exitFail, err}
	}
	if outErr := cmp.Or(mux.Err(), closeErr); outErr != nil && !errors.Is(outErr, syscall.EPIPE) {
		fmt.Fprintf(h.stderr, "proctor: writing output: %v\n", outErr)
		if code == 0 {
			code = exitFail
		}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// watchFiles watches the app's files for the types that have globs, and
// restarts a type when its files change, until stop is called. Log files
// and the control socket are never watched.
func watchFiles(h *host, a *app, f *startFlags, r *runner.Runner, mux *output.Mux) (stop func(), err error) {
	if len(a.watch) == 0 {
		return func() {}, nil
	}
	// Absolute: relative ones would be read against the root, and these
	// are relative to the current directory.
	ignore := []string{stackSocket(h, f.socket, a.root)}
	if f.logDir != "" {
		ignore = append(ignore, f.logDir)
	}
	for _, p := range a.logFiles {
		ignore = append(ignore, a.path(p))
	}
	for i, p := range ignore {
		if abs, err := filepath.Abs(p); err == nil {
			ignore[i] = abs
		}
	}
	w, err := watch.New(a.root, a.watch, watch.Options{Ignore: ignore})
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", a.root, err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case c := <-w.Changes():
				// Errors are the stack's end (it shuts down): nothing
				// to restart then.
				_ = r.Changed(c.Type, c.Path, c.More)
			case err := <-w.Errors():
				mux.System("watch: " + err.Error())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		w.Close()
	}, nil
}

// warnBusyPorts warns about each assigned port that something already
// holds: the instance will likely fail to bind it.
func warnBusyPorts(plan []procfile.Instance, mux *output.Mux) {
	var ports []int
	for _, in := range plan {
		if in.Port > 0 {
			ports = append(ports, in.Port)
		}
	}
	busy := map[int]bool{}
	for _, p := range runner.BusyPorts(ports) {
		busy[p] = true
	}
	for _, in := range plan {
		if in.Port > 0 && busy[in.Port] {
			mux.System(fmt.Sprintf("%s: port %d is already in use; choose another base port with -p", in.Name, in.Port))
		}
	}
}

// forwardSignals turns the signals proctor receives into requests to r
// until the returned function is called: SIGINT, SIGTERM and SIGHUP stop
// the stack gracefully; SIGINT while it stops (Ctrl-C twice) kills it at
// once; SIGUSR1 and SIGUSR2 go on to every instance's process group.
func forwardSignals(sigs <-chan os.Signal, r *runner.Runner) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				switch sig {
				case syscall.SIGINT:
					if r.ShuttingDown() {
						r.Kill()
					} else {
						r.Shutdown()
					}
				case syscall.SIGTERM, syscall.SIGHUP:
					r.Shutdown()
				case syscall.SIGUSR1, syscall.SIGUSR2:
					r.Signal(sig.(syscall.Signal))
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// formationArgs reads arguments written as a formation, the way
// node-foreman and heroku local take it (start web=1 js=2, or
// start web=1,js=2): it returns them joined as the -m formation. ok is
// false when no argument holds '='; arguments that mix TYPE and TYPE=N
// are an error.
func formationArgs(args []string) (formation string, ok bool, err error) {
	var counted, plain []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			counted = append(counted, a)
		} else {
			plain = append(plain, a)
		}
	}
	switch {
	case len(counted) == 0:
		return "", false, nil
	case len(plain) > 0:
		return "", false, usageErrorf("arguments mix TYPE (%s) and TYPE=N (%s): write every one as TYPE=N, e.g. %s=1 %s", plain[0], counted[0], plain[0], counted[0])
	}
	return strings.Join(counted, ","), true, nil
}

// resolveCounts turns -m and the TYPE arguments into a count per entry.
func resolveCounts(entries []procfile.Entry, formation string, given bool, types []string) ([]int, error) {
	var fm *procfile.Formation
	if given {
		parsed, err := procfile.ParseFormation(formation)
		if err != nil {
			return nil, &usageError{err}
		}
		fm = &parsed
	}
	counts, err := procfile.Resolve(entries, fm, types)
	if err != nil {
		return nil, &usageError{err}
	}
	return counts, nil
}

// checkTypes rejects names in --can-die or --restart that are not process
// types; "all" stands for every type.
func checkTypes(entries []procfile.Entry, list []string) error {
	known := map[string]bool{"all": true}
	for _, e := range entries {
		known[e.Name] = true
	}
	for _, t := range list {
		if !known[t] {
			return usageErrorf("unknown process type %q (the Procfile has %s)", t, strings.Join(procfile.Names(entries), ", "))
		}
	}
	return nil
}

func parseLogFormat(s string) (output.Format, error) {
	switch s {
	case "text":
		return output.Text, nil
	case "json":
		return output.JSON, nil
	}
	return 0, usageErrorf("--log-format must be text or json, not %q", s)
}

// wantColor decides whether to color the output: --no-color wins, then
// --color; otherwise NO_COLOR (any value) turns colors off, and they are on
// when stdout is a terminal.
func wantColor(h *host, f *startFlags) bool {
	switch {
	case f.noColor:
		return false
	case f.color:
		return true
	}
	if _, set := env.Lookup(h.environ(), "NO_COLOR"); set {
		return false
	}
	file, ok := h.stdout.(*os.File)
	return ok && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}

// terminalSize is the window size for --tty children: proctor's own
// terminal's when it has one, else 80x24.
func terminalSize(h *host) runner.WindowSize {
	for _, w := range []any{h.stdout, h.stdin, h.stderr} {
		if file, ok := w.(*os.File); ok {
			if size, ok := runner.TerminalSize(file); ok {
				return size
			}
		}
	}
	return runner.WindowSize{}
}
