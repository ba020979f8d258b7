package runner

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/procfile"
)

// The lifecycle rules of README.md ("proctor start", "Runtime control"),
// driven event by event through the state machine: no process, signal or
// clock is involved, so each case runs in microseconds.
//
// A step is an action and the effects it must produce, each written as a
// short string:
//
//	spawn web.1                 fxSpawn (answered at once with pid 100+gen,
//	                            unless the step is "fail NAME" first)
//	TERM web.1, KILL web.1      fxSignal to the instance's group
//	TERM strangers              fxSignalStrangers
//	watch web.1 :5000           fxWatch; unwatch web.1 is fxUnwatch
//	watch db.1 :5000 (log up)   fxWatch with a check of .proctor
//	timer restart web.1 1s      fxTimer (kinds restart, kill, deadline, ready)
//	reap                        fxReapAgain
//	register web.2              fxRegister
//	log: LINE                   fxLog of a system line
//	reply 1 ok, reply 1: ERROR  fxReply to request 1
//
// "web.1| started with pid N" logs are left out: every spawn has one.
//
// Actions: begin, exit NAME CODE, exit NAME SIGTERM, exit pid N CODE,
// ready NAME, fire restart|kill|ready NAME, fire deadline, shutdown, kill,
// stop NAME, restart NAME, scale TYPE=N[,TYPE=N], wait [TYPE...], after DURATION (moves the
// clock), fail NAME (the next spawn of NAME fails; no effects), stale NAME
// (remembers NAME's current run, so that "fire restart stale" and
// "ready stale" refer to it after it has changed).
type step struct {
	do     string
	fx     []string
	states string // when set, every unit as NAME:STATE, in order
}

type machineCase struct {
	name     string
	procfile string
	counts   []int // default: 1 of each
	canDie   []string
	restart  []string
	rules    map[string]procfile.Rules // .proctor's processes
	steps    []step
	result   string // Result(): "" for nil, else the error's text
	code     int    // the ExitError's exit code, when it is one
	stopped  bool   // Stopped() after the last step
}

// harness drives a machine as the shell would, with a fake clock.
type harness struct {
	t     *testing.T
	m     *machine
	now   time.Time
	fail  map[string]bool   // instances whose next spawn fails
	pids  map[int]string    // every pid handed out, to its instance
	stale map[string]uint64 // remembered runs, by instance name
	req   uint64
	gens  map[uint64]string // every run asked for, to its instance
}

func newHarness(t *testing.T, c machineCase) *harness {
	t.Helper()
	entries, err := procfile.ParseBytes([]byte(c.procfile))
	require.NoError(t, err)
	counts := c.counts
	if counts == nil {
		counts = slices.Repeat([]int{1}, len(entries))
	}
	app := procfile.App{Entries: entries, Ports: procfile.Ports{Base: 5000, Step: 100}, Rules: c.rules}
	planned, err := app.Plan(counts)
	require.NoError(t, err)
	cfg := machineConfig{
		app:     app,
		timeout: 5 * time.Second, canDie: c.canDie, restart: c.restart,
	}
	return &harness{
		t: t, m: newMachine(cfg, planned), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		fail: map[string]bool{}, pids: map[int]string{}, stale: map[string]uint64{}, gens: map[uint64]string{},
	}
}

func (h *harness) unit(name string) *unit {
	h.t.Helper()
	for _, u := range h.m.units {
		if u.Name == name {
			return u
		}
	}
	h.t.Fatalf("no unit %s", name)
	return nil
}

// gen resolves NAME or "stale" (the run remembered last) to a run.
func (h *harness) gen(name string) uint64 {
	if g, ok := h.stale[name]; ok {
		return g
	}
	return h.unit(name).gen
}

func (h *harness) nameOfGen(gen uint64) string {
	if name, ok := h.gens[gen]; ok {
		return name
	}
	return fmt.Sprintf("gen%d", gen)
}

// event turns an action into the event it stands for; ok is false for
// actions that only prepare the harness.
func (h *harness) event(do string) (ev event, ok bool) {
	h.t.Helper()
	f := strings.Fields(do)
	arg := func(i int) string {
		if i >= len(f) {
			h.t.Fatalf("action %q: missing argument %d", do, i)
		}
		return f[i]
	}
	switch f[0] {
	case "begin":
		return evBegin{}, true
	case "exit":
		pid, status := 0, arg(2)
		if f[1] == "pid" {
			pid, _ = strconv.Atoi(arg(2))
			status = arg(3)
		} else {
			pid = h.unit(f[1]).pid
			require.NotZero(h.t, pid, "%s has no process to exit", f[1])
		}
		if n, ok := signalNumbers[status]; ok {
			return evExited{pid: pid, status: exitStatus{signum: n, signal: status}}, true
		}
		code, err := strconv.Atoi(status)
		require.NoError(h.t, err)
		return evExited{pid: pid, status: exitStatus{code: code}}, true
	case "ready":
		return evReady{h.gen(arg(1))}, true
	case "fire":
		switch arg(1) {
		case "deadline":
			return evTimer{timerKey{kind: timerDeadline}}, true
		case "restart":
			return evTimer{timerKey{timerRestart, h.gen(arg(2))}}, true
		case "kill":
			return evTimer{timerKey{timerKill, h.gen(arg(2))}}, true
		case "ready":
			return evTimer{timerKey{timerReady, h.gen(arg(2))}}, true
		}
	case "shutdown":
		return evShutdown{}, true
	case "kill":
		return evKill{}, true
	case "stop":
		h.req++
		return evStop{req: h.req, name: arg(1)}, true
	case "restart":
		h.req++
		return evRestart{req: h.req, name: arg(1)}, true
	case "wait":
		h.req++
		return evWait{req: h.req, types: f[1:]}, true
	case "changed": // changed TYPE PATH [MORE]
		more := 0
		if len(f) > 3 {
			more, _ = strconv.Atoi(f[3])
		}
		h.req++
		return evChanged{req: h.req, typ: arg(1), path: arg(2), more: more}, true
	case "scaleraw": // scaleraw TYPE N: a count ParseFormation would refuse
		n, err := strconv.Atoi(arg(2))
		require.NoError(h.t, err)
		h.req++
		return evScale{req: h.req, counts: []procfile.TypeCount{{Type: arg(1), Count: n}}}, true
	case "scale":
		fm, err := procfile.ParseFormation(arg(1))
		require.NoError(h.t, err)
		h.req++
		return evScale{req: h.req, counts: fm.Counts}, true
	case "after":
		d, err := time.ParseDuration(arg(1))
		require.NoError(h.t, err)
		h.now = h.now.Add(d)
		return nil, false
	case "fail":
		h.fail[arg(1)] = true
		return nil, false
	case "stale":
		h.stale["stale"] = h.unit(arg(1)).gen
		return nil, false
	}
	h.t.Fatalf("unknown action %q", do)
	return nil, false
}

var signalNumbers = map[string]int{"SIGTERM": 15, "SIGKILL": 9, "SIGINT": 2}

// do handles the action and renders every effect, answering spawns as the
// shell does: after the effects of the same event.
func (h *harness) do(action string) []string {
	h.t.Helper()
	ev, ok := h.event(action)
	if !ok {
		return nil
	}
	var out []string
	fx := h.m.Handle(h.now, ev)
	for len(fx) > 0 {
		f := fx[0]
		fx = fx[1:]
		if s := h.render(f); s != "" {
			out = append(out, s)
		}
		if sp, ok := f.(fxSpawn); ok {
			var answer event = evSpawned{gen: sp.gen, pid: 100 + int(sp.gen)}
			if h.fail[sp.inst.Name] {
				delete(h.fail, sp.inst.Name)
				answer = evSpawnFailed{gen: sp.gen, err: errors.New("exec: no such file")}
			} else {
				h.pids[100+int(sp.gen)] = sp.inst.Name
			}
			fx = append(fx, h.m.Handle(h.now, answer)...)
		}
	}
	return out
}

func (h *harness) render(f effect) string {
	switch f := f.(type) {
	case fxSpawn:
		assert.Contains(h.t, f.inst.Env, "PORT="+strconv.Itoa(f.inst.Port), "%s's environment", f.inst.Name)
		assert.Contains(h.t, f.inst.Env, "PS="+f.inst.Name, "%s's environment", f.inst.Name)
		h.gens[f.gen] = f.inst.Name
		return "spawn " + f.inst.Name
	case fxSignal:
		return map[stopSignal]string{sigTerm: "TERM ", sigKill: "KILL "}[f.sig] + h.pids[f.pid]
	case fxSignalStrangers:
		return map[stopSignal]string{sigTerm: "TERM ", sigKill: "KILL "}[f.sig] + "strangers"
	case fxWatch:
		if f.check.Kind != "" {
			return fmt.Sprintf("watch %s :%d (%s)", h.nameOfGen(f.gen), f.port, f.check)
		}
		return fmt.Sprintf("watch %s :%d", h.nameOfGen(f.gen), f.port)
	case fxUnwatch:
		return "unwatch " + h.nameOfGen(f.gen)
	case fxTimer:
		kind := map[timerKind]string{timerRestart: "restart", timerKill: "kill", timerDeadline: "deadline", timerReady: "ready"}[f.key.kind]
		if f.key.kind == timerDeadline {
			return fmt.Sprintf("timer deadline %s", f.d)
		}
		return fmt.Sprintf("timer %s %s %s", kind, h.nameOfGen(f.key.gen), f.d)
	case fxReapAgain:
		return "reap"
	case fxRegister:
		return "register " + f.name
	case fxLog:
		if f.name != "" {
			if strings.HasPrefix(f.line, "started with pid ") {
				return ""
			}
			return f.name + "| " + f.line
		}
		return "log: " + f.line
	case fxReply:
		if f.err == nil {
			return fmt.Sprintf("reply %d ok", f.req)
		}
		return fmt.Sprintf("reply %d: %v", f.req, f.err)
	}
	h.t.Fatalf("unknown effect %#v", f)
	return ""
}

func (h *harness) states() string {
	var s []string
	for _, u := range h.m.units {
		s = append(s, u.Name+":"+string(u.state.State()))
	}
	return strings.Join(s, " ")
}

func runMachineCase(t *testing.T, c machineCase) {
	h := newHarness(t, c)
	for i, st := range c.steps {
		got := h.do(st.do)
		if !assert.Equal(t, st.fx, got, "step %d: %s", i+1, st.do) {
			return
		}
		if st.states != "" && !assert.Equal(t, st.states, h.states(), "step %d: %s: states", i+1, st.do) {
			return
		}
	}
	var exit *ExitError
	if c.result == "" {
		assert.NoError(t, h.m.Result())
	} else if assert.EqualError(t, h.m.Result(), c.result) && errors.As(h.m.Result(), &exit) {
		assert.Equal(t, c.code, exit.ExitCode())
	}
	assert.Equal(t, c.stopped, h.m.Stopped(), "Stopped()")
}

// The shutdown that any exit of web.1 or worker.1 ends with.
var (
	termBoth = []string{"log: sending SIGTERM to all processes", "TERM web.1", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}
	twoTypes = "web: serve\nworker: work\n"
)

func TestMachineLifecycle(t *testing.T) {
	cases := []machineCase{{
		name:     "every instance starts, each watched on its port",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}, states: "web.1:running worker.1:running"},
		},
	}, {
		name:     "an exit stops the others, and proctor exits with its code",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit worker.1 3", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 3", "log: sending SIGTERM to all processes", "TERM web.1", "TERM strangers", "timer deadline 5s", "reap"}, states: "web.1:stopping worker.1:exited"},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "TERM strangers"}, states: "web.1:stopped worker.1:exited"},
		},
		result: "worker.1 exited with code 3", code: 3, stopped: true,
	}, {
		name:     "a signal's exit code is 128+N",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit web.1 SIGKILL", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGKILL", "log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "web.1 terminated by SIGKILL", code: 137,
	}, {
		name:     "an exit with code 0 stops the stack too, with code 0",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit web.1 0", fx: []string{"unwatch web.1", "log: web.1 exited with code 0", "log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "web.1 exited with code 0", code: 0,
	}, {
		name:     "a requested shutdown: SIGTERM to all, result nil",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "shutdown", fx: termBoth, states: "web.1:stopping worker.1:stopping"},
			{do: "shutdown", fx: nil},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM"}},
			{do: "exit worker.1 0", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 0", "TERM strangers"}, states: "web.1:stopped worker.1:stopped"},
		},
		stopped: true,
	}, {
		name:     "the deadline sends SIGKILL to what is left",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "shutdown", fx: termBoth},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM"}},
			{do: "fire deadline", fx: []string{"log: sending SIGKILL to all processes", "KILL worker.1", "KILL strangers", "reap"}},
			{do: "fire deadline", fx: nil},
			{do: "exit worker.1 SIGKILL", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGKILL", "KILL strangers"}},
		},
		stopped: true,
	}, {
		name:     "kill (Ctrl-C twice) sends SIGKILL at once, during a shutdown or instead of one",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "kill", fx: []string{"log: sending SIGKILL to all processes", "KILL web.1", "KILL worker.1", "KILL strangers", "reap"}},
			{do: "kill", fx: nil},
			{do: "shutdown", fx: nil},
			{do: "fire deadline", fx: nil},
		},
	}, {
		name:     "a deadline of an earlier shutdown does nothing before one",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "fire deadline", fx: nil, states: "web.1:running worker.1:running"},
		},
	}, {
		name:     "an unknown pid is not an instance's exit",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit pid 999 1", fx: nil, states: "web.1:running worker.1:running"},
		},
	}, {
		name:     "--can-die leaves the type exited; the others run on",
		procfile: twoTypes, canDie: []string{"worker"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit worker.1 1", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 1"}, states: "web.1:running worker.1:exited"},
			{do: "exit web.1 2", fx: []string{"unwatch web.1", "log: web.1 exited with code 2", "log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "web.1 exited with code 2", code: 2, stopped: true,
	}, {
		name:     "--can-die all: once every process has exited, the stack stops with 0",
		procfile: twoTypes, canDie: []string{"all"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit worker.1 1", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 1"}},
			{do: "exit web.1 0", fx: []string{"unwatch web.1", "log: web.1 exited with code 0", "log: every process has exited", "log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		stopped: true,
	}, {
		name:     "--restart: backoff 1s doubling to 30s, the count reported",
		procfile: "web: serve\n", restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}, states: "web.1:restarting"},
			{do: "after 1s"},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}, states: "web.1:running"},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 2s (restart 2)", "timer restart web.1 2s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 4s (restart 3)", "timer restart web.1 4s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 8s (restart 4)", "timer restart web.1 8s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 16s (restart 5)", "timer restart web.1 16s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 30s (restart 6)", "timer restart web.1 30s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 30s (restart 7)", "timer restart web.1 30s"}},
		},
	}, {
		name:     "--restart: the backoff resets after 10s up",
		procfile: "web: serve\n", restart: []string{"all"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 2s (restart 2)", "timer restart web.1 2s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "after 10s"},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 3)", "timer restart web.1 1s"}},
		},
	}, {
		name:     "--restart: a shutdown during the backoff cancels the restart",
		procfile: twoTypes, restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "shutdown", fx: []string{"log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}, states: "web.1:stopped worker.1:stopping"},
			{do: "fire restart web.1", fx: nil},
		},
	}, {
		name:     "a restart timer of an earlier run does nothing",
		procfile: "web: serve\n", restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "stale web.1"},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "fire restart stale", fx: nil, states: "web.1:running"},
		},
	}, {
		name:     "a process that cannot start counts as exit code 127",
		procfile: twoTypes,
		steps: []step{
			{do: "fail worker.1"},
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "log: worker.1 could not start: exec: no such file", "log: sending SIGTERM to all processes", "TERM web.1", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "worker.1 exited with code 127", code: 127,
	}, {
		name:     "readiness is reported once per run",
		procfile: "web: serve\n", restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "after 410ms"},
			{do: "ready web.1", fx: []string{"log: web.1 is listening on port 5000 (0.41s after start)"}},
			{do: "ready web.1", fx: nil},
			{do: "stale web.1"},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "ready stale", fx: nil},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "ready web.1", fx: []string{"log: web.1 is listening on port 5000 (0.00s after start)"}},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

func TestMachineRelease(t *testing.T) {
	const withRelease = "release: migrate\nweb: serve\n"
	cases := []machineCase{{
		name:     "release runs first and alone; the others start once it succeeds",
		procfile: withRelease,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}, states: "release.1:running web.1:stopped"},
			{do: "exit release.1 0", fx: []string{"unwatch release.1", "log: release.1 exited with code 0", "spawn web.1", "watch web.1 :5100"}, states: "release.1:exited web.1:running"},
			{do: "exit web.1 4", fx: []string{"unwatch web.1", "log: web.1 exited with code 4", "log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "web.1 exited with code 4", code: 4, stopped: true,
	}, {
		name:     "a failed release starts nothing else and gives its code",
		procfile: withRelease,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "exit release.1 3", fx: []string{"unwatch release.1", "log: release.1 exited with code 3", "log: release failed with code 3; not starting the other processes", "log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}, states: "release.1:exited web.1:stopped"},
		},
		result: "release.1 exited with code 3", code: 3, stopped: true,
	}, {
		name:     "a shutdown during the release starts nothing else",
		procfile: withRelease,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "shutdown", fx: []string{"log: sending SIGTERM to all processes", "TERM release.1", "TERM strangers", "timer deadline 5s", "reap"}},
			{do: "exit release.1 0", fx: []string{"unwatch release.1", "log: release.1 exited with code 0", "TERM strangers"}, states: "release.1:stopped web.1:stopped"},
		},
		stopped: true,
	}, {
		name:     "release alone (start release) is an ordinary instance",
		procfile: withRelease, counts: []int{1, 0},
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "exit release.1 0", fx: []string{"unwatch release.1", "log: release.1 exited with code 0", "log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "release.1 exited with code 0", code: 0, stopped: true,
	}, {
		name:     "release cannot be scaled",
		procfile: withRelease,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "scale release=2", fx: []string{`reply 1: "release" runs once before the other types and cannot be scaled`}},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

func TestMachineRequests(t *testing.T) {
	started := []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}
	cases := []machineCase{{
		name:     "stop keeps an instance stopped; its exit stops nothing; SIGKILL after the timeout",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: started},
			{do: "stop worker.1", fx: []string{"TERM worker.1", "timer kill worker.1 5s"}, states: "web.1:running worker.1:stopping"},
			{do: "fire kill worker.1", fx: []string{"KILL worker.1"}},
			{do: "exit worker.1 SIGKILL", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGKILL", "reply 1 ok"}, states: "web.1:running worker.1:stopped"},
			{do: "fire kill worker.1", fx: nil},
		},
	}, {
		name:     "stop holds under --restart, and stopping everything leaves proctor waiting",
		procfile: twoTypes, restart: []string{"all"},
		steps: []step{
			{do: "begin", fx: started},
			{do: "stop web", fx: []string{"TERM web.1", "timer kill web.1 5s"}},
			{do: "stop worker", fx: []string{"TERM worker.1", "timer kill worker.1 5s"}},
			{do: "exit worker.1 SIGTERM", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGTERM", "reply 2 ok"}},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "reply 1 ok"}, states: "web.1:stopped worker.1:stopped"},
		},
	}, {
		name:     "stop during a restart's backoff cancels the restart",
		procfile: twoTypes, restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: started},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "stop web.1", fx: []string{"reply 1 ok"}, states: "web.1:stopped worker.1:running"},
			{do: "fire restart web.1", fx: nil, states: "web.1:stopped worker.1:running"},
		},
	}, {
		name:     "restart: SIGTERM, then the same command; a type's instances one after another",
		procfile: twoTypes, counts: []int{2, 1},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn web.2", "spawn worker.1", "watch web.1 :5000", "watch web.2 :5001", "watch worker.1 :5100"}},
			{do: "restart web", fx: []string{"log: restarting web.1 on request (restart 1)", "TERM web.1", "timer kill web.1 5s"}, states: "web.1:stopping web.2:running worker.1:running"},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "spawn web.1", "watch web.1 :5000", "log: restarting web.2 on request (restart 1)", "TERM web.2", "timer kill web.2 5s"}},
			{do: "exit web.2 0", fx: []string{"unwatch web.2", "log: web.2 exited with code 0", "spawn web.2", "watch web.2 :5001", "reply 1 ok"}, states: "web.1:running web.2:running worker.1:running"},
		},
	}, {
		name:     "restart starts a stopped instance",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: started},
			{do: "stop worker.1", fx: []string{"TERM worker.1", "timer kill worker.1 5s"}},
			{do: "exit worker.1 SIGTERM", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGTERM", "reply 1 ok"}},
			{do: "restart worker.1", fx: []string{"log: restarting worker.1 on request (restart 1)", "spawn worker.1", "watch worker.1 :5100", "reply 2 ok"}, states: "web.1:running worker.1:running"},
		},
	}, {
		name:     "unknown names and empty types are errors that change nothing",
		procfile: twoTypes, counts: []int{1, 0},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "stop wbe", fx: []string{`reply 1: no such process "wbe" (running: web.1)`}},
			{do: "restart web.7", fx: []string{`reply 2: no such process "web.7" (running: web.1)`}},
			{do: "restart worker", fx: []string{`reply 3: no such process: type "worker" has no instances (scale it up first)`}},
			{do: "stop worker", fx: []string{"reply 4 ok"}},
			{do: "scale wrk=1", fx: []string{`reply 5: no such process: unknown process type "wrk" (the Procfile has web, worker)`}, states: "web.1:running"},
		},
	}, {
		name:     "scale up takes the next numbers and ports; down stops the highest first",
		procfile: twoTypes, counts: []int{1, 0},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "scale web=3,worker=1", fx: []string{
				"register web.2", "spawn web.2", "register web.3", "spawn web.3", "log: scaled web to 3",
				"register worker.1", "spawn worker.1", "log: scaled worker to 1",
				"watch web.2 :5001", "watch web.3 :5002", "watch worker.1 :5100", "reply 1 ok",
			}, states: "web.1:running web.2:running web.3:running worker.1:running"},
			{do: "scale web=1", fx: []string{"TERM web.3", "timer kill web.3 5s", "TERM web.2", "timer kill web.2 5s", "log: scaled web to 1"}, states: "web.1:running web.2:stopping web.3:stopping worker.1:running"},
			{do: "exit web.3 SIGTERM", fx: []string{"unwatch web.3", "log: web.3 terminated by SIGTERM"}, states: "web.1:running web.2:stopping worker.1:running"},
			{do: "exit web.2 SIGTERM", fx: []string{"unwatch web.2", "log: web.2 terminated by SIGTERM", "reply 2 ok"}, states: "web.1:running worker.1:running"},
			{do: "scale worker=0", fx: []string{"TERM worker.1", "timer kill worker.1 5s", "log: scaled worker to 0"}},
			{do: "exit worker.1 0", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 0", "reply 3 ok"}, states: "web.1:running"},
		},
	}, {
		name:     "scaling up an instance that is being scaled away keeps it",
		procfile: "web: serve\n", counts: []int{2},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn web.2", "watch web.1 :5000", "watch web.2 :5001"}},
			{do: "scale web=1", fx: []string{"TERM web.2", "timer kill web.2 5s", "log: scaled web to 1"}},
			{do: "scale web=2", fx: []string{"reply 2 ok", "reply 1 ok"}, states: "web.1:running web.2:stopping"},
			{do: "exit web.2 SIGTERM", fx: []string{"unwatch web.2", "log: web.2 terminated by SIGTERM", "spawn web.2", "watch web.2 :5001"}, states: "web.1:running web.2:running"},
		},
	}, {
		name:     "a scale count outside the ports is refused before anything changes",
		procfile: "web: serve\n",
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "scaleraw web -1", fx: []string{"reply 1: count for \"web\" must be from 0 to " + strconv.Itoa(procfile.MaxCount)}, states: "web.1:running"},
		},
	}, {
		name:     "requests during the shutdown are refused",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: started},
			{do: "shutdown", fx: termBoth},
			{do: "stop web", fx: []string{"reply 1: proctor is shutting down"}},
			{do: "restart web", fx: []string{"reply 2: proctor is shutting down"}},
			{do: "scale web=2", fx: []string{"reply 3: proctor is shutting down"}},
		},
	}, {
		name:     "a restart waiting on an exit is answered when the stack shuts down",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: started},
			{do: "restart web.1", fx: []string{"log: restarting web.1 on request (restart 1)", "TERM web.1", "timer kill web.1 5s"}},
			{do: "shutdown", fx: []string{"log: sending SIGTERM to all processes", "TERM web.1", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap", "reply 1: proctor is shutting down"}},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

// A spawn asked for just before a request or a shutdown is answered after
// it: the machine must still own the process and stop it.
func TestMachineSpawnRaces(t *testing.T) {
	h := newHarness(t, machineCase{procfile: twoTypes})
	fx := h.m.Handle(h.now, evBegin{})
	require.Equal(t, []string{"spawn web.1", "spawn worker.1"}, h.renderAll(fx))
	web, worker := fx[0].(fxSpawn), fx[1].(fxSpawn)

	// stop web.1 while it starts: it is stopped as soon as it has a pid.
	h.req++
	assert.Empty(t, h.m.Handle(h.now, evStop{req: h.req, name: "web.1"}))
	h.pids[500] = "web.1"
	assert.Equal(t, []string{"TERM web.1", "timer kill web.1 5s"}, h.renderAll(h.m.Handle(h.now, evSpawned{gen: web.gen, pid: 500})))
	assert.Equal(t, []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "reply 1 ok"}, h.renderAll(h.m.Handle(h.now, evExited{pid: 500, status: exitStatus{signum: 15, signal: "SIGTERM"}})))

	// A shutdown while worker.1 starts: it is signalled once it has a pid,
	// and the machine is not stopped until it exits.
	assert.Equal(t, []string{"log: sending SIGTERM to all processes", "TERM strangers", "timer deadline 5s", "reap"}, h.renderAll(h.m.Handle(h.now, evShutdown{})))
	assert.False(t, h.m.Stopped())
	h.pids[501] = "worker.1"
	assert.Equal(t, []string{"TERM worker.1"}, h.renderAll(h.m.Handle(h.now, evSpawned{gen: worker.gen, pid: 501})))
	assert.True(t, h.m.Owns(501))
	assert.Equal(t, []int{501}, h.m.LivePIDs())
	assert.False(t, h.m.Stopped())
	h.renderAll(h.m.Handle(h.now, evExited{pid: 501, status: exitStatus{code: 0}}))
	assert.True(t, h.m.Stopped())
	assert.NoError(t, h.m.Result())
}

// Scaling away an instance whose spawn is still on its way removes it once
// the spawn's outcome is known, a failure included.
func TestMachineScaleAwayWhileStarting(t *testing.T) {
	h := newHarness(t, machineCase{procfile: "web: serve\n", counts: []int{2}})
	fx := h.m.Handle(h.now, evBegin{})
	require.Equal(t, []string{"spawn web.1", "spawn web.2"}, h.renderAll(fx))
	web2 := fx[1].(fxSpawn)
	h.pids[100+int(fx[0].(fxSpawn).gen)] = "web.1"
	h.m.Handle(h.now, evSpawned{gen: fx[0].(fxSpawn).gen, pid: 100 + int(fx[0].(fxSpawn).gen)})
	h.req++
	assert.Equal(t, []string{"log: scaled web to 1"}, h.renderAll(h.m.Handle(h.now, evScale{req: h.req, counts: []procfile.TypeCount{{Type: "web", Count: 1}}})))
	assert.Equal(t, []string{"log: web.2 could not start: exec: no such file", "reply 1 ok"}, h.renderAll(h.m.Handle(h.now, evSpawnFailed{gen: web2.gen, err: errors.New("exec: no such file")})))
	assert.Equal(t, "web.1:running", h.states())
	assert.NoError(t, h.m.Result())
}

// Finish answers every request still waiting when the stack has ended.
func TestMachineFinishAnswersWaiters(t *testing.T) {
	h := newHarness(t, machineCase{procfile: twoTypes})
	h.do("begin")
	assert.Equal(t, []string{"TERM worker.1", "timer kill worker.1 5s"}, h.do("stop worker.1"))
	assert.Equal(t, []string{"reply 1 ok"}, h.renderAll(h.m.Finish()))
	assert.Empty(t, h.m.Finish())
}

func (h *harness) renderAll(fx []effect) []string {
	var out []string
	for _, f := range fx {
		if s := h.render(f); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Status shows each instance as ps does.
func TestMachineStatus(t *testing.T) {
	h := newHarness(t, machineCase{procfile: twoTypes, restart: []string{"worker"}})
	h.do("begin")
	h.now = h.now.Add(3 * time.Second)
	h.do("ready web.1")
	h.do("exit worker.1 1")
	st := h.m.Status(h.now)
	require.Len(t, st, 2)
	assert.Equal(t, Status{Name: "web.1", Type: "web", PID: h.unit("web.1").pid, State: Running, Uptime: 3 * time.Second, Port: 5000, Ready: true}, st[0])
	assert.Equal(t, Status{Name: "worker.1", Type: "worker", State: Restarting, Restarts: 1, Port: 5100}, st[1])
}

// The start order of .proctor (after, ready, ready_timeout): db's
// readiness is a log line, web starts after db.
var (
	dbWebWorker = "db: pg\nweb: serve\nworker: work\n"
	webAfterDB  = map[string]procfile.Rules{
		"db":  {Ready: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "ready to accept"}},
		"web": {After: []string{"db"}},
	}
	dbWatched = []string{"watch db.1 :5000 (log ready to accept)", "timer ready db.1 1m0s"}
)

func TestMachineOrder(t *testing.T) {
	cases := []machineCase{{
		name:     "after: web waits until db is ready, then starts; the others do not wait",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"}),
				states: "db.1:running web.1:waiting worker.1:running"},
			{do: "ready worker.1", fx: []string{"log: worker.1 is listening on port 5200 (0.00s after start)"}},
			{do: "after 2s"},
			{do: "ready db.1", fx: []string{"log: db.1 is ready (log ready to accept, 2.00s after start)", "log: starting web.1: db.1 ready", "spawn web.1", "watch web.1 :5100"},
				states: "db.1:running web.1:running worker.1:running"},
			{do: "fire ready db.1", fx: nil},
		},
	}, {
		name:     "ready_timeout: a dependency not ready in time stops the stack, with code 1",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "after 60s"},
			{do: "fire ready db.1", fx: []string{"log: db.1 is not ready after 1m0s (ready: log ready to accept); stopping", "log: sending SIGTERM to all processes", "TERM db.1", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"},
				states: "db.1:stopping web.1:stopped worker.1:stopping"},
		},
		result: "db.1 is not ready after 1m0s (ready: log ready to accept)",
	}, {
		name:     "a dependency that exits before it is ready stops the stack; its dependent never starts",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "exit db.1 2", fx: []string{"unwatch db.1", "log: db.1 exited with code 2", "log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"},
				states: "db.1:exited web.1:stopped worker.1:stopping"},
		},
		result: "db.1 exited with code 2", code: 2,
	}, {
		name:     "--restart: the dependency restarts and web waits on until the new run is ready",
		procfile: dbWebWorker, rules: webAfterDB, restart: []string{"db"},
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "stale db.1"},
			{do: "exit db.1 1", fx: []string{"unwatch db.1", "log: db.1 exited with code 1", "log: restarting db.1 in 1s (restart 1)", "timer restart db.1 1s"}, states: "db.1:restarting web.1:waiting worker.1:running"},
			{do: "fire ready stale", fx: nil},
			{do: "fire restart db.1", fx: slices.Concat([]string{"spawn db.1"}, dbWatched)},
			{do: "ready db.1", fx: []string{"log: db.1 is ready (log ready to accept, 0.00s after start)", "log: starting web.1: db.1 ready", "spawn web.1", "watch web.1 :5100"}},
		},
	}, {
		name:     "every instance of a type is waited for; a type with none in the formation is not",
		procfile: dbWebWorker, counts: []int{2, 1, 0},
		rules: map[string]procfile.Rules{"web": {After: []string{"db", "worker"}}},
		steps: []step{
			{do: "begin", fx: []string{"spawn db.1", "spawn db.2", "log: web.1 waits for db.1 (ready: port 5000), db.2 (ready: port 5001)", "watch db.1 :5000", "timer ready db.1 1m0s", "watch db.2 :5001", "timer ready db.2 1m0s"}},
			{do: "ready db.2", fx: []string{"log: db.2 is listening on port 5001 (0.00s after start)"}, states: "db.1:running db.2:running web.1:waiting"},
			{do: "ready db.1", fx: []string{"log: db.1 is listening on port 5000 (0.00s after start)", "log: starting web.1: db.1, db.2 ready", "spawn web.1", "watch web.1 :5100"}},
		},
	}, {
		name:     "a dependency that may die (can-die) and exits while web waits for it stops the stack: web could never start",
		procfile: dbWebWorker, rules: webAfterDB, canDie: []string{"all"},
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "exit db.1 0", fx: []string{"unwatch db.1", "log: db.1 exited with code 0", "log: db.1 exited before it was ready; web.1 waits for it", "log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}},
		},
		result: "db.1 exited before it was ready (ready: log ready to accept)",
	}, {
		name:     "a shutdown while web waits: it never starts",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "shutdown", fx: []string{"log: sending SIGTERM to all processes", "TERM db.1", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}, states: "db.1:stopping web.1:stopped worker.1:stopping"},
			{do: "exit db.1 SIGTERM", fx: []string{"unwatch db.1", "log: db.1 terminated by SIGTERM"}},
			{do: "exit worker.1 SIGTERM", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGTERM", "TERM strangers"}},
		},
		stopped: true,
	}, {
		name:     "requests: scale up waits too, restart leaves a waiting instance waiting, stop stops it",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "scale web=2", fx: []string{"register web.2", "log: web.2 waits for db.1 (ready: log ready to accept)", "log: scaled web to 2", "reply 1 ok"}, states: "db.1:running web.1:waiting web.2:waiting worker.1:running"},
			{do: "restart web.1", fx: []string{"reply 2 ok"}, states: "db.1:running web.1:waiting web.2:waiting worker.1:running"},
			{do: "stop web.2", fx: []string{"reply 3 ok"}, states: "db.1:running web.1:waiting web.2:stopped worker.1:running"},
			{do: "ready db.1", fx: []string{"log: db.1 is ready (log ready to accept, 0.00s after start)", "log: starting web.1: db.1 ready", "spawn web.1", "watch web.1 :5100"}},
		},
	}, {
		name:     "release first, then the order",
		procfile: "release: migrate\n" + dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "exit release.1 0", fx: []string{"unwatch release.1", "log: release.1 exited with code 0", "spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1", "watch db.1 :5100 (log ready to accept)", "timer ready db.1 1m0s", "watch worker.1 :5300"}},
		},
	}, {
		name:     "a check of its own bounds a type's readiness though nobody waits for it; ready_timeout sets the bound",
		procfile: "web: serve\n",
		rules:    map[string]procfile.Rules{"web": {Ready: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/health"}, ReadyTimeout: 90 * time.Second}},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "watch web.1 :5000 (http /health)", "timer ready web.1 1m30s"}},
			{do: "ready web.1", fx: []string{"log: web.1 is ready (http /health, 0.00s after start)"}},
			{do: "fire ready web.1", fx: nil},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

// proctor wait: answered once the types are ready, or when the stack stops.
func TestMachineWait(t *testing.T) {
	cases := []machineCase{{
		name:     "without names: the types whose readiness .proctor defines",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "wait", fx: nil},
			{do: "ready db.1", fx: []string{"log: db.1 is ready (log ready to accept, 0.00s after start)", "log: starting web.1: db.1 ready", "spawn web.1", "reply 1 ok", "watch web.1 :5100"}},
		},
	}, {
		name:     "without names and without .proctor: every instance running",
		procfile: twoTypes,
		steps: []step{
			{do: "wait", fx: nil},
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100", "reply 1 ok"}},
		},
	}, {
		name:     "a type named: its instances ready, by port when it has no check",
		procfile: twoTypes, counts: []int{2, 1},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn web.2", "spawn worker.1", "watch web.1 :5000", "watch web.2 :5001", "watch worker.1 :5100"}},
			{do: "wait web", fx: nil},
			{do: "ready web.1", fx: []string{"log: web.1 is listening on port 5000 (0.00s after start)"}},
			{do: "ready web.2", fx: []string{"log: web.2 is listening on port 5001 (0.00s after start)", "reply 1 ok"}},
			{do: "wait worker", fx: nil},
			{do: "stop worker", fx: []string{"TERM worker.1", "timer kill worker.1 5s"}},
			{do: "exit worker.1 SIGTERM", fx: []string{"unwatch worker.1", "log: worker.1 terminated by SIGTERM", "reply 2 ok", "reply 3 ok"}},
		},
	}, {
		name:     "an unknown type, and the stack stopping first",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "wait wbe", fx: []string{"reply 1: no such process: unknown process type \"wbe\" (the Procfile has web, worker)"}},
			{do: "wait web", fx: nil},
			{do: "exit worker.1 1", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 1", "log: sending SIGTERM to all processes", "TERM web.1", "TERM strangers", "timer deadline 5s", "reap", "reply 2: proctor is shutting down"}},
		},
		result: "worker.1 exited with code 1", code: 1,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

// watch: a change of a type's files restarts its instances, one after
// another, and is no crash: the backoff starts again.
func TestMachineChanged(t *testing.T) {
	cases := []machineCase{{
		name:     "a change restarts every instance of the type, one after another",
		procfile: twoTypes, counts: []int{2, 1},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn web.2", "spawn worker.1", "watch web.1 :5000", "watch web.2 :5001", "watch worker.1 :5100"}},
			{do: "changed web app/models/user.rb 2", fx: []string{"log: app/models/user.rb and 2 more changed: restarting web", "log: restarting web.1 after the change (restart 1)", "TERM web.1", "timer kill web.1 5s"}},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "spawn web.1", "watch web.1 :5000", "log: restarting web.2 after the change (restart 1)", "TERM web.2", "timer kill web.2 5s"}},
			{do: "exit web.2 SIGTERM", fx: []string{"unwatch web.2", "log: web.2 terminated by SIGTERM", "spawn web.2", "watch web.2 :5001", "reply 1 ok"}, states: "web.1:running web.2:running worker.1:running"},
		},
	}, {
		name:     "a change during a crash's backoff restarts at once, and the backoff starts again",
		procfile: twoTypes, restart: []string{"web"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 1)", "timer restart web.1 1s"}},
			{do: "fire restart web.1", fx: []string{"spawn web.1", "watch web.1 :5000"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 2s (restart 2)", "timer restart web.1 2s"}},
			{do: "changed web app.rb", fx: []string{"log: app.rb changed: restarting web", "log: restarting web.1 after the change (restart 3)", "spawn web.1", "watch web.1 :5000", "reply 1 ok"}},
			{do: "exit web.1 1", fx: []string{"unwatch web.1", "log: web.1 exited with code 1", "log: restarting web.1 in 1s (restart 4)", "timer restart web.1 1s"}},
		},
	}, {
		name:     "a stopped type stays stopped; a change during the shutdown is refused",
		procfile: twoTypes,
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "stop web", fx: []string{"TERM web.1", "timer kill web.1 5s"}},
			{do: "exit web.1 SIGTERM", fx: []string{"unwatch web.1", "log: web.1 terminated by SIGTERM", "reply 1 ok"}},
			{do: "changed web app.rb", fx: []string{"reply 2 ok"}, states: "web.1:stopped worker.1:running"},
			{do: "shutdown", fx: []string{"log: sending SIGTERM to all processes", "TERM worker.1", "TERM strangers", "timer deadline 5s", "reap"}},
			{do: "changed worker w.rb", fx: []string{"reply 3: proctor is shutting down"}},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}

// Cases a review found: each once let a rule of .proctor slip.
func TestMachineOrderEdges(t *testing.T) {
	cases := []machineCase{{
		name:     "a dependency scaled down to its ready instances lets the waiting start",
		procfile: dbWebWorker, counts: []int{2, 1, 0}, rules: map[string]procfile.Rules{"web": {After: []string{"db"}}},
		steps: []step{
			{do: "begin", fx: []string{"spawn db.1", "spawn db.2", "log: web.1 waits for db.1 (ready: port 5000), db.2 (ready: port 5001)", "watch db.1 :5000", "timer ready db.1 1m0s", "watch db.2 :5001", "timer ready db.2 1m0s"}},
			{do: "ready db.1", fx: []string{"log: db.1 is listening on port 5000 (0.00s after start)"}},
			{do: "scale db=1", fx: []string{"TERM db.2", "timer kill db.2 5s", "log: scaled db to 1", "log: starting web.1: db.1 ready", "spawn web.1", "watch web.1 :5100"}},
		},
	}, {
		name:     "the ready timer of an instance being stopped stops nothing",
		procfile: dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: slices.Concat([]string{"spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1"}, dbWatched, []string{"watch worker.1 :5200"})},
			{do: "stop db", fx: []string{"TERM db.1", "timer kill db.1 5s"}},
			{do: "fire ready db.1", fx: nil, states: "db.1:stopping web.1:waiting worker.1:running"},
		},
	}, {
		name:     "wait does not wait for an instance that may exit and has",
		procfile: twoTypes, canDie: []string{"worker"},
		steps: []step{
			{do: "begin", fx: []string{"spawn web.1", "spawn worker.1", "watch web.1 :5000", "watch worker.1 :5100"}},
			{do: "exit worker.1 0", fx: []string{"unwatch worker.1", "log: worker.1 exited with code 0"}},
			{do: "wait", fx: []string{"reply 1 ok"}},
		},
	}, {
		name:     "a change while release runs starts nothing; restart of a stopped waiting instance waits",
		procfile: "release: migrate\n" + dbWebWorker, rules: webAfterDB,
		steps: []step{
			{do: "begin", fx: []string{"spawn release.1", "watch release.1 :5000"}},
			{do: "changed web db/schema.rb", fx: []string{"reply 1 ok"}, states: "release.1:running db.1:stopped web.1:stopped worker.1:stopped"},
			{do: "exit release.1 0", fx: []string{"unwatch release.1", "log: release.1 exited with code 0", "spawn db.1", "log: web.1 waits for db.1 (ready: log ready to accept)", "spawn worker.1", "watch db.1 :5100 (log ready to accept)", "timer ready db.1 1m0s", "watch worker.1 :5300"}},
			{do: "stop web", fx: []string{"reply 2 ok"}},
			{do: "restart web", fx: []string{"log: restarting web.1 on request (restart 1)", "log: web.1 waits for db.1 (ready: log ready to accept)", "reply 3 ok"}, states: "release.1:exited db.1:running web.1:waiting worker.1:running"},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runMachineCase(t, c) })
	}
}
