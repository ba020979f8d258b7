package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("RUNNER_TEST_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop"))
}

// helperMain lets the test binary act as a child process: the runner starts
// it through /bin/sh like any Procfile command.
func helperMain(mode string) int {
	switch mode {
	case "listen":
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		fmt.Println("listening")
		for {
			c, err := l.Accept()
			if err != nil {
				return 0
			}
			c.Close()
		}
	}
	return 2
}

// recorder is an Output that keeps every line in memory, for tests.
type recorder struct {
	mu      sync.Mutex
	lines   []string // "name|stream|line"
	changed chan struct{}
	failed  chan struct{}
	hook    func(line string) // called by System before it records, when set
	pipes   map[*os.File]bool // read by CopyPipe
	aborted bool
}

// setHook has System call hook with each line first: a test can hold the
// supervisor there.
func (r *recorder) setHook(hook func(line string)) {
	r.mu.Lock()
	r.hook = hook
	r.mu.Unlock()
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}, 1), failed: make(chan struct{})}
}

func (r *recorder) Register(string, int) {}

func (r *recorder) Copy(name string, stream output.Stream, src io.Reader) error {
	br := bufio.NewReader(src)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			r.add(fmt.Sprintf("%s|%d|%s", name, stream, strings.TrimRight(line, "\r\n")))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (r *recorder) CopyPipe(name string, stream output.Stream, fd int, done func(error)) {
	f := os.NewFile(uintptr(fd), "|"+name)
	r.mu.Lock()
	if r.pipes == nil {
		r.pipes = map[*os.File]bool{}
	}
	r.pipes[f] = true
	if r.aborted {
		f.Close()
	}
	r.mu.Unlock()
	go func() {
		err := r.Copy(name, stream, f)
		r.mu.Lock()
		delete(r.pipes, f)
		r.mu.Unlock()
		f.Close()
		done(err)
	}()
}

func (r *recorder) AbortPipes() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aborted = true
	for f := range r.pipes {
		f.Close()
	}
}

func (r *recorder) System(line string) {
	r.mu.Lock()
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(line)
	}
	r.add("system|" + line)
}

func (r *recorder) Failed() <-chan struct{} { return r.failed }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.lines = append(r.lines, s)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// waitFor waits until some line matches pattern, failing at the deadline.
func (r *recorder) waitFor(t *testing.T, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.After(10 * time.Second)
	for {
		for _, l := range r.all() {
			if re.MatchString(l) {
				return l
			}
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no line matching %q; got:\n%s", pattern, strings.Join(r.all(), "\n"))
		}
	}
}

// waitCount waits until n lines match pattern, failing at the deadline.
func (r *recorder) waitCount(t *testing.T, pattern string, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for r.count(pattern) < n {
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("%d lines matching %q, want %d; got:\n%s", r.count(pattern), pattern, n, strings.Join(r.all(), "\n"))
		}
	}
}

func (r *recorder) count(pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range r.all() {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// stack is a runner started in the background by a test.
type stack struct {
	t     *testing.T
	r     *Runner
	out   *recorder
	code  int
	err   error
	done  chan struct{}
	token string
}

// startStack runs procfile text with opts in a temp dir, counts[i]
// instances of entry i (one of each when counts is empty). Every child gets
// a unique token in its environment, so the test can find any survivor.
func startStack(t *testing.T, text string, opts Options, counts ...int) *stack {
	t.Helper()
	entries, err := procfile.Parse(strings.NewReader(text))
	require.NoError(t, err)
	st := &stack{t: t, out: newRecorder(), done: make(chan struct{})}
	st.token = fmt.Sprintf("RUNNER_TEST_TOKEN=%s-%d", t.Name(), time.Now().UnixNano())
	if len(counts) == 0 {
		counts = slices.Repeat([]int{1}, len(entries))
	}
	opts.App.Entries = entries
	if opts.App.Ports.Base == 0 {
		opts.App.Ports = procfile.Ports{Base: freePortBase(t), Step: 10}
	}
	opts.App.Environ = append(os.Environ(), st.token)
	opts.Plan, err = opts.App.Plan(counts)
	require.NoError(t, err)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Output = st.out
	if opts.Guardian == nil {
		opts.Guardian = GuardianCommand(2 * time.Second)
	}
	st.r, err = New(opts)
	require.NoError(t, err)
	go func() {
		defer close(st.done)
		st.err = st.r.Run(context.Background())
		var ee *ExitError
		if errors.As(st.err, &ee) {
			st.code, st.err = ee.ExitCode(), nil
		}
	}()
	t.Cleanup(func() {
		select {
		case <-st.done:
		default:
			st.r.Shutdown()
			st.r.Kill()
			select {
			case <-st.done:
			case <-time.After(20 * time.Second):
				t.Errorf("runner did not stop on SIGINT; processes %v; output:\n%s", survivors(st.token), strings.Join(st.out.all(), "\n"))
			}
		}
		killSurvivors(st.token)
	})
	return st
}

// wait waits for Run to return and gives its exit code.
func (st *stack) wait() int {
	st.t.Helper()
	select {
	case <-st.done:
	case <-time.After(20 * time.Second):
		st.t.Fatalf("runner did not return; output:\n%s", strings.Join(st.out.all(), "\n"))
	}
	require.NoError(st.t, st.err)
	return st.code
}

// survivors lists processes whose environment carries token.
func survivors(token string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		data, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(data, []byte{0}) {
			if string(kv) == token {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func killSurvivors(token string) {
	for _, pid := range survivors(token) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (st *stack) assertNoSurvivors() {
	st.t.Helper()
	assert.Empty(st.t, survivors(st.token), "processes left after Run returned")
}

// freePortBase finds a base port with 20 free ports above it.
func freePortBase(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if port > 60000 {
		port = 40000 + port%10000
	}
	return port
}

func TestExitOfOneStopsAll(t *testing.T) {
	dir := t.TempDir()
	st := startStack(t, `
web: trap 'echo TERM > web.term; exit 0' TERM; touch web.up; while :; do sleep 0.05; done
bad: echo bad up; while [ ! -f web.up ]; do sleep 0.01; done; exit 3
`, Options{Dir: dir})
	code := st.wait()
	assert.Equal(t, 3, code)
	st.out.waitFor(t, `^system\|bad\.1 exited with code 3$`)
	st.out.waitFor(t, `^system\|sending SIGTERM to all processes$`)
	st.out.waitFor(t, `^bad\.1\|0\|bad up$`)
	assert.FileExists(t, filepath.Join(dir, "web.term"), "web did not get SIGTERM")
	st.assertNoSurvivors()
}

func TestSignalStopsAllWithCodeZero(t *testing.T) {
	st := startStack(t, "a: echo a; sleep 1000\nb: echo b; sleep 1000\n", Options{})
	st.out.waitFor(t, `^a\.1\|0\|a$`)
	st.out.waitFor(t, `^b\.1\|0\|b$`)
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.out.waitFor(t, `^system\|a\.1 terminated by SIGTERM$`)
	st.assertNoSurvivors()
}

func TestStartedWithPid(t *testing.T) {
	st := startStack(t, "a: sleep 1000\n", Options{})
	line := st.out.waitFor(t, `^a\.1\|2\|started with pid \d+$`)
	status, err := st.r.Status()
	require.NoError(t, err)
	require.Len(t, status, 1)
	assert.Equal(t, fmt.Sprintf("a.1|2|started with pid %d", status[0].PID), line)
	assert.Equal(t, Running, status[0].State)
	st.r.Shutdown()
	st.wait()
}

func TestStderrCaptured(t *testing.T) {
	st := startStack(t, "a: echo out; echo err >&2\n", Options{})
	st.wait()
	st.out.waitFor(t, `^a\.1\|0\|out$`)
	st.out.waitFor(t, `^a\.1\|1\|err$`)
}

func TestIgnoredTermGetsKill(t *testing.T) {
	st := startStack(t, "stubborn: trap '' TERM; echo ready; while :; do sleep 0.05; done\n", Options{Timeout: 300 * time.Millisecond})
	st.out.waitFor(t, `ready`)
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.out.waitFor(t, `^system\|sending SIGKILL to all processes$`)
	st.out.waitFor(t, `^system\|stubborn\.1 terminated by SIGKILL$`)
	st.assertNoSurvivors()
}

func TestSecondInterruptKillsAtOnce(t *testing.T) {
	st := startStack(t, "stubborn: trap '' TERM INT; echo ready; while :; do sleep 0.05; done\n", Options{Timeout: time.Hour})
	st.out.waitFor(t, `ready`)
	st.r.Shutdown()
	st.out.waitFor(t, `sending SIGTERM`)
	st.r.Kill()
	assert.Equal(t, 0, st.wait())
	st.out.waitFor(t, `^system\|sending SIGKILL to all processes$`)
	st.assertNoSurvivors()
}

func TestBackgroundChildrenOfShellDie(t *testing.T) {
	st := startStack(t, "bg: sleep 1000 & sleep 1000 & echo started; wait\n", Options{})
	st.out.waitFor(t, `started`)
	require.Eventually(t, func() bool { return len(survivors(st.token)) >= 3 }, 5*time.Second, 10*time.Millisecond)
	st.r.Shutdown()
	st.wait()
	st.assertNoSurvivors()
}

func TestEscapedDescendantsDie(t *testing.T) {
	// A double fork and a new session: the sleeps leave the instance's
	// process group and are adopted by proctor as a subreaper.
	st := startStack(t, "escape: (setsid sleep 1000 &); (sleep 1000 &); echo forked; sleep 1000\n", Options{})
	st.out.waitFor(t, `forked`)
	require.Eventually(t, func() bool { return len(survivors(st.token)) >= 4 }, 5*time.Second, 10*time.Millisecond)
	st.r.Shutdown()
	st.wait()
	st.assertNoSurvivors()
}

func TestRestartDelay(t *testing.T) {
	tests := []struct {
		current, uptime, delay, next time.Duration
	}{
		{0, 0, time.Second, 2 * time.Second},
		{time.Second, time.Second, time.Second, 2 * time.Second},
		{2 * time.Second, time.Second, 2 * time.Second, 4 * time.Second},
		{16 * time.Second, time.Second, 16 * time.Second, 30 * time.Second},
		{30 * time.Second, time.Second, 30 * time.Second, 30 * time.Second},
		{30 * time.Second, 10 * time.Second, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		delay, next := restartDelay(tt.current, tt.uptime)
		assert.Equal(t, tt.delay, delay, "restartDelay(%v, %v) delay", tt.current, tt.uptime)
		assert.Equal(t, tt.next, next, "restartDelay(%v, %v) next", tt.current, tt.uptime)
	}
}

func TestUserSignalsForwarded(t *testing.T) {
	st := startStack(t, "a: trap 'echo got USR1' USR1; trap 'echo got USR2' USR2; echo ready; while :; do sleep 0.05; done\n", Options{})
	st.out.waitFor(t, `ready`)
	st.r.Signal(syscall.SIGUSR1)
	st.out.waitFor(t, `^a\.1\|0\|got USR1$`)
	st.r.Signal(syscall.SIGUSR2)
	st.out.waitFor(t, `^a\.1\|0\|got USR2$`)
	st.r.Shutdown()
	st.wait()
}

func TestKilledBySignalExitCode(t *testing.T) {
	st := startStack(t, "a: kill -KILL $$\n", Options{})
	assert.Equal(t, 128+9, st.wait())
	st.out.waitFor(t, `^system\|a\.1 terminated by SIGKILL$`)
}

func TestEnvironmentPortAndPS(t *testing.T) {
	entries := "web: echo $PS $PORT\nworker: echo $PS $PORT\n"
	st := startStack(t, entries, Options{App: procfile.App{Ports: procfile.Ports{Base: 45000, Step: 100}}, CanDie: []string{"web", "worker"}}, 2, 1)
	st.wait()
	st.out.waitFor(t, `^web\.1\|0\|web\.1 45000$`)
	st.out.waitFor(t, `^web\.2\|0\|web\.2 45001$`)
	st.out.waitFor(t, `^worker\.1\|0\|worker\.1 45100$`)
}

func TestLastLineWithoutNewlineAndNoLoss(t *testing.T) {
	st := startStack(t, "a: i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; printf tail\n", Options{})
	st.wait()
	assert.Equal(t, 2000, st.out.count(`^a\.1\|0\|line \d+$`))
	st.out.waitFor(t, `^a\.1\|0\|tail$`)
}

func TestReadiness(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	st := startStack(t, "web: RUNNER_TEST_HELPER=listen exec "+exe+"\nworker: sleep 1000\n", Options{})
	st.out.waitFor(t, `^system\|web\.1 is listening on port \d+ \(\d+\.\d\ds after start\)$`)
	status, err := st.r.Status()
	require.NoError(t, err)
	assert.True(t, status[0].Ready)
	assert.False(t, status[1].Ready)
	st.r.Shutdown()
	st.wait()
	assert.Zero(t, st.out.count(`worker\.1 is listening`))
}

func TestTTY(t *testing.T) {
	st := startStack(t, "a: test -t 0 && test -t 1 && echo is a tty; stty size\n", Options{TTY: true, WindowSize: WindowSize{Rows: 33, Cols: 120}})
	assert.Equal(t, 0, st.wait())
	st.out.waitFor(t, `^a\.1\|0\|is a tty$`)
	st.out.waitFor(t, `^a\.1\|0\|33 120$`)
}

func TestTTYDefaultSizeAndShutdown(t *testing.T) {
	st := startStack(t, "a: stty size; echo ready; sleep 1000 & sleep 1000\n", Options{TTY: true})
	st.out.waitFor(t, `^a\.1\|0\|24 80$`)
	st.out.waitFor(t, `ready`)
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.assertNoSurvivors()
}

func TestSpawnFailureIsAnExit(t *testing.T) {
	st := startStack(t, "a: echo hi\n", Options{Dir: filepath.Join(t.TempDir(), "missing")})
	assert.Equal(t, 127, st.wait())
	st.out.waitFor(t, `^system\|a\.1 could not start: `)
}

func TestEmptyFormation(t *testing.T) {
	entries, err := procfile.Parse(strings.NewReader("a: true\n"))
	require.NoError(t, err)
	app := procfile.App{Entries: entries, Ports: procfile.Ports{Base: 5000, Step: 100}}
	plan, err := app.Plan([]int{0})
	require.NoError(t, err)
	_, err = New(Options{App: app, Plan: plan, Output: newRecorder()})
	assert.ErrorIs(t, err, ErrEmptyFormation)
}

func TestStatusAfterRunIsAnError(t *testing.T) {
	st := startStack(t, "a: true\n", Options{})
	st.wait()
	_, err := st.r.Status()
	assert.ErrorIs(t, err, ErrNotRunning)
}

func TestDescribeExit(t *testing.T) {
	tests := []struct {
		status syscall.WaitStatus
		want   string
		code   int
	}{
		{syscall.WaitStatus(0), "w.1 exited with code 0", 0},
		{syscall.WaitStatus(3 << 8), "w.1 exited with code 3", 3},
		{syscall.WaitStatus(uint32(syscall.SIGTERM)), "w.1 terminated by SIGTERM", 143},
		{syscall.WaitStatus(uint32(syscall.SIGKILL)), "w.1 terminated by SIGKILL", 137},
	}
	for _, tt := range tests {
		st := waitStatusOf(tt.status)
		assert.Equal(t, tt.want, st.describe("w.1"))
		assert.Equal(t, tt.code, st.shellCode())
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestStoppedChildGetsTermAtShutdown(t *testing.T) {
	// A SIGSTOPped process holds a SIGTERM pending; without the SIGCONT that
	// follows it, shutdown would wait out the timeout and SIGKILL it.
	st := startStack(t, "frozen: echo ready; kill -STOP $$; echo thawed; sleep 1000\n", Options{Timeout: time.Hour})
	st.out.waitFor(t, `^frozen\.1\|0\|ready$`)
	require.Eventually(t, func() bool {
		status, err := st.r.Status()
		if err != nil || status[0].PID == 0 {
			return false
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", status[0].PID))
		return err == nil && strings.Contains(string(data), ") T ")
	}, 10*time.Second, 5*time.Millisecond, "the shell never stopped")
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.out.waitFor(t, `^system\|frozen\.1 terminated by SIGTERM$`)
	assert.Zero(t, st.out.count(`SIGKILL`))
	st.assertNoSurvivors()
}

// TestLogCheckExitWaitsOnlyForItsPipes: the exit of a run with a log check
// is reported once both its pipes are read to their end (its ready line
// first), not after logDrainWait, raised here to a minute.
func TestLogCheckExitWaitsOnlyForItsPipes(t *testing.T) {
	saved := logDrainWait
	logDrainWait = time.Minute
	defer func() { logDrainWait = saved }()
	opts := Options{App: procfile.App{Rules: map[string]procfile.Rules{
		"db": {Ready: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "ready to accept"}},
	}}}
	st := startStack(t, "db: echo 'ready to accept'; echo bye >&2; exit 3\n", opts)
	assert.Equal(t, 3, st.wait(), "exit code")
	lines := st.out.all()
	ready := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "db.1 is ready") })
	exited := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "db.1 exited with code 3") })
	assert.GreaterOrEqual(t, ready, 0, "the ready line:\n%s", strings.Join(lines, "\n"))
	assert.Greater(t, exited, ready, "the exit after the ready line:\n%s", strings.Join(lines, "\n"))
}
