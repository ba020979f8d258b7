package runner

// The supervision rules, as a pure state machine: machine.Handle takes one
// event (an exit, a readiness report, a timer, a request, a shutdown) and
// returns the effects to carry out (spawn, signal, arm a timer, reply,
// log). It makes no system calls, starts no goroutines and reads no clock:
// the shell in runner.go does all of that and feeds the results back as
// events, so tests can drive every rule event by event.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// lifecycle is where an instance is in its life. Each instance has exactly
// one; the states that have a process (running to terminating) hold its pid.
type lifecycle uint8

const (
	idle        lifecycle = iota // planned, not started yet
	waiting                      // waits for the types it starts after to be ready
	starting                     // spawn asked for, no pid yet
	running                      // its process runs
	stopping                     // stopped on request: stays stopped once it exits
	restarting                   // restarted on request: starts again once it exits
	removing                     // scaled away: leaves the list once it exits
	terminating                  // stopped by the stack's shutdown
	backoff                      // exited, waiting for its restart timer
	exited                       // exited, and allowed to (can-die, release)
	stopped                      // stopped on request, or by the shutdown
)

// State returns the state `proctor ps` shows for l.
func (l lifecycle) State() State {
	switch l {
	case starting:
		return Starting
	case running:
		return Running
	case stopping, restarting, removing, terminating:
		return Stopping
	case backoff:
		return Restarting
	case exited:
		return Exited
	case waiting:
		return Waiting
	}
	return Stopped
}

// stopSignal is a signal the machine asks the shell to send.
type stopSignal uint8

const (
	sigTerm stopSignal = iota + 1
	sigKill
)

// phase is the stack's shutdown progress.
type phase uint8

const (
	up       phase = iota // running
	shutdown              // SIGTERM sent, waiting for exits or the deadline
	killing               // SIGKILL sent
)

// exitStatus is how a process ended: an exit code, or a signal.
type exitStatus struct {
	code   int    // the exit code, when it exited
	signum int    // the signal number, when a signal ended it; 0 otherwise
	signal string // the signal's name, e.g. "SIGTERM"
}

// shellCode is the status as a shell reports it: 128+N for signal N.
func (st exitStatus) shellCode() int {
	if st.signum != 0 {
		return 128 + st.signum
	}
	return st.code
}

func (st exitStatus) describe(name string) string {
	if st.signum != 0 {
		return name + " terminated by " + st.signal
	}
	return name + " exited with code " + strconv.Itoa(st.code)
}

// ExitError is returned by Run when an instance's exit stopped the stack:
// a type not allowed to die exited, or the release phase failed.
type ExitError struct {
	// Name is the instance, e.g. "web.1".
	Name string
	// Code is its exit code, or 0 when a signal ended it.
	Code int
	// Signal is the name of the signal that ended it ("SIGKILL"), if any.
	Signal string
	signum int
}

func (e *ExitError) Error() string {
	return exitStatus{code: e.Code, signum: e.signum, signal: e.Signal}.describe(e.Name)
}

// ExitCode is the code proctor exits with: the instance's code, or 128+N
// when signal N ended it, as a shell reports it.
func (e *ExitError) ExitCode() int {
	return exitStatus{code: e.Code, signum: e.signum}.shellCode()
}

// unit is one instance of the formation and its history.
type unit struct {
	procfile.Instance

	state    lifecycle
	pid      int    // 0 when no process runs
	gen      uint64 // which run; new on every spawn
	started  time.Time
	restarts int
	backoff  time.Duration
	ready    bool
}

func (u *unit) alive() bool { return u.pid != 0 }

// awaitingSpawn reports whether u's spawn has been asked for and not
// answered yet. A request that stops u meanwhile leaves it stopping or
// removing with no pid; the spawn's outcome then finishes the stop.
func (u *unit) awaitingSpawn() bool {
	return u.pid == 0 && (u.state == starting || u.state == stopping || u.state == removing)
}

// Events.
type (
	// evBegin starts the stack: the release phase, or every instance.
	evBegin struct{}
	// evSpawned reports that run gen has started as process pid.
	evSpawned struct {
		gen uint64
		pid int
	}
	// evSpawnFailed reports that run gen could not start.
	evSpawnFailed struct {
		gen uint64
		err error
	}
	// evExited reports that process pid has been reaped.
	evExited struct {
		pid    int
		status exitStatus
	}
	// evReady reports that run gen listens on its port.
	evReady struct{ gen uint64 }
	// evTimer reports that a timer armed with fxTimer has fired.
	evTimer struct{ key timerKey }
	// evShutdown asks for a graceful stop: SIGTERM, SIGKILL after the timeout.
	evShutdown struct{}
	// evKill asks for SIGKILL to everything at once.
	evKill struct{}
	// evStop, evRestart and evScale are control requests; the machine
	// answers each with one fxReply carrying req.
	evStop struct {
		req  uint64
		name string
	}
	evRestart struct {
		req  uint64
		name string
	}
	evScale struct {
		req    uint64
		counts []procfile.TypeCount
	}
	// evChanged reports that files typ watches have changed: path, and
	// more others; its instances restart, answered like a restart.
	evChanged struct {
		req  uint64
		typ  string
		path string
		more int
	}
	// evWait asks to be answered once every instance of the types is
	// ready (see waitRequest).
	evWait struct {
		req   uint64
		types []string
	}
)

type event interface{ isEvent() }

func (evBegin) isEvent()       {}
func (evSpawned) isEvent()     {}
func (evSpawnFailed) isEvent() {}
func (evExited) isEvent()      {}
func (evReady) isEvent()       {}
func (evTimer) isEvent()       {}
func (evShutdown) isEvent()    {}
func (evKill) isEvent()        {}
func (evStop) isEvent()        {}
func (evRestart) isEvent()     {}
func (evScale) isEvent()       {}
func (evWait) isEvent()        {}
func (evChanged) isEvent()     {}

// timerKind says what a timer is for.
type timerKind uint8

const (
	timerRestart  timerKind = iota + 1 // restart run gen's instance after its backoff
	timerKill                          // SIGKILL run gen if it still runs
	timerDeadline                      // the shutdown's grace period is over
	timerReady                         // run gen's time to become ready is over
)

type timerKey struct {
	kind timerKind
	gen  uint64
}

// Effects.
type (
	// fxSpawn starts a process for u as run gen; the shell answers with
	// evSpawned or evSpawnFailed.
	fxSpawn struct {
		gen  uint64
		inst procfile.Instance
	}
	// fxSignal sends sig to the process group led by pid.
	fxSignal struct {
		pid int
		sig stopSignal
	}
	// fxSignalStrangers sends sig to the descendants proctor adopted.
	fxSignalStrangers struct{ sig stopSignal }
	// fxWatch starts checking run gen's readiness with check; fxUnwatch
	// stops it.
	fxWatch struct {
		gen     uint64
		pid     int
		port    int
		started time.Time
		check   procfile.Readiness
		env     []string // for an exec check
	}
	fxUnwatch struct{ gen uint64 }
	// fxTimer arms a timer that fires evTimer{key} after d.
	fxTimer struct {
		key timerKey
		d   time.Duration
	}
	// fxReapAgain asks the reaper to look for exits now.
	fxReapAgain struct{}
	// fxRegister declares a new instance name to the output.
	fxRegister struct {
		name      string
		typeIndex int
	}
	// fxLog writes one of proctor's own lines; with name, under that
	// instance's prefix.
	fxLog struct{ name, line string }
	// fxReply answers request req.
	fxReply struct {
		req uint64
		err error
	}
)

type effect interface{ isEffect() }

func (fxSpawn) isEffect()           {}
func (fxSignal) isEffect()          {}
func (fxSignalStrangers) isEffect() {}
func (fxWatch) isEffect()           {}
func (fxUnwatch) isEffect()         {}
func (fxTimer) isEffect()           {}
func (fxReapAgain) isEffect()       {}
func (fxRegister) isEffect()        {}
func (fxLog) isEffect()             {}
func (fxReply) isEffect()           {}

// machineConfig is what the rules depend on.
type machineConfig struct {
	app     procfile.App // scale plans new instances from it
	timeout time.Duration
	canDie  []string
	restart []string
}

// machine holds the state of the stack and applies the rules.
type machine struct {
	cfg     machineConfig
	canDie  map[string]bool
	restart map[string]bool

	units   []*unit // in Procfile order, then by number
	phase   phase
	release *unit // the release phase, while the others wait for it
	result  error // what Run returns: nil, or the *ExitError that stopped the stack
	nextGen uint64
	waiters []waiter

	now time.Time // the time of the event being handled
	fx  []effect  // the effects of the event being handled
}

// waiter is a request waiting for the units to change: then runs once
// until holds, checked after every event.
type waiter struct {
	until func() bool
	then  func()
}

// newMachine makes a unit of each planned instance.
func newMachine(cfg machineConfig, planned []procfile.Instance) *machine {
	m := &machine{cfg: cfg, canDie: typeSet(cfg.canDie), restart: typeSet(cfg.restart)}
	for _, p := range planned {
		m.units = append(m.units, m.newUnit(p))
	}
	return m
}

func typeSet(types []string) map[string]bool {
	m := map[string]bool{}
	for _, t := range types {
		m[t] = true
	}
	return m
}

func (m *machine) newUnit(p procfile.Instance) *unit {
	return &unit{Instance: p, state: idle, backoff: backoffFirst}
}

// Handle applies ev, which happened at now, and returns the effects to
// carry out, in order.
func (m *machine) Handle(now time.Time, ev event) []effect {
	m.now, m.fx = now, nil
	switch ev := ev.(type) {
	case evBegin:
		m.begin()
	case evSpawned:
		m.spawned(ev)
	case evSpawnFailed:
		if u := m.byGen(ev.gen); u != nil && u.awaitingSpawn() {
			m.log("", fmt.Sprintf("%s could not start: %v", u.Name, ev.err))
			m.afterExit(u, exitStatus{code: 127})
		}
	case evExited:
		m.exited(ev)
	case evReady:
		if u := m.byGen(ev.gen); u != nil && u.alive() && !u.ready {
			u.ready = true
			if check := m.rules(u.Type).Ready; check.Kind == "" || check.Kind == procfile.ReadyPort {
				m.log("", fmt.Sprintf("%s is listening on port %d (%.2fs after start)", u.Name, u.Port, now.Sub(u.started).Seconds()))
			} else {
				m.log("", fmt.Sprintf("%s is ready (%s, %.2fs after start)", u.Name, check, now.Sub(u.started).Seconds()))
			}
			m.startUnblocked()
		}
	case evTimer:
		m.timer(ev.key)
	case evShutdown:
		m.beginShutdown(nil)
	case evKill:
		m.kill()
	case evStop:
		m.stopRequest(ev)
	case evRestart:
		m.restartRequest(ev)
	case evScale:
		m.scaleRequest(ev)
	case evWait:
		m.waitRequest(ev)
	case evChanged:
		m.changed(ev)
	}
	// Whatever changed (a dependency ready, scaled away, ...) may let a
	// waiting instance start.
	m.startUnblocked()
	m.checkWaiters()
	fx := m.fx
	m.fx = nil
	return fx
}

// Finish completes every waiting request: the stack has ended and nothing
// will change any more.
func (m *machine) Finish() []effect {
	m.fx = nil
	for _, w := range m.waiters {
		w.then()
	}
	m.waiters = nil
	fx := m.fx
	m.fx = nil
	return fx
}

// Stopped reports whether the shutdown has begun and no instance has a
// process any more.
func (m *machine) Stopped() bool {
	if m.phase == up {
		return false
	}
	for _, u := range m.units {
		if u.alive() || u.awaitingSpawn() {
			return false
		}
	}
	return true
}

// ShuttingDown reports whether the shutdown has begun.
func (m *machine) ShuttingDown() bool { return m.phase != up }

// ShutdownSignal is the signal of the shutdown's current step.
func (m *machine) ShutdownSignal() stopSignal {
	if m.phase == killing {
		return sigKill
	}
	return sigTerm
}

// Result is what Run returns once the machine has stopped.
func (m *machine) Result() error { return m.result }

// Owns reports whether pid is the process of an instance.
func (m *machine) Owns(pid int) bool { return m.byPid(pid) != nil }

// LivePIDs lists the process of every instance that has one.
func (m *machine) LivePIDs() []int {
	var pids []int
	for _, u := range m.units {
		if u.alive() {
			pids = append(pids, u.pid)
		}
	}
	return pids
}

// Status returns a snapshot of every instance at now.
func (m *machine) Status(now time.Time) []Status {
	out := make([]Status, 0, len(m.units))
	for _, u := range m.units {
		st := Status{Name: u.Name, Type: u.Type, PID: u.pid, State: u.state.State(), Restarts: u.restarts, Port: u.Port, Ready: u.ready}
		if u.alive() {
			st.Uptime = now.Sub(u.started)
		}
		out = append(out, st)
	}
	return out
}

func (m *machine) log(name, line string) { m.fx = append(m.fx, fxLog{name, line}) }

func (m *machine) emit(fx ...effect) { m.fx = append(m.fx, fx...) }

func (m *machine) byGen(gen uint64) *unit {
	for _, u := range m.units {
		if u.gen == gen {
			return u
		}
	}
	return nil
}

func (m *machine) byPid(pid int) *unit {
	if pid == 0 {
		return nil
	}
	for _, u := range m.units {
		if u.pid == pid {
			return u
		}
	}
	return nil
}

// begin starts the release phase alone, the others once it succeeds; or
// every instance when there is no release.
func (m *machine) begin() {
	var rel *unit
	for _, u := range m.units {
		if u.Type == procfile.ReleaseType {
			rel = u
		}
	}
	switch {
	case rel != nil && len(m.units) > 1:
		m.release = rel
		m.start(rel)
	case rel != nil:
		m.start(rel) // `start release`: it runs alone
	default:
		m.startAll()
	}
}

// startAll starts every instance that has not started yet, or sets it
// waiting for the types it starts after.
func (m *machine) startAll() {
	for _, u := range m.units {
		if u.state == idle && u.Type != procfile.ReleaseType {
			m.startOrWait(u)
		}
	}
}

func (m *machine) rules(typ string) procfile.Rules { return m.cfg.app.Rules[typ] }

// readinessMatters reports whether the readiness of typ is waited for: it
// has a check of its own, or another type starts after it. Only then does
// an instance that does not become ready in time stop the stack.
func (m *machine) readinessMatters(typ string) bool {
	if m.rules(typ).Ready.Kind != "" {
		return true
	}
	for _, r := range m.cfg.app.Rules {
		if slices.Contains(r.After, typ) {
			return true
		}
	}
	return false
}

// blockers lists the instances u starts after that are not ready.
func (m *machine) blockers(u *unit) []*unit {
	var out []*unit
	for _, t := range m.rules(u.Type).After {
		for _, d := range m.units {
			if d.Type == t && d.state != removing && !(d.alive() && d.ready) {
				out = append(out, d) // (an instance being scaled away is not waited for)
			}
		}
	}
	return out
}

// startOrWait starts u, or sets it waiting when an instance it starts after
// is not ready yet, saying for which.
func (m *machine) startOrWait(u *unit) {
	b := m.blockers(u)
	if len(b) == 0 {
		m.start(u)
		return
	}
	u.state = waiting
	parts := make([]string, len(b))
	for i, d := range b {
		parts[i] = fmt.Sprintf("%s (ready: %s)", d.Name, m.describeCheck(d))
	}
	m.log("", fmt.Sprintf("%s waits for %s", u.Name, strings.Join(parts, ", ")))
}

// describeCheck is u's readiness check as the stream shows it.
func (m *machine) describeCheck(u *unit) string {
	check := m.rules(u.Type).Ready
	if check.Kind == "" || check.Kind == procfile.ReadyPort {
		return "port " + strconv.Itoa(u.Port)
	}
	return check.String()
}

// startUnblocked starts the waiting instances whose every dependency is
// now ready.
func (m *machine) startUnblocked() {
	if m.phase != up {
		return
	}
	for _, u := range m.units {
		if u.state != waiting || len(m.blockers(u)) > 0 {
			continue
		}
		var deps []string
		for _, t := range m.rules(u.Type).After {
			for _, d := range m.units {
				if d.Type == t && d.state != removing {
					deps = append(deps, d.Name)
				}
			}
		}
		m.log("", fmt.Sprintf("starting %s: %s ready", u.Name, strings.Join(deps, ", ")))
		m.start(u)
	}
}

// start asks for a new run of u.
func (m *machine) start(u *unit) {
	m.nextGen++
	u.gen = m.nextGen
	u.state = starting
	m.emit(fxSpawn{gen: u.gen, inst: u.Instance})
}

func (m *machine) spawned(ev evSpawned) {
	u := m.byGen(ev.gen)
	if u == nil || !u.awaitingSpawn() {
		return
	}
	u.pid, u.started, u.ready = ev.pid, m.now, false
	m.log(u.Name, "started with pid "+strconv.Itoa(ev.pid))
	switch {
	case m.phase != up:
		// Spawned after the shutdown began (asked for just before it).
		u.state = terminating
		m.emit(fxSignal{u.pid, m.ShutdownSignal()})
	case u.state == stopping || u.state == removing:
		// Stopped or scaled away while it was starting.
		m.terminate(u)
	default:
		u.state = running
		m.emit(fxWatch{gen: u.gen, pid: u.pid, port: u.Port, started: u.started, check: m.rules(u.Type).Ready, env: u.Env})
		if m.readinessMatters(u.Type) {
			timeout := cmp.Or(m.rules(u.Type).ReadyTimeout, procfile.DefaultReadyTimeout)
			m.emit(fxTimer{timerKey{timerReady, u.gen}, timeout})
		}
	}
}

func (m *machine) exited(ev evExited) {
	u := m.byPid(ev.pid)
	if u == nil {
		return
	}
	u.pid = 0
	m.emit(fxUnwatch{u.gen})
	m.log("", ev.status.describe(u.Name))
	if m.phase != up {
		u.state = stopped
		// Descendants orphaned since the shutdown began have come back to
		// proctor: look for them once every instance is gone.
		if m.Stopped() {
			m.emit(fxSignalStrangers{m.ShutdownSignal()})
		}
		return
	}
	m.afterExit(u, ev.status)
}

// afterExit decides what the end of u's run means: a restart, nothing, or
// the shutdown of the stack.
func (m *machine) afterExit(u *unit, st exitStatus) {
	switch {
	case m.phase != up:
		u.state = stopped
	case u.state == restarting:
		m.start(u)
	case u.state == stopping:
		u.state = stopped
	case u.state == removing:
		m.remove(u)
	case u == m.release:
		m.release = nil
		u.state = exited
		if code := st.shellCode(); code != 0 {
			m.log("", fmt.Sprintf("release failed with code %d; not starting the other processes", code))
			m.beginShutdown(exitErr(u, st))
			return
		}
		m.startAll()
	case m.restart["all"] || m.restart[u.Type]:
		var delay time.Duration
		delay, u.backoff = restartDelay(u.backoff, m.now.Sub(u.started))
		u.restarts++
		u.state = backoff
		m.log("", fmt.Sprintf("restarting %s in %s (restart %d)", u.Name, delay, u.restarts))
		m.emit(fxTimer{timerKey{timerRestart, u.gen}, delay})
	case m.canDie["all"] || m.canDie[u.Type]:
		u.state = exited
		if w := m.waitingFor(u); w != nil {
			// It may exit, but what waits for it could never start.
			m.log("", fmt.Sprintf("%s exited before it was ready; %s waits for it", u.Name, w.Name))
			m.beginShutdown(&NotReadyError{Name: u.Name, Check: m.describeCheck(u), Exited: true})
			return
		}
		if m.nothingLeft() {
			m.log("", "every process has exited")
			m.beginShutdown(nil)
		}
	default:
		u.state = exited
		m.beginShutdown(exitErr(u, st))
	}
}

// NotReadyError is returned by Run when an instance that others wait for,
// or that has a readiness check of its own, was not ready in time, or
// exited (allowed to, under can-die) while others waited for it.
type NotReadyError struct {
	// Name is the instance, e.g. "db.1".
	Name string
	// Timeout is how long it had.
	Timeout time.Duration
	// Check is its readiness check, e.g. "log ready to accept".
	Check string
	// Exited is set when it exited before it was ready.
	Exited bool
}

func (e *NotReadyError) Error() string {
	if e.Exited {
		return fmt.Sprintf("%s exited before it was ready (ready: %s)", e.Name, e.Check)
	}
	return fmt.Sprintf("%s is not ready after %s (ready: %s)", e.Name, e.Timeout, e.Check)
}

// waitingFor returns an instance that waits for u, if any.
func (m *machine) waitingFor(u *unit) *unit {
	for _, w := range m.units {
		if w.state == waiting && slices.Contains(m.blockers(w), u) {
			return w
		}
	}
	return nil
}

func exitErr(u *unit, st exitStatus) *ExitError {
	return &ExitError{Name: u.Name, Code: st.code, Signal: st.signal, signum: st.signum}
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

// nothingLeft reports whether every instance has exited for good.
func (m *machine) nothingLeft() bool {
	for _, u := range m.units {
		if u.state != exited {
			return false
		}
	}
	return true
}

func (m *machine) timer(key timerKey) {
	switch key.kind {
	case timerRestart:
		if u := m.byGen(key.gen); u != nil && u.state == backoff && m.phase == up {
			m.start(u)
		}
	case timerKill:
		if u := m.byGen(key.gen); u != nil && u.alive() {
			m.emit(fxSignal{u.pid, sigKill})
		}
	case timerDeadline:
		if m.phase == shutdown {
			m.kill()
		}
	case timerReady:
		if u := m.byGen(key.gen); u != nil && u.state == running && !u.ready && m.phase == up {
			timeout := cmp.Or(m.rules(u.Type).ReadyTimeout, procfile.DefaultReadyTimeout)
			m.log("", fmt.Sprintf("%s is not ready after %s (ready: %s); stopping", u.Name, timeout, m.describeCheck(u)))
			m.beginShutdown(&NotReadyError{Name: u.Name, Timeout: timeout, Check: m.describeCheck(u)})
		}
	}
}

// beginShutdown stops everything; result becomes Run's result.
func (m *machine) beginShutdown(result error) {
	if m.phase != up {
		return
	}
	m.phase = shutdown
	m.result = result
	for _, u := range m.units {
		if u.state == backoff || u.state == waiting {
			u.state = stopped
		}
	}
	m.log("", "sending SIGTERM to all processes")
	for _, u := range m.units {
		if u.alive() {
			u.state = terminating
			m.emit(fxSignal{u.pid, sigTerm})
		}
	}
	m.emit(fxSignalStrangers{sigTerm}, fxTimer{timerKey{kind: timerDeadline}, m.cfg.timeout}, fxReapAgain{})
}

// kill sends SIGKILL to everything still alive.
func (m *machine) kill() {
	if m.phase == killing {
		return
	}
	if m.phase == up {
		for _, u := range m.units {
			if u.state == backoff || u.state == waiting {
				u.state = stopped
			}
		}
	}
	m.phase = killing
	m.log("", "sending SIGKILL to all processes")
	for _, u := range m.units {
		if u.alive() {
			u.state = terminating
			m.emit(fxSignal{u.pid, sigKill})
		}
	}
	m.emit(fxSignalStrangers{sigKill}, fxReapAgain{})
}

// terminate sends SIGTERM to u's group and SIGKILL after the timeout if
// the same run still lives.
func (m *machine) terminate(u *unit) {
	m.emit(fxSignal{u.pid, sigTerm}, fxTimer{timerKey{timerKill, u.gen}, m.cfg.timeout})
}

func (m *machine) await(until func() bool, then func()) {
	if until() {
		then()
		return
	}
	m.waiters = append(m.waiters, waiter{until, then})
}

func (m *machine) checkWaiters() {
	for i := 0; i < len(m.waiters); {
		w := m.waiters[i]
		if w.until() {
			m.waiters = slices.Delete(m.waiters, i, i+1)
			w.then()
			i = 0 // then may have added or completed waiters
			continue
		}
		i++
	}
}

func (m *machine) reply(req uint64, err error) { m.emit(fxReply{req, err}) }

// answerUnlessDown returns the completion of a request that waited for
// the units: ok, or ErrShuttingDown when the stack began to stop meanwhile.
func (m *machine) answerUnlessDown(req uint64) func() {
	return func() {
		if m.phase != up {
			m.reply(req, ErrShuttingDown)
			return
		}
		m.reply(req, nil)
	}
}

// lookup resolves name, an instance ("web.2") or a process type ("web"),
// to its units in number order.
func (m *machine) lookup(name string) ([]*unit, error) {
	var out []*unit
	for _, u := range m.units {
		if u.Name == name || u.Type == name {
			out = append(out, u)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if m.typeIndex(name) >= 0 {
		return nil, nil // a type with no instances
	}
	var names []string
	for _, u := range m.units {
		names = append(names, u.Name)
	}
	return nil, fmt.Errorf("%w %q (running: %s)", ErrUnknownName, name, strings.Join(names, ", "))
}

func (m *machine) typeIndex(name string) int {
	for i, e := range m.cfg.app.Entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// stopRequest stops the named units and answers once each has exited (or
// a later request started it again).
func (m *machine) stopRequest(ev evStop) {
	if m.phase != up {
		m.reply(ev.req, ErrShuttingDown)
		return
	}
	units, err := m.lookup(ev.name)
	if err != nil {
		m.reply(ev.req, err)
		return
	}
	for _, u := range units {
		m.stopUnit(u)
	}
	m.await(func() bool {
		for _, u := range units {
			if u.state == stopping || u.state == removing {
				return false
			}
		}
		return true
	}, func() { m.reply(ev.req, nil) })
}

// stopUnit stops u on request: it will not restart, and its exit does not
// stop the stack.
func (m *machine) stopUnit(u *unit) {
	switch u.state {
	case running:
		u.state = stopping
		m.terminate(u)
	case starting:
		u.state = stopping // the spawn's outcome finishes the stop
	case restarting:
		u.state = stopping // already signalled
	case idle, waiting, backoff, exited:
		u.state = stopped
	}
}

// restartRequest restarts the named units one after another and answers
// once the last has started.
func (m *machine) restartRequest(ev evRestart) {
	if m.phase != up {
		m.reply(ev.req, ErrShuttingDown)
		return
	}
	units, err := m.lookup(ev.name)
	if err == nil && len(units) == 0 {
		err = fmt.Errorf("%w: type %q has no instances (scale it up first)", ErrUnknownName, ev.name)
	}
	if err != nil {
		m.reply(ev.req, err)
		return
	}
	m.restartEach(ev.req, units, "on request")
}

// changed restarts the instances of a type whose watched files changed,
// one after another, as a restart request does. It is no crash: the
// restart backoff starts again from its first step. Instances that wait
// for their dependencies, or that are stopped, stay so.
func (m *machine) changed(ev evChanged) {
	if m.phase != up {
		m.reply(ev.req, ErrShuttingDown)
		return
	}
	what := ev.path
	if ev.more > 0 {
		what += fmt.Sprintf(" and %d more", ev.more)
	}
	var units []*unit
	for _, u := range m.units {
		if u.Type == ev.typ && u.state != idle && u.state != waiting && u.state != stopped && u.state != stopping {
			u.backoff = backoffFirst
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		m.reply(ev.req, nil)
		return
	}
	m.log("", fmt.Sprintf("%s changed: restarting %s", what, ev.typ))
	m.restartEach(ev.req, units, "after the change")
}

func (m *machine) restartEach(req uint64, units []*unit, why string) {
	if len(units) == 0 {
		m.reply(req, nil)
		return
	}
	u := units[0]
	if u.state == removing || !slices.Contains(m.units, u) {
		m.restartEach(req, units[1:], why) // being scaled away, or gone
		return
	}
	if u.awaitingSpawn() {
		u.state = starting // starting anyway: a fresh run is on its way
		m.restartEach(req, units[1:], why)
		return
	}
	if u.state == waiting {
		m.restartEach(req, units[1:], why) // it starts once what it waits for is ready
		return
	}
	oldGen := u.gen
	u.restarts++
	m.log("", fmt.Sprintf("restarting %s %s (restart %d)", u.Name, why, u.restarts))
	switch u.state {
	case running:
		u.state = restarting
		m.terminate(u)
	case stopping:
		u.state = restarting // already signalled
	case restarting:
	default:
		m.startOrWait(u) // a stopped instance waits for its dependencies too
	}
	m.await(func() bool {
		started := u.gen != oldGen && !u.awaitingSpawn() // its new run has a pid, or has failed
		return started || m.phase != up || u.state == stopping || u.state == stopped || u.state == waiting
	}, func() {
		if m.phase != up {
			m.reply(req, ErrShuttingDown)
			return
		}
		m.restartEach(req, units[1:], why)
	})
}

// scaleRequest sets the count of each named type and answers once the new
// instances have started and the surplus ones have exited.
func (m *machine) scaleRequest(ev evScale) {
	if m.phase != up {
		m.reply(ev.req, ErrShuttingDown)
		return
	}
	if err := m.checkScale(ev.counts); err != nil {
		m.reply(ev.req, err)
		return
	}
	var changed []*unit
	for _, tc := range ev.counts {
		changed = append(changed, m.scaleType(tc)...)
	}
	m.await(func() bool {
		for _, u := range changed {
			if u.state == removing || u.awaitingSpawn() {
				return false
			}
		}
		return true
	}, m.answerUnlessDown(ev.req))
}

// waitRequest answers once every instance of the named types is ready, or
// with ErrShuttingDown once the stack stops first. Without names it waits
// for the types whose readiness .proctor defines (a ready check, or another
// type starts after them); when it defines none, for every instance to be
// running. A type with no instances is ready.
func (m *machine) waitRequest(ev evWait) {
	if m.phase != up {
		m.reply(ev.req, ErrShuttingDown)
		return
	}
	types := ev.types
	for _, t := range types {
		if m.typeIndex(t) < 0 {
			m.reply(ev.req, fmt.Errorf("%w: unknown process type %q (the Procfile has %s)", ErrUnknownName, t, strings.Join(procfile.Names(m.cfg.app.Entries), ", ")))
			return
		}
	}
	runningEnough := false
	if len(types) == 0 {
		for _, e := range m.cfg.app.Entries {
			if m.readinessMatters(e.Name) {
				types = append(types, e.Name)
			}
		}
		if len(types) == 0 {
			types, runningEnough = procfile.Names(m.cfg.app.Entries), true
		}
	}
	m.await(func() bool {
		if m.phase != up {
			return true
		}
		for _, u := range m.units {
			if !slices.Contains(types, u.Type) {
				continue
			}
			if runningEnough && u.Type == procfile.ReleaseType && u.state == exited {
				continue // the release phase is done
			}
			if u.state == stopped || u.state == removing || u.state == exited {
				continue // stopped on request, or exited for good (can-die): not waited for
			}
			if !u.alive() || !runningEnough && !u.ready || u.state != running {
				return false
			}
		}
		return true
	}, m.answerUnlessDown(ev.req))
}

// checkScale validates a scale request before anything changes.
func (m *machine) checkScale(counts []procfile.TypeCount) error {
	for _, tc := range counts {
		i := m.typeIndex(tc.Type)
		if i < 0 {
			return fmt.Errorf("%w: unknown process type %q (the Procfile has %s)", ErrUnknownName, tc.Type, strings.Join(procfile.Names(m.cfg.app.Entries), ", "))
		}
		if tc.Type == procfile.ReleaseType {
			return fmt.Errorf("%q runs once before the other types and cannot be scaled", procfile.ReleaseType)
		}
		if tc.Count < 0 || tc.Count > procfile.MaxCount {
			return fmt.Errorf("count for %q must be from 0 to %d", tc.Type, procfile.MaxCount)
		}
		if tc.Count > 0 {
			if _, err := m.cfg.app.Instance(i, tc.Count); err != nil {
				return err
			}
		}
	}
	return nil
}

// scaleType brings tc.Type to tc.Count instances and returns the ones it
// starts or stops.
func (m *machine) scaleType(tc procfile.TypeCount) (changed []*unit) {
	i := m.typeIndex(tc.Type)
	have := map[int]*unit{}
	for _, u := range m.units {
		if u.Type == tc.Type {
			have[u.Num] = u
		}
	}
	for num := 1; num <= tc.Count; num++ {
		u, ok := have[num]
		if !ok {
			p, _ := m.cfg.app.Instance(i, num) // checked by checkScale
			u = m.newUnit(p)
			m.units = append(m.units, u)
			m.emit(fxRegister{u.Name, u.TypeIndex})
		}
		switch {
		case u.awaitingSpawn():
			u.state = starting // stopped while starting: keep it
		case u.state == stopping || u.state == removing:
			u.state = restarting // being stopped: start again once it exits
		case u.state == running || u.state == restarting || u.state == backoff || u.state == waiting:
		default:
			m.startOrWait(u)
			changed = append(changed, u)
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
		u := have[num]
		changed = append(changed, u)
		switch u.state {
		case running:
			u.state = removing
			m.terminate(u)
		case starting:
			u.state = removing // the spawn's outcome finishes the removal
		case stopping, restarting:
			u.state = removing // already signalled
		case removing:
		default:
			m.remove(u)
		}
	}
	slices.SortStableFunc(m.units, func(a, b *unit) int {
		if a.TypeIndex != b.TypeIndex {
			return a.TypeIndex - b.TypeIndex
		}
		return a.Num - b.Num
	})
	if len(changed) > 0 {
		m.log("", fmt.Sprintf("scaled %s to %d", tc.Type, tc.Count))
	}
	return changed
}

// remove drops a unit scaled away from the list.
func (m *machine) remove(u *unit) {
	m.units = slices.DeleteFunc(m.units, func(x *unit) bool { return x == u })
	u.state = stopped
}
