// Package runner starts, supervises and stops the instances of a Procfile
// formation.
//
// One goroutine, the supervisor, owns all state: the instances, their
// states and restarts, and the shutdown. It runs a select over channels:
// signals, exits reported by the reaper, restart timers, readiness reports,
// control requests and the shutdown deadline. Nothing else reads or writes
// instance state, so there are no locks on it.
//
// Around it:
//   - the spawner forks every child from one goroutine locked to one OS
//     thread, so that the Linux parent-death signal (which follows the
//     forking thread) stays armed for as long as proctor runs;
//   - the reaper is the only waiter: it loops on wait4(-1) on SIGCHLD, so it
//     also reaps descendants adopted because proctor is a child subreaper
//     (Linux) and, as PID 1, every zombie;
//   - one reader goroutine per child stream copies lines into the Output;
//   - the prober reports when an instance's port starts accepting connections.
//
// Each instance runs `/bin/sh -c COMMAND` in its own process group (its own
// session with --tty), so signals reach the shell and everything it started.
// Shutdown sends SIGTERM to every group and to adopted descendants, SIGKILL
// after the timeout, and ends only when wait4 reports that proctor has no
// children left and every reader has drained its pipe: nothing proctor
// started outlives it, and no line is lost.
package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
)

// Output is where the runner writes the children's lines and its own.
// output.Mux satisfies it.
type Output interface {
	// Register declares an instance name and the color index of its type.
	Register(name string, colorIndex int)
	// Copy writes every line read from r under name until r ends.
	Copy(name string, stream output.Stream, r io.Reader) error
	// System writes one of proctor's own lines.
	System(line string)
	// Failed is closed when the output cannot be written any more.
	Failed() <-chan struct{}
}

// Options configure a Runner. Entries, Counts, Output and Signals are
// required; the zero value of every other field is a usable default.
type Options struct {
	// Entries are the Procfile's entries, in order.
	Entries []procfile.Entry
	// Counts is the number of instances of each entry (procfile.Resolve).
	Counts []int
	// Ports assigns each instance its PORT.
	Ports procfile.Ports
	// Dir is the directory the children run in; empty means proctor's own.
	Dir string
	// Environ is the environment every child starts from (PORT and PS are
	// added per instance).
	Environ []string
	// Timeout is the grace period between SIGTERM and SIGKILL at shutdown;
	// zero means 5 seconds.
	Timeout time.Duration
	// CanDie lists process types whose exit does not stop the stack; "all"
	// means every type.
	CanDie []string
	// Restart lists process types restarted when they exit; "all" means
	// every type.
	Restart []string
	// NoRelease skips the release phase.
	NoRelease bool
	// TTY runs each instance in its own pseudo-terminal of size WindowSize
	// (80x24 when zero).
	TTY        bool
	WindowSize WindowSize
	// Guardian is the command line of the guardian process (see Guard),
	// e.g. proctor's own executable with its hidden guardian command. Nil
	// means no guardian: a SIGKILL of proctor then stops only its direct
	// children (Linux parent-death signal).
	Guardian []string
	// Output receives all lines.
	Output Output
	// Signals delivers the signals sent to proctor: SIGINT, SIGTERM and
	// SIGHUP start shutdown (a second SIGINT forces SIGKILL); SIGUSR1 and
	// SIGUSR2 are passed on to every instance's process group.
	Signals <-chan os.Signal
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultTimeout is the shutdown grace period, as in foreman.
const DefaultTimeout = 5 * time.Second

// Restart backoff: the first restart waits backoffFirst, each next one twice
// as long up to backoffMax; an instance that stayed up backoffReset starts
// again from backoffFirst.
const (
	backoffFirst = time.Second
	backoffMax   = 30 * time.Second
	backoffReset = 10 * time.Second
)

// drainTimeout bounds how long proctor waits, once every child is gone, for
// pipes still held open by a process outside its reach.
const drainTimeout = 2 * time.Second

// ErrEmptyFormation is returned when the formation starts no instance.
var ErrEmptyFormation = errors.New("the formation starts no processes")

// Runner runs one formation. Create it with New, then call Run once.
type Runner struct {
	opts     Options
	requests chan request
	done     chan struct{}
}

// New returns a Runner for opts. It validates the options but starts
// nothing.
func New(opts Options) (*Runner, error) {
	if opts.Output == nil {
		return nil, errors.New("runner: no output")
	}
	if len(opts.Counts) != len(opts.Entries) {
		return nil, fmt.Errorf("runner: %d counts for %d entries", len(opts.Counts), len(opts.Entries))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{opts: opts, requests: make(chan request), done: make(chan struct{})}, nil
}

// Run starts every instance and supervises them until shutdown. It returns
// proctor's exit code: the code of the instance whose exit started the
// shutdown (128+signal when it was killed by a signal), or 0 when shutdown
// was asked for by a signal. It returns only when every process it started,
// and every descendant adopted, is gone and every reader has finished.
func (r *Runner) Run() (int, error) {
	defer close(r.done)
	s, err := newSupervisor(r.opts, r.requests)
	if err != nil {
		return 1, err
	}
	return s.run()
}

// State is the lifecycle state of an instance.
type State string

// Instance states, as `proctor ps` shows them.
const (
	Starting   State = "starting"
	Running    State = "running"
	Stopping   State = "stopping"
	Stopped    State = "stopped"
	Exited     State = "exited"
	Restarting State = "restarting"
)

// instance is one process of the formation and its history. Only the
// supervisor goroutine touches it.
type instance struct {
	procfile.Instance
	env []string

	state    State
	pid      int    // 0 when no process runs
	gen      uint64 // which run of the instance; new on every start
	started  time.Time
	restarts int
	backoff  time.Duration
	ready    bool

	// userStop marks an instance stopped on request: its exit neither
	// restarts it nor stops the stack. userRestart starts it again at once.
	userStop, userRestart bool
	restartTimer          *time.Timer

	tty *os.File // the pty master while it runs with --tty
	raw *fanout  // copies the pty's raw output to attached terminals

	// stdin is the write end of the pipe a process without a pty reads as
	// its standard input. Nobody writes it; it stays open while the
	// process runs, so watchers that exit at end of input (tailwindcss
	// --watch, esbuild) keep running, and is closed when it exits.
	stdin *os.File

	// removed marks an instance scaled away: it leaves the list once it
	// has exited.
	removed bool
}

func (in *instance) alive() bool { return in.pid != 0 }

// closeStdin closes the write end of the process's standard input.
func (in *instance) closeStdin() {
	if in.stdin != nil {
		in.stdin.Close()
		in.stdin = nil
	}
}

// supervisor is the goroutine that owns all state; see the package doc.
type supervisor struct {
	opts     Options
	out      Output
	requests <-chan request

	entries []procfile.Entry
	insts   []*instance // every instance ever started, in start order
	byPid   map[int]*instance
	canDie  map[string]bool
	restart map[string]bool
	nextGen uint64
	devNull *os.File
	spawner *spawner
	reaper  *reaper
	prober  *prober
	readers sync.WaitGroup
	pipesMu sync.Mutex
	pipes   map[*os.File]bool // read ends still open, closed after drainTimeout
	wake    chan func()       // timer callbacks, run on the supervisor goroutine
	waiters []*waiter         // control requests waiting for instances to change
	done    chan struct{}     // closed when the supervisor loop ends

	guard        *guardian
	lingering    map[int]bool // groups whose leader exited but members remain
	release      *instance    // the release phase, while it runs
	shutting     bool
	killed       bool
	exitCode     int
	deadline     *time.Timer
	childrenGone bool
	signalled    map[int]syscall.Signal // adopted descendants signalled at shutdown
}

func newSupervisor(opts Options, requests <-chan request) (*supervisor, error) {
	s := &supervisor{
		opts:      opts,
		out:       opts.Output,
		requests:  requests,
		entries:   opts.Entries,
		byPid:     map[int]*instance{},
		canDie:    typeSet(opts.CanDie),
		restart:   typeSet(opts.Restart),
		pipes:     map[*os.File]bool{},
		wake:      make(chan func()),
		done:      make(chan struct{}),
		signalled: map[int]syscall.Signal{},
		lingering: map[int]bool{},
	}
	planned, err := procfile.Plan(opts.Entries, opts.Counts, opts.Ports)
	if err != nil {
		return nil, err
	}
	if len(planned) == 0 {
		return nil, ErrEmptyFormation
	}
	for _, p := range planned {
		if opts.NoRelease && p.Type == procfile.ReleaseType {
			continue
		}
		s.insts = append(s.insts, s.newInstance(p))
	}
	if len(s.insts) == 0 {
		return nil, ErrEmptyFormation
	}
	return s, nil
}

func typeSet(types []string) map[string]bool {
	m := map[string]bool{}
	for _, t := range types {
		m[t] = true
	}
	return m
}

func (s *supervisor) newInstance(p procfile.Instance) *instance {
	e := env.Set(s.opts.Environ, "PORT", strconv.Itoa(p.Port))
	e = env.Set(e, "PS", p.Name)
	s.out.Register(p.Name, p.TypeIndex)
	return &instance{Instance: p, env: e, state: Stopped, backoff: backoffFirst}
}

func (s *supervisor) run() (code int, err error) {
	if err := becomeSubreaper(); err != nil {
		s.out.System("cannot become a child subreaper (" + err.Error() + "); descendants that leave their process group will not be tracked")
	}
	s.devNull, err = os.Open(os.DevNull)
	if err != nil {
		return 1, err
	}
	defer s.devNull.Close()
	s.spawner = startSpawner()
	s.reaper = startReaper()
	s.prober = startProber(s.opts.Now)
	s.startGuardian()

	s.warnBusyPorts()
	var rel *instance
	for _, in := range s.insts {
		if in.Type == procfile.ReleaseType {
			rel = in
		}
	}
	switch {
	case rel != nil && len(s.insts) > 1:
		s.release = rel // the others start when it succeeds
		s.start(rel)
	case rel != nil:
		s.start(rel) // `start release`: it runs alone
	default:
		s.startAll()
	}
	s.loop()
	s.releaseWaiters()
	close(s.done)
	s.guard.close()

	s.prober.stop()
	s.reaper.stop()
	s.spawner.stop()
	s.drain()
	return s.exitCode, nil
}

// startAll starts every planned instance that is not running, in order.
func (s *supervisor) startAll() {
	for _, in := range s.insts {
		if in.state == Stopped && !in.alive() && in.Type != procfile.ReleaseType {
			s.start(in)
		}
		if s.shutting {
			return
		}
	}
}

// warnBusyPorts warns about assigned ports something already holds.
func (s *supervisor) warnBusyPorts() {
	for _, in := range s.insts {
		if portInUse(in.Port) {
			s.out.System(fmt.Sprintf("%s: port %d is already in use; choose another base port with -p", in.Name, in.Port))
		}
	}
}

func (s *supervisor) loop() {
	failed := s.out.Failed()
	for {
		// Exits come first. Each start waits for a fork and an exec, which
		// take tens of milliseconds on a loaded machine, and select picks
		// among ready channels at random: in a restart storm, exits queued
		// behind many starts, and requests served meanwhile (ps) gave
		// processes long reaped as running.
		select {
		case ev := <-s.reaper.events:
			s.onReap(ev)
			s.checkWaiters()
			if s.finished() {
				return
			}
			continue
		default:
		}
		var deadline <-chan time.Time
		if s.deadline != nil {
			deadline = s.deadline.C
		}
		select {
		case sig := <-s.opts.Signals:
			s.onSignal(sig)
		case ev := <-s.reaper.events:
			s.onReap(ev)
		case f := <-s.wake:
			f()
		case ev := <-s.prober.events:
			s.onReady(ev)
		case req := <-s.requests:
			s.onRequest(req)
		case <-deadline:
			s.deadline = nil
			s.kill()
		case <-failed:
			failed = nil
			s.beginShutdown(0)
		}
		s.checkWaiters()
		if s.finished() {
			return
		}
	}
}

// finished reports whether shutdown is complete: no instance runs and
// proctor has no child at all. Once the guardian is the only child left, it
// is told to exit.
func (s *supervisor) finished() bool {
	if !s.shutting || len(s.byPid) > 0 {
		return false
	}
	if s.guard != nil && s.guard.w != nil && s.onlyGuardianLeft() {
		s.guard.close()
	}
	return s.childrenGone
}

// onlyGuardianLeft reports whether the guardian is proctor's only child.
func (s *supervisor) onlyGuardianLeft() bool {
	for _, c := range listChildren() {
		if c.pid != s.guard.pid {
			return false
		}
	}
	return true
}

// startGuardian starts the guardian process, when one is configured.
func (s *supervisor) startGuardian() {
	if len(s.opts.Guardian) == 0 {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		s.out.System("cannot start the guardian: " + err.Error())
		return
	}
	defer r.Close()
	pid, err := s.spawner.spawn(spawnSpec{argv: s.opts.Guardian, files: [3]*os.File{r, s.devNull, s.devNull}})
	if err != nil {
		w.Close()
		s.out.System("cannot start the guardian: " + err.Error())
		return
	}
	s.childrenGone = false
	s.guard = &guardian{pid: pid, w: w}
}

// checkLingering tells the guardian about groups that have emptied.
func (s *supervisor) checkLingering() {
	for pgid := range s.lingering {
		if !groupAlive(pgid) {
			delete(s.lingering, pgid)
			s.guardSend(s.guard.remove(pgid))
		}
	}
}

// guardSend reports a failed write to the guardian, which is then given up.
func (s *supervisor) guardSend(err error) {
	if err != nil {
		s.out.System("lost the guardian process (" + err.Error() + "); if proctor is killed, only its direct children will be stopped")
	}
}

func (s *supervisor) onSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGUSR1, syscall.SIGUSR2:
		s.signalAll(sig.(syscall.Signal))
	case syscall.SIGINT:
		if s.shutting {
			if !s.killed {
				s.kill()
			}
			return
		}
		s.beginShutdown(0)
	case syscall.SIGTERM, syscall.SIGHUP:
		s.beginShutdown(0)
	}
}

// start runs in: a new process in its own group, its output copied by
// reader goroutines. An instance runs at most one process at a time.
func (s *supervisor) start(in *instance) {
	if in.alive() {
		return
	}
	var (
		files   [3]*os.File
		readers []*os.File
		streams []output.Stream
		err     error
	)
	if s.opts.TTY {
		var master, slave *os.File
		master, slave, err = openPTY(s.opts.WindowSize.orDefault())
		if err == nil {
			files = [3]*os.File{slave, slave, slave}
			readers, streams = []*os.File{master}, []output.Stream{output.Stdout}
			defer slave.Close()
			in.tty = master
		}
	} else {
		var inR, inW, outR, outW, errR, errW *os.File
		inR, inW, err = os.Pipe()
		if err == nil {
			outR, outW, err = os.Pipe()
			if err != nil {
				inR.Close()
				inW.Close()
			}
		}
		if err == nil {
			errR, errW, err = os.Pipe()
			if err != nil {
				inR.Close()
				inW.Close()
				outR.Close()
				outW.Close()
			}
		}
		if err == nil {
			files = [3]*os.File{inR, outW, errW}
			readers, streams = []*os.File{outR, errR}, []output.Stream{output.Stdout, output.Stderr}
			in.stdin = inW
			defer inR.Close()
			defer outW.Close()
			defer errW.Close()
		}
	}
	var pid int
	if err == nil {
		pid, err = s.spawner.spawn(spawnSpec{command: in.Command, dir: s.opts.Dir, env: in.env, files: files, tty: s.opts.TTY})
	}
	if err != nil {
		for _, r := range readers {
			r.Close()
		}
		in.tty = nil
		in.closeStdin()
		s.out.System(fmt.Sprintf("%s could not start: %v", in.Name, err))
		s.afterExit(in, 127)
		return
	}
	s.nextGen++
	in.gen = s.nextGen
	in.pid = pid
	in.state = Running
	in.started = s.opts.Now()
	in.ready = false
	in.userRestart = false
	s.byPid[pid] = in
	s.childrenGone = false
	s.guardSend(s.guard.add(pid))
	s.out.Copy(in.Name, output.System, strings.NewReader("started with pid "+strconv.Itoa(pid)+"\n"))
	var raw *fanout
	if in.tty != nil {
		raw = &fanout{}
		in.raw = raw
	}
	for i, r := range readers {
		s.copy(in.Name, streams[i], r, raw)
	}
	s.prober.watch(probeTarget{inst: in, gen: in.gen, pid: pid, port: in.Port, started: in.started})
}

// copy starts a reader goroutine that copies r into the output until EOF,
// and to attached terminals when raw is not nil.
func (s *supervisor) copy(name string, stream output.Stream, r *os.File, raw *fanout) {
	s.pipesMu.Lock()
	s.pipes[r] = true
	s.pipesMu.Unlock()
	s.readers.Go(func() {
		var src io.Reader = r
		if raw != nil {
			src = teeReader{r, raw}
			defer raw.close()
		}
		err := s.out.Copy(name, stream, src)
		// A pty master reports EIO once the last slave is closed: that is
		// its end of file.
		if err != nil && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
			s.out.System(fmt.Sprintf("%s: reading output: %v", name, err))
		}
		s.pipesMu.Lock()
		delete(s.pipes, r)
		s.pipesMu.Unlock()
		r.Close()
	})
}

// drain waits for every reader to reach the end of its pipe. Pipes still
// open after drainTimeout (held by a process outside proctor's reach) are
// closed so that proctor does not hang.
func (s *supervisor) drain() {
	finished := make(chan struct{})
	go func() {
		s.readers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return
	case <-time.After(drainTimeout):
	}
	s.pipesMu.Lock()
	for r := range s.pipes {
		r.Close()
	}
	s.pipesMu.Unlock()
	<-finished
}

func (s *supervisor) onReap(ev exitEvent) {
	if ev.noChildren {
		// The event may be stale: the reaper's first pass finds no child
		// before anything is spawned, and a pass may find none just before
		// a spawn. Ask the kernel again, without reaping.
		s.childrenGone = !hasChildren()
		return
	}
	s.checkLingering()
	if s.guard != nil && ev.pid == s.guard.pid {
		s.guard.pid = 0
		if !s.shutting {
			s.out.System("the guardian process exited; if proctor is killed, only its direct children will be stopped")
		}
		s.guard.close()
		return
	}
	in, ok := s.byPid[ev.pid]
	if !ok {
		// An adopted descendant: reaped, nothing else to do. Its own
		// children are now ours; at shutdown they must be signalled too.
		delete(s.signalled, ev.pid)
		if s.shutting {
			s.signalStrangers(s.shutdownSignal())
		}
		return
	}
	delete(s.byPid, ev.pid)
	pid := in.pid
	in.pid = 0
	s.prober.forget(in.gen)
	code := exitCode(ev.status)
	s.out.System(describeExit(in.Name, ev.status))
	// Whatever the shell left behind in its group goes with it.
	in.tty, in.raw = nil, nil // the reader owns the master and closes it at EOF
	in.closeStdin()
	signalGroup(pid, syscall.SIGTERM)
	s.lingering[pid] = true
	s.checkLingering()
	if s.shutting {
		in.state = Stopped
		// Descendants orphaned since shutdown began have come back to
		// proctor: look for them once every instance is gone (one /proc
		// scan, not one per exit).
		if len(s.byPid) == 0 {
			s.signalStrangers(s.shutdownSignal())
		}
		return
	}
	s.afterExit(in, code)
}

// afterExit decides what an instance's exit means: a restart, nothing, or
// the shutdown of the stack.
func (s *supervisor) afterExit(in *instance, code int) {
	uptime := s.opts.Now().Sub(in.started)
	switch {
	case s.shutting:
		in.state = Stopped
	case in.userRestart:
		in.userRestart = false
		in.state = Stopped
		s.start(in)
	case in.userStop:
		in.state = Stopped
		if in.removed {
			s.remove(in)
		}
	case in == s.release:
		s.release = nil
		in.state = Exited
		if code != 0 {
			s.out.System(fmt.Sprintf("release failed with code %d; not starting the other processes", code))
			s.beginShutdown(code)
			return
		}
		s.startAll()
	case s.restart["all"] || s.restart[in.Type]:
		var delay time.Duration
		delay, in.backoff = restartDelay(in.backoff, uptime)
		in.restarts++
		in.state = Restarting
		s.out.System(fmt.Sprintf("restarting %s in %s (restart %d)", in.Name, delay, in.restarts))
		gen := in.gen
		in.restartTimer = s.after(delay, func() {
			if in.gen == gen && in.state == Restarting && !s.shutting {
				s.start(in)
			}
		})
	case s.canDie["all"] || s.canDie[in.Type]:
		in.state = Exited
		if s.nothingLeft() {
			s.out.System("every process has exited")
			s.beginShutdown(0)
		}
	default:
		in.state = Exited
		s.beginShutdown(code)
	}
}

// restartDelay returns how long to wait before restarting an instance that ran
// for uptime, and the wait after that: backoffFirst doubling to backoffMax,
// back to backoffFirst after an uptime of backoffReset.
func restartDelay(current, uptime time.Duration) (delay, next time.Duration) {
	if current <= 0 || uptime >= backoffReset {
		current = backoffFirst
	}
	return current, min(2*current, backoffMax)
}

// after runs f on the supervisor goroutine once d has passed, unless the
// supervisor has ended by then.
func (s *supervisor) after(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		select {
		case s.wake <- f:
		case <-s.done:
		}
	})
}

// nothingLeft reports whether no instance runs or will run again by itself.
func (s *supervisor) nothingLeft() bool {
	for _, in := range s.insts {
		if in.alive() || in.state == Restarting || in.state == Stopped && in.userStop {
			return false
		}
	}
	return true
}

func (s *supervisor) onReady(ev readyEvent) {
	in := ev.target.inst
	if in.gen != ev.target.gen || !in.alive() || in.ready {
		return
	}
	in.ready = true
	after := ev.at.Sub(in.started).Seconds()
	s.out.System(fmt.Sprintf("%s is listening on port %d (%.2fs after start)", in.Name, in.Port, after))
}

// beginShutdown starts stopping everything; code becomes proctor's exit code.
func (s *supervisor) beginShutdown(code int) {
	if s.shutting {
		return
	}
	s.shutting = true
	s.exitCode = code
	for _, in := range s.insts {
		if in.restartTimer != nil {
			in.restartTimer.Stop()
		}
		if in.state == Restarting {
			in.state = Stopped
		}
	}
	s.out.System("sending SIGTERM to all processes")
	for _, in := range s.byPid {
		in.state = Stopping
	}
	s.signalAll(syscall.SIGTERM)
	s.signalStrangers(syscall.SIGTERM)
	s.deadline = time.NewTimer(s.opts.Timeout)
	s.reaper.check()
}

// kill sends SIGKILL to everything still alive.
func (s *supervisor) kill() {
	if s.deadline != nil {
		s.deadline.Stop()
		s.deadline = nil
	}
	s.killed = true
	if !s.shutting {
		s.shutting = true
	}
	s.out.System("sending SIGKILL to all processes")
	s.signalAll(syscall.SIGKILL)
	s.signalStrangers(syscall.SIGKILL)
	s.reaper.check()
}

// signalAll sends sig to the process group of every running instance.
func (s *supervisor) signalAll(sig syscall.Signal) {
	for pid := range s.byPid {
		signalGroup(pid, sig)
	}
}

func (s *supervisor) shutdownSignal() syscall.Signal {
	if s.killed {
		return syscall.SIGKILL
	}
	return syscall.SIGTERM
}

// signalStrangers sends sig to every child of proctor that is not an
// instance (descendants adopted as a subreaper), and to its group, once per
// signal. The guardian is not a stranger: it exits when told bye.
func (s *supervisor) signalStrangers(sig syscall.Signal) {
	for _, c := range listChildren() {
		if _, ok := s.byPid[c.pid]; ok || s.signalled[c.pid] == sig {
			continue
		}
		if s.guard != nil && c.pid == s.guard.pid {
			continue
		}
		s.signalled[c.pid] = sig
		if c.pgid == c.pid {
			signalGroup(c.pid, sig)
		} else {
			syscall.Kill(c.pid, sig)
			if sig == syscall.SIGTERM {
				syscall.Kill(c.pid, syscall.SIGCONT)
			}
		}
	}
}

// signalGroup sends sig to the process group led by pid.
// A SIGTERM is followed by SIGCONT, as systemd does: a stopped process
// (SIGSTOP, Ctrl-Z) would otherwise hold the SIGTERM pending until SIGKILL.
func signalGroup(pid int, sig syscall.Signal) {
	if pid <= 0 {
		return
	}
	syscall.Kill(-pid, sig)
	if sig == syscall.SIGTERM {
		syscall.Kill(-pid, syscall.SIGCONT)
	}
}

// exitCode maps a wait status to a shell-style exit code.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// describeExit is the system line for an exit: "web.1 exited with code 3"
// or "web.1 terminated by SIGTERM".
func describeExit(name string, ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return name + " terminated by " + unix.SignalName(ws.Signal())
	}
	return name + " exited with code " + strconv.Itoa(ws.ExitStatus())
}
