// Package runner starts, supervises and stops the instances of a Procfile
// formation.
//
// It has two layers. The rules live in a pure state machine (machine.go):
// every instance has one lifecycle state, and each event (an exit, a
// readiness report, a timer, a request, a shutdown) yields a list of
// effects. The shell in this file owns everything else and applies those
// effects: one goroutine that owns the machine and runs a select over the
// reaper's exits, timers, readiness reports and requests, and around it:
//   - the spawner forks every child from two goroutines, each locked to its
//     OS thread, so that the Linux parent-death signal (which follows the
//     forking thread) stays armed for as long as proctor runs;
//   - the reaper is the only waiter while it runs: it loops on wait4(-1) on
//     SIGCHLD, so it also reaps descendants adopted because proctor is a
//     child subreaper (Linux) and, as PID 1, every zombie; once it has
//     stopped, the shell reaps the guardian, the last child;
//   - the Output reads the children's pipes (output.Mux: one epoll loop
//     for all of them on Linux, a goroutine for a fast child); a pty, or
//     a run with a log check, has a reader goroutine of its own;
//   - the prober reports when an instance's port starts accepting connections;
//   - the guardian process stops every group proctor started if proctor is
//     killed.
//
// Each instance runs `/bin/sh -c COMMAND` in its own process group (its own
// session when it has a terminal), so signals reach the shell and everything
// it started. Shutdown sends SIGTERM to every group and to adopted
// descendants, SIGKILL after the timeout, and ends only when wait4 reports
// that proctor has no children left and every reader has drained its pipe:
// nothing proctor started outlives it, and no line is lost.
package runner

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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
	// CopyPipe does what Copy does for the non-blocking read end of a
	// pipe, fd, which it owns from then on, and returns at once; done gets
	// what Copy would return once fd is at its end and closed.
	CopyPipe(name string, stream output.Stream, fd int, done func(error))
	// AbortPipes closes every pipe CopyPipe still reads, and those given
	// to it later.
	AbortPipes()
	// System writes one of proctor's own lines.
	System(line string)
	// Failed is closed when the output cannot be written any more.
	Failed() <-chan struct{}
}

// Options configure a Runner. Entries, Counts and Output are required; the
// zero value of every other field is a usable default.
type Options struct {
	// App is the app the instances come from; scale plans new instances
	// from it.
	App procfile.App
	// Plan is the instances to run (App.Plan), in order. An instance of
	// the release type among them runs first, to completion, before the
	// others start.
	Plan []procfile.Instance
	// Dir is the directory the children run in; empty means proctor's own.
	Dir string
	// Timeout is the grace period between SIGTERM and SIGKILL at shutdown;
	// zero means 5 seconds.
	Timeout time.Duration
	// CanDie lists process types whose exit does not stop the stack; "all"
	// means every type.
	CanDie []string
	// Restart lists process types restarted when they exit; "all" means
	// every type.
	Restart []string
	// TTY runs each instance in its own pseudo-terminal of size WindowSize
	// (80x24 when zero).
	TTY        bool
	WindowSize WindowSize
	// Guardian is the command line of the guardian process, normally
	// GuardianCommand(the shutdown timeout); argv[0] is the program's
	// path. Nil means no guardian: a SIGKILL of proctor then stops only
	// its direct children (Linux parent-death signal).
	Guardian []string
	// Output receives all lines.
	Output Output
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

// Runner runs one formation. Create it with New, then call Run once; its
// other methods may be called from any goroutine while Run runs.
type Runner struct {
	opts     Options
	requests chan func(*shell)
	done     chan struct{}
}

// New returns a Runner for opts. It validates the options but starts
// nothing.
func New(opts Options) (*Runner, error) {
	if opts.Output == nil {
		return nil, errors.New("runner: no output")
	}
	if len(opts.Plan) == 0 {
		return nil, ErrEmptyFormation
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{opts: opts, requests: make(chan func(*shell)), done: make(chan struct{})}, nil
}

// Run starts every instance and supervises them until the stack stops:
// when ctx is done or Shutdown is called (SIGTERM to all, SIGKILL after the
// timeout), when Kill is called, when an instance that may not die exits,
// or when the output fails. It returns nil when it was asked to stop, and
// an *ExitError naming the instance whose exit stopped the stack otherwise.
// It returns only when every process it started, and every descendant
// adopted, is gone and every reader has finished.
func (r *Runner) Run(ctx context.Context) error {
	defer close(r.done)
	return newShell(r.opts, r.requests).run(ctx)
}

// Shutdown stops the stack as a signal to proctor does: SIGTERM to every
// process, SIGKILL after the timeout. It returns at once.
func (r *Runner) Shutdown() { r.post(evShutdown{}) }

// Kill sends SIGKILL to every process at once, during a shutdown or
// instead of one.
func (r *Runner) Kill() { r.post(evKill{}) }

// ShuttingDown reports whether the stack has begun to stop, for any
// reason; it is true once Run has returned.
func (r *Runner) ShuttingDown() bool {
	v, err := call(r, func(s *shell, reply func(bool)) { reply(s.m.ShuttingDown()) })
	return v || err != nil
}

// post hands ev to the shell without waiting for its effects.
func (r *Runner) post(ev event) {
	call(r, func(s *shell, reply func(struct{})) {
		reply(struct{}{})
		s.handle(ev)
	})
}

// Signal sends sig to the process group of every running instance (proctor
// passes SIGUSR1 and SIGUSR2 on this way).
func (r *Runner) Signal(sig syscall.Signal) {
	call(r, func(s *shell, reply func(struct{})) {
		for _, pid := range s.m.LivePIDs() {
			signalGroup(pid, sig)
		}
		reply(struct{}{})
	})
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
	Waiting    State = "waiting"
)

// process is the operating-system side of one running instance: what the
// shell closes or hands out while it runs.
type process struct {
	name string
	tty  *os.File // the pty master, with a terminal
	raw  *fanout  // copies the pty's raw output to attached terminals

	// With a log check: matched is set once a line matched, and drained
	// is closed once every reader of the run has reached end of file, so
	// that a line written just before the exit still counts (see onReap).
	gen     uint64
	matched *atomic.Bool
	drained chan struct{}
}

// logDrainWait bounds how long the exit of a run with a log check that has
// not matched waits for its last lines to be read: a descendant may hold
// the pipe open long after. A variable for tests.
var logDrainWait = 200 * time.Millisecond

// shell is the goroutine that owns the machine and does the work its
// effects ask for; see the package doc.
type shell struct {
	opts     Options
	out      Output
	requests <-chan func(*shell)
	m        *machine

	procs   map[int]*process // by pid, while it runs
	replies map[uint64]func(error)
	nextReq uint64

	devNull *os.File
	spawner *spawner
	reaper  *reaper
	prober  *prober
	readers sync.WaitGroup

	// stdin is the pipe every process without a pty reads as its standard
	// input. Nobody writes it; proctor holds its write end open until it
	// exits, so watchers that exit at end of input (tailwindcss --watch,
	// esbuild) keep running. One pipe for all: a pipe per instance cost a
	// pipe to create and to free for each.
	stdin, stdinW *os.File

	// readyCh carries the runs whose check (other than port) passed;
	// checks cancels the polling of each run, done by checkers.
	readyCh  chan uint64
	checks   map[uint64]context.CancelFunc
	checkers sync.WaitGroup
	// probeReq and probeTimeout come from exec checks; probes holds the
	// running ones by pid.
	probeReq     chan probeRun
	probeTimeout chan chan bool
	probes       map[int]chan bool
	pipesMu      sync.Mutex
	pipes        map[*os.File]bool // read ends still open, closed after drainTimeout
	wake         chan event        // timers, delivered on the shell goroutine
	done         chan struct{}     // closed when the loop ends

	guard        *guardian
	guardDue     <-chan time.Time       // while shutting down: when the guardian's queued events are written
	guardToken   string                 // in every instance's environment; see guardScript
	lingering    map[int]bool           // groups whose leader exited but members remain
	signalled    map[int]syscall.Signal // adopted descendants signalled at shutdown
	childrenGone bool
}

func newShell(opts Options, requests <-chan func(*shell)) *shell {
	m := newMachine(machineConfig{
		app: opts.App, timeout: opts.Timeout, canDie: opts.CanDie, restart: opts.Restart,
	}, opts.Plan)
	for _, p := range opts.Plan {
		opts.Output.Register(p.Name, p.TypeIndex)
	}
	return &shell{
		opts:         opts,
		out:          opts.Output,
		requests:     requests,
		m:            m,
		procs:        map[int]*process{},
		replies:      map[uint64]func(error){},
		pipes:        map[*os.File]bool{},
		wake:         make(chan event),
		done:         make(chan struct{}),
		readyCh:      make(chan uint64),
		probeReq:     make(chan probeRun),
		probeTimeout: make(chan chan bool),
		probes:       map[int]chan bool{},
		checks:       map[uint64]context.CancelFunc{},
		signalled:    map[int]syscall.Signal{},
		lingering:    map[int]bool{},
	}
}

func (s *shell) run(ctx context.Context) (err error) {
	if err := becomeSubreaper(); err != nil {
		s.out.System("cannot become a child subreaper (" + err.Error() + "); descendants that leave their process group will not be tracked")
	}
	s.devNull, err = os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer s.devNull.Close()
	s.stdin, s.stdinW, err = stdinPipe()
	if err != nil {
		return err
	}
	defer s.stdin.Close()
	defer s.stdinW.Close()
	s.spawner = startSpawner()
	s.reaper = startReaper()
	s.prober = startProber(s.opts.Now)
	s.startGuardian()

	s.handle(evBegin{})
	s.loop(ctx)
	s.apply(s.m.Finish())
	close(s.done)
	// The guardian exits on the other core while the rest stops.
	s.guard.close()
	for _, cancel := range s.checks {
		cancel()
	}
	s.checkers.Wait()

	s.prober.stop()
	s.reaper.stop()
	s.spawner.stop()
	s.awaitGuardian()
	s.drain()
	return s.m.Result()
}

// awaitGuardian reaps the guardian, the last child the loop may leave
// (see finished), once the reaper has stopped: waiting for it here, in
// wait4, spares the shutdown a SIGCHLD's way through the signal handler,
// the reaper and the loop.
func (s *shell) awaitGuardian() {
	if s.guard == nil || s.guard.pid == 0 {
		return
	}
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(s.guard.pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			break // reaped, or by the reaper before it stopped (ECHILD)
		}
	}
	s.guard.pid = 0
}

// handle gives ev to the machine and carries out its effects.
func (s *shell) handle(ev event) { s.apply(s.m.Handle(s.opts.Now(), ev)) }

// apply carries out effects in order. A spawn's outcome is an event whose
// effects are carried out after the rest.
func (s *shell) apply(fx []effect) {
	// The SIGCONTs that follow SIGTERMs (see signalGroup) are sent once
	// every group of the batch has its SIGTERM: at shutdown, the last of
	// 100 groups is told to stop 100 system calls sooner.
	var cont []int
	sendCont := func() {
		for _, pid := range cont {
			syscall.Kill(-pid, syscall.SIGCONT)
		}
		cont = cont[:0]
	}
	defer sendCont()
	for len(fx) > 0 {
		f := fx[0]
		fx = fx[1:]
		switch f := f.(type) {
		case fxSpawn:
			sendCont() // forks may take long; a stopped group must not wait
			// Consecutive starts (a stack's first, a scale-up) go to the
			// spawner together. Their outcomes are handled in order, and
			// their effects come after the rest, as one start's did.
			batch := []fxSpawn{f}
			for len(batch) < spawnBatch && len(fx) > 0 {
				next, ok := fx[0].(fxSpawn)
				if !ok {
					break
				}
				batch, fx = append(batch, next), fx[1:]
			}
			for _, ev := range s.spawnAll(batch) {
				fx = append(fx, s.m.Handle(s.opts.Now(), ev)...)
			}
		case fxSignal:
			if sig := f.sig.sys(); sig == syscall.SIGTERM && f.pid > 0 {
				syscall.Kill(-f.pid, sig)
				cont = append(cont, f.pid)
			} else {
				signalGroup(f.pid, sig)
			}
		case fxSignalStrangers:
			s.signalStrangers(f.sig.sys())
		case fxWatch:
			s.watch(f)
		case fxUnwatch:
			s.unwatch(f.gen)
		case fxTimer:
			key := f.key
			time.AfterFunc(f.d, func() {
				select {
				case s.wake <- evTimer{key}:
				case <-s.done:
				}
			})
		case fxReapAgain:
			s.reaper.check()
		case fxRegister:
			s.out.Register(f.name, f.typeIndex)
		case fxLog:
			if f.name == "" {
				s.out.System(f.line)
			} else {
				s.out.Copy(f.name, output.System, strings.NewReader(f.line+"\n"))
			}
		case fxReply:
			if reply, ok := s.replies[f.req]; ok {
				delete(s.replies, f.req)
				reply(f.err)
			}
		}
	}
}

// expect registers reply as the answer to a new request and returns its id.
func (s *shell) expect(reply func(error)) uint64 {
	s.nextReq++
	s.replies[s.nextReq] = reply
	return s.nextReq
}

func (sig stopSignal) sys() syscall.Signal {
	if sig == sigKill {
		return syscall.SIGKILL
	}
	return syscall.SIGTERM
}

func (s *shell) loop(ctx context.Context) {
	failed := s.out.Failed()
	stop := ctx.Done()
	var guardTimer *time.Timer // armed by a shutdown; see guardDue
	for !s.finished() {
		// Exits come first. Each start waits for a fork and an exec, which
		// take tens of milliseconds on a loaded machine, and select picks
		// among ready channels at random: in a restart storm, exits queued
		// behind many starts, and requests served meanwhile (ps) gave
		// processes long reaped as running.
		if s.onReaped() {
			continue
		}
		if s.guard.queued() {
			// Write the guardian's events once nothing else waits.
			select {
			case ev := <-s.wake:
				s.handle(ev)
				continue
			default:
			}
			switch {
			case !s.m.ShuttingDown() || !s.guard.deferrable():
				s.guardSend(s.guard.flush())
			case s.guardDue == nil:
				// Shutting down, the events are the removals of groups
				// that ended, one after another (an added group is
				// written at once, above). Written as they come, each
				// wakes the guardian on the other core while the
				// instances exit (the script's shell reads its pipe a
				// byte at a time: 100 removals cost it 700 reads), and
				// most are moot once proctor says bye. They wait
				// guardShutdownWait instead, as long as a group that
				// ended stays listed should proctor be killed meanwhile.
				if guardTimer == nil {
					guardTimer = time.NewTimer(guardShutdownWait)
					defer guardTimer.Stop()
				} else {
					guardTimer.Reset(guardShutdownWait)
				}
				s.guardDue = guardTimer.C
			}
		}
		select {
		case <-s.reaper.ready:
			s.onReaped()
		case ev := <-s.wake:
			s.handle(ev)
		case gen := <-s.prober.events:
			s.handle(evReady{gen})
		case gen := <-s.readyCh:
			s.handle(evReady{gen})
		case run := <-s.probeReq:
			s.startProbe(run)
		case result := <-s.probeTimeout:
			s.endProbe(result)
		case req := <-s.requests:
			req(s)
		case <-s.guardDue:
			s.guardDue = nil
			s.guardSend(s.guard.flush())
		case <-stop:
			stop = nil
			s.handle(evShutdown{})
		case <-failed:
			failed = nil
			s.handle(evShutdown{})
		}
	}
}

// finished reports whether shutdown is complete: no instance runs and
// proctor has no child at all but, perhaps, the guardian. run tells the
// guardian to exit and waits for it after the loop (awaitGuardian). Where
// proctor's children cannot be listed (not Linux, no /proc of its own),
// the guardian is told to exit at once and the loop waits until wait4
// finds no child at all: a probe still running must be reaped first.
func (s *shell) finished() bool {
	if !s.m.Stopped() {
		return false
	}
	if s.guard != nil && s.guard.pid != 0 {
		if canListChildren() {
			return s.onlyGuardianLeft()
		}
		s.guard.close()
	}
	return s.childrenGone
}

// onlyGuardianLeft reports whether the guardian is proctor's only child.
func (s *shell) onlyGuardianLeft() bool {
	for _, pid := range listChildren(s.spawner.threads()...) {
		if pid != s.guard.pid {
			return false
		}
	}
	return true
}

// startGuardian starts the guardian process, when one is configured.
func (s *shell) startGuardian() {
	if len(s.opts.Guardian) == 0 {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		s.out.System("cannot start the guardian: " + err.Error())
		return
	}
	defer r.Close()
	files := [3]int{int(r.Fd()), int(s.devNull.Fd()), int(s.devNull.Fd())}
	pid, err := s.spawner.spawn(spawnSpec{argv: s.opts.Guardian, files: files})
	if alt := scriptInstead(s.opts.Guardian); err != nil && alt != nil {
		// The kernel would not execute the memfd (a security policy):
		// the script does the same work in more memory.
		pid, err = s.spawner.spawn(spawnSpec{argv: alt, files: files})
	}
	if err != nil {
		w.Close()
		s.out.System("cannot start the guardian: " + err.Error())
		return
	}
	s.childrenGone = false
	s.guard = &guardian{pid: pid, w: w}
	// The token only has to be unique, not secret: math/rand/v2's global
	// source is seeded from the kernel's randomness, and leaving
	// crypto/rand out of the binary keeps ~0.4 MiB of its code out of
	// every proctor's memory.
	var nonce [16]byte
	binary.LittleEndian.PutUint64(nonce[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(nonce[8:], rand.Uint64())
	s.guardToken = hex.EncodeToString(nonce[:])
	// Written now, not with the first batch: every instance carries the
	// token, and a kill -9 during the start of the first instances, before
	// the supervisor is idle and writes the batch, must find the guardian
	// knowing it. (The stress suite's random kill -9 after 90 ms left a
	// grandchild running when the token waited for the batch.)
	s.guardSend(s.guard.token(s.guardToken))
	s.guardSend(s.guard.flush())
}

// checkLingering tells the guardian about groups that have emptied.
func (s *shell) checkLingering() {
	for pgid := range s.lingering {
		if !groupAlive(pgid) {
			delete(s.lingering, pgid)
			s.guardSend(s.guard.remove(pgid))
		}
	}
}

// guardSend reports a failed write to the guardian, which is then given up.
func (s *shell) guardSend(err error) {
	if err != nil {
		s.out.System("lost the guardian process (" + err.Error() + "); if proctor is killed, only its direct children will be stopped")
	}
}

// spawnBatch is the most starts handed to the spawner at once: each holds
// four pipe ends open until the batch is forked.
const spawnBatch = 16

// spawnAll starts the processes of batch, each in its own group, its output
// copied into the Output, and reports each outcome as an event, in
// order.
func (s *shell) spawnAll(batch []fxSpawn) []event {
	starts := make([]*start, len(batch))
	specs := make([]spawnSpec, 0, len(batch))
	for i, f := range batch {
		starts[i] = s.prepare(f)
		if starts[i].err == nil {
			specs = append(specs, starts[i].spec)
		}
	}
	results := s.spawner.spawnAll(specs)
	evs := make([]event, len(batch))
	for i, st := range starts {
		if st.err == nil {
			st.pid, st.err = results[0].pid, results[0].err
			results = results[1:]
		}
		evs[i] = s.started(st)
	}
	return evs
}

// start is one process on its way: its pipes (or pty), then its pid.
type start struct {
	f       fxSpawn
	spec    spawnSpec
	proc    *process
	readers []*os.File      // a pty's master, read by copy
	pipes   []int           // or the read ends of the stdout and stderr pipes
	streams []output.Stream // of each reader or pipe
	child   []*os.File      // the child's end of a pty, closed once it is forked
	childFd []int           // or of its pipes
	pid     int
	err     error
}

// prepare opens the pipes (or the pty) of f's process; err is set when it
// cannot.
func (s *shell) prepare(f fxSpawn) *start {
	st := &start{f: f, proc: &process{name: f.inst.Name}}
	var files [3]int
	if s.opts.TTY {
		master, slave, err := openPTY(s.opts.WindowSize.orDefault())
		if err != nil {
			st.err = err
			return st
		}
		files = [3]int{int(slave.Fd()), int(slave.Fd()), int(slave.Fd())}
		st.readers, st.streams, st.child = []*os.File{master}, []output.Stream{output.Stdout}, []*os.File{slave}
		st.proc.tty = master
	} else {
		// The child's ends of its stdout and stderr pipes, and proctor's,
		// which it reads; stdin is the pipe all instances share.
		child, own := []int{-1, -1}, []int{-1, -1}
		var err error
		for i := 0; i < 2 && err == nil; i++ {
			child[i], own[i], err = outputPipe()
		}
		if err != nil {
			for i := range child {
				if child[i] >= 0 {
					syscall.Close(child[i])
					syscall.Close(own[i])
				}
			}
			st.err = err
			return st
		}
		files = [3]int{int(s.stdin.Fd()), child[0], child[1]}
		st.pipes, st.streams, st.childFd = own, []output.Stream{output.Stdout, output.Stderr}, child
	}
	st.spec = spawnSpec{command: f.inst.Command, direct: f.inst.Argv, dir: s.opts.Dir, env: s.spawnEnv(f.inst), files: files, tty: s.opts.TTY}
	return st
}

// started finishes st once it is forked (or has failed): the child's ends
// are closed, and the process is registered and its output copied.
func (s *shell) started(st *start) event {
	for _, f := range st.child {
		f.Close()
	}
	for _, fd := range st.childFd {
		syscall.Close(fd)
	}
	if st.err != nil {
		for _, r := range st.readers {
			r.Close()
		}
		for _, fd := range st.pipes {
			syscall.Close(fd)
		}
		return evSpawnFailed{gen: st.f.gen, err: st.err}
	}
	f, proc, pid := st.f, st.proc, st.pid
	s.procs[pid] = proc
	s.childrenGone = false
	s.guardSend(s.guard.add(pid))
	if proc.tty != nil {
		proc.raw = &fanout{}
	}
	match, matched := s.logCheck(f.inst, f.gen)
	var done func()
	if matched != nil {
		proc.gen, proc.matched, proc.drained = f.gen, matched, make(chan struct{})
		var left atomic.Int32
		left.Store(int32(len(st.readers) + len(st.pipes)))
		done = func() {
			if left.Add(-1) == 0 {
				close(proc.drained)
			}
		}
	}
	for i, r := range st.readers {
		s.copy(f.inst.Name, st.streams[i], r, proc.raw, match, done)
	}
	for i, fd := range st.pipes {
		if match != nil {
			s.copy(f.inst.Name, st.streams[i], os.NewFile(uintptr(fd), "|"+st.streams[i].String()), nil, match, done)
			continue
		}
		s.readers.Add(1)
		name := f.inst.Name
		s.out.CopyPipe(name, st.streams[i], fd, func(err error) {
			s.readErr(name, err)
			s.readers.Done()
		})
	}
	return evSpawned{gen: f.gen, pid: pid}
}

// spawnEnv is the environment inst starts with: its own, from the plan, and
// the guardian's token, when there is a guardian.
func (s *shell) spawnEnv(inst procfile.Instance) []string {
	if s.guardToken == "" {
		return inst.Env
	}
	return env.Set(inst.Env, guardTokenEnv, s.guardToken)
}

// copy starts a reader goroutine that copies r (a pty, or a pipe read for a
// log check) into the output until EOF,
// and to attached terminals when raw is not nil.
func (s *shell) copy(name string, stream output.Stream, r *os.File, raw *fanout, match func(io.Reader) io.Reader, done func()) {
	s.pipesMu.Lock()
	s.pipes[r] = true
	s.pipesMu.Unlock()
	s.readers.Go(func() {
		var src io.Reader = r
		if raw != nil {
			src = teeReader{r, raw}
			defer raw.close()
		}
		if match != nil {
			src = match(src)
		}
		s.readErr(name, s.out.Copy(name, stream, src))
		s.pipesMu.Lock()
		delete(s.pipes, r)
		s.pipesMu.Unlock()
		r.Close()
		if done != nil {
			done()
		}
	})
}

// readErr reports an error reading name's output, unless it is an end.
func (s *shell) readErr(name string, err error) {
	// A pty master reports EIO once the last slave is closed: that is its
	// end of file. ErrClosed: drain closed it.
	if err != nil && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
		s.out.System(fmt.Sprintf("%s: reading output: %v", name, err))
	}
}

// drain waits for every reader to reach the end of its pipe. Pipes still
// open after drainTimeout (held by a process outside proctor's reach) are
// closed so that proctor does not hang.
func (s *shell) drain() {
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
	s.out.AbortPipes()
	<-finished
}

// onReaped handles the exits the reaper has queued and reports whether
// there were any.
func (s *shell) onReaped() bool {
	evs := s.reaper.take()
	for _, ev := range evs {
		s.onReap(ev)
	}
	return len(evs) > 0
}

func (s *shell) onReap(ev exitEvent) {
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
		if !s.m.ShuttingDown() {
			s.out.System("the guardian process exited; if proctor is killed, only its direct children will be stopped")
		}
		s.guard.close()
		return
	}
	if s.probeExited(ev.pid, ev.status) {
		return
	}
	proc, ok := s.procs[ev.pid]
	if !ok {
		// An adopted descendant: reaped, nothing else to do. Its own
		// children are now ours; at shutdown they must be signalled too.
		delete(s.signalled, ev.pid)
		if s.m.ShuttingDown() {
			s.signalStrangers(s.m.ShutdownSignal().sys())
		}
		return
	}
	delete(s.procs, ev.pid)
	// The reader owns the pty master and closes it at end of file.
	// Whatever the shell left behind in its group goes with it.
	if groupAlive(ev.pid) {
		signalGroup(ev.pid, syscall.SIGTERM)
		s.lingering[ev.pid] = true
	} else {
		s.guardSend(s.guard.remove(ev.pid))
	}
	s.checkLingering()
	exit := evExited{pid: ev.pid, status: waitStatusOf(ev.status)}
	if proc.matched == nil {
		s.handle(exit)
		return
	}
	// A run with a log check: its ready line may still be in the pipe.
	// Once it is read (or logDrainWait has passed), report the match, if
	// any, before the exit, as they happened.
	go func() {
		t := time.NewTimer(logDrainWait)
		defer t.Stop()
		select {
		case <-proc.drained:
		case <-t.C:
		}
		evs := []event{exit}
		if proc.matched.Load() {
			evs = []event{evReady{proc.gen}, exit}
		}
		for _, ev := range evs {
			select {
			case s.wake <- ev:
			case <-s.done:
				return
			}
		}
	}()
}

// waitStatusOf converts a wait status for the machine.
func waitStatusOf(ws syscall.WaitStatus) exitStatus {
	if ws.Signaled() {
		return exitStatus{signum: int(ws.Signal()), signal: unix.SignalName(ws.Signal())}
	}
	return exitStatus{code: ws.ExitStatus()}
}

// signalStrangers sends sig to every child of proctor that is not an
// instance (descendants adopted as a subreaper), and to its group, once per
// signal. The guardian is not a stranger: it exits when told bye.
func (s *shell) signalStrangers(sig syscall.Signal) {
	for _, pid := range listChildren(s.spawner.threads()...) {
		if _, ok := s.procs[pid]; ok || s.signalled[pid] == sig {
			continue
		}
		if s.guard != nil && pid == s.guard.pid {
			continue
		}
		pgid, ok := processGroup(pid)
		if !ok {
			continue // reaped meanwhile
		}
		s.signalled[pid] = sig
		if pgid == pid {
			signalGroup(pid, sig)
		} else {
			syscall.Kill(pid, sig)
			if sig == syscall.SIGTERM {
				syscall.Kill(pid, syscall.SIGCONT)
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
