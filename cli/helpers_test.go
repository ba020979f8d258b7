package cli

// The end-to-end harness: TestMain builds the proctor binary once, and the
// helpers below run it as a user would, in a directory of the test's
// making, with a deadline, and kill its whole process group when the test
// ends, pass or fail.
//
//	runProctor(t, dir, args...) (stdout, stderr string, code int)
//	runProctorWith(t, opts, args...) (stdout, stderr string, code int)
//	startProctor(t, dir, args...) *bgProctor       // in the background
//	startProctorWith(t, opts, args...) *bgProctor
//	    .Pid() .Signal(sig) .Lines() .WaitLine(timeout, match) .Output()
//	    .Stderr() .Wait(timeout) code .Exited()
//	waitFor(t, timeout, cond, msgAndArgs...)
//	processesWithToken(token) []int, waitNoProcesses(t, token, timeout)
//	    (bgProctor.Token() is the token of a background run)
//	killTokenProcesses(t, token) (every cleanup calls it)
//	writeFiles(t, dir, files), newAppDir(t, files), freePort(t)
//
// Every process proctor starts inherits PROCTOR_E2E_TOKEN=<token>, a value
// unique to the test, so leftover processes can be found in /proc.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/proctest"
)

// proctorBin is the binary TestMain builds; set once before any test runs.
var proctorBin string

// modulePath is the import path of proctor's main package, the module
// root, which TestMain builds.
const modulePath = "github.com/proctor-run/proctor"

// TestMain builds proctor once into a temporary directory for the
// end-to-end tests. It is the only TestMain of package cli: tests added
// later share it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "proctor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	proctorBin = filepath.Join(dir, "proctor")
	build := exec.Command("go", "build", "-o", proctorBin, modulePath)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build -o %s %s: %v\n%s", proctorBin, modulePath, err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tokenVar is the variable that marks every process a test starts.
const tokenVar = "PROCTOR_E2E_TOKEN"

var tokenSeq atomic.Int64

// newToken returns a value unique to this test run and call.
func newToken(t *testing.T) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("%s-%d-%d", name, os.Getpid(), tokenSeq.Add(1))
}

// runOptions say how to run proctor. The zero value runs it in the test
// process's working directory with the base environment and no stdin.
type runOptions struct {
	// dir is proctor's working directory.
	dir string
	// env holds KEY=VALUE pairs set on top of the base environment, which
	// is the test's own less PORT, PS, NO_COLOR and PROCTOR_SOCKET.
	env []string
	// stdin is proctor's standard input; nil means /dev/null.
	stdin io.Reader
	// timeout bounds the whole run (runProctor) or each wait (background);
	// 0 means 30 seconds.
	timeout time.Duration
	// token marks the processes of this run; empty means a new one.
	token string
	// wrapper, when set, is a command that runs proctor: proctor's path
	// and args are appended to it (e.g. unshare --pid --fork).
	wrapper []string
}

func (o runOptions) deadline() time.Duration {
	if o.timeout > 0 {
		return o.timeout
	}
	return 30 * time.Second
}

// environ builds proctor's environment: the test's own, without variables
// that would change proctor's behaviour, plus the token and opts.env.
func (o runOptions) environ() []string {
	drop := []string{"PORT", "PS", "NO_COLOR", "PROCTOR_SOCKET", tokenVar}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			out = append(out, kv)
		}
	}
	out = append(out, tokenVar+"="+o.token)
	return append(out, o.env...)
}

// command prepares proctor with args in its own process group, so that one
// kill reaches proctor and everything it started.
func (o *runOptions) command(t *testing.T, ctx context.Context, args []string) *exec.Cmd {
	t.Helper()
	if o.token == "" {
		o.token = newToken(t)
	}
	argv := append([]string{proctorBin}, args...)
	if len(o.wrapper) > 0 {
		argv = append(slices.Clone(o.wrapper), argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = o.dir
	cmd.Env = o.environ()
	cmd.Stdin = o.stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	// A grandchild holding a pipe open must not hang Wait.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// killGroup sends SIGKILL to the process group of a started cmd.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// exitCode maps a finished process state to a shell-style exit code:
// 128+N for death by signal N.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// runProctor runs proctor with args in dir and returns its output and exit
// code. It fails the test if proctor does not finish within 30 seconds.
func runProctor(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runProctorWith(t, runOptions{dir: dir}, args...)
}

// runProctorWith is runProctor with options: environment, stdin, timeout.
func runProctorWith(t *testing.T, opts runOptions, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opts.deadline())
	defer cancel()
	cmd := opts.command(t, ctx, args)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	t.Cleanup(func() {
		_ = killGroup(cmd)
		killTokenProcesses(t, opts.token)
	})
	err := cmd.Run()
	stdout, stderr = outBuf.String(), errBuf.String()
	if ctx.Err() != nil {
		t.Fatalf("proctor %q did not finish within %v\nstdout:\n%s\nstderr:\n%s", args, opts.deadline(), stdout, stderr)
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("proctor %q exited, but a process it started still holds its output open\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("proctor %q: %v\nstderr:\n%s", args, err, stderr)
	}
	return stdout, stderr, exitCode(cmd.ProcessState)
}

// bgProctor is a proctor running in the background. Its stdout is read
// line by line as it comes, and never blocks proctor: lines queue in
// memory until the test reads them.
type bgProctor struct {
	t       *testing.T
	cmd     *exec.Cmd
	token   string
	timeout time.Duration
	lines   chan string
	stop    chan struct{} // closed at cleanup: stops the line forwarder
	done    chan struct{} // closed when proctor has exited
	code    int           // valid once done is closed

	mu      sync.Mutex
	out     []string // every stdout line read so far
	outEOF  bool
	errEOF  bool
	changed chan struct{} // signalled (non-blocking) when out or outEOF change
	errBuf  bytes.Buffer
}

// startProctor starts proctor with args in dir in the background. Cleanup
// kills its process group and waits for it to exit.
func startProctor(t *testing.T, dir string, args ...string) *bgProctor {
	t.Helper()
	return startProctorWith(t, runOptions{dir: dir}, args...)
}

// startProctorWith is startProctor with options; opts.timeout is the
// default deadline of WaitLine and Wait.
func startProctorWith(t *testing.T, opts runOptions, args ...string) *bgProctor {
	t.Helper()
	cmd := opts.command(t, context.Background(), args)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	p := &bgProctor{
		t: t, cmd: cmd, token: opts.token, timeout: opts.deadline(),
		lines: make(chan string), stop: make(chan struct{}), done: make(chan struct{}),
		changed: make(chan struct{}, 1),
	}
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		t.Fatalf("start proctor %q: %v", args, err)
	}
	// Only proctor (and its children) hold the write ends now, so the
	// readers see EOF when the last of them is gone.
	outW.Close()
	errW.Close()

	var readers sync.WaitGroup
	readers.Go(func() { p.readStdout(outR) })
	readers.Go(func() {
		defer errR.Close()
		_, _ = io.Copy(lockedWriter{p}, errR)
		p.mu.Lock()
		p.errEOF = true
		p.mu.Unlock()
	})
	readers.Go(p.forward)
	go func() {
		_ = cmd.Wait()
		p.code = exitCode(cmd.ProcessState)
		close(p.done)
	}()

	t.Cleanup(func() {
		_ = killGroup(cmd)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("proctor pid %d still running 10s after SIGKILL", cmd.Process.Pid)
		}
		// What proctor started and did not stop (the test failed, or
		// proctor was killed) goes too.
		killTokenProcesses(t, p.token)
		// Any process of the group that escaped keeps the pipes open;
		// closing the read ends ends the readers regardless.
		close(p.stop)
		outR.Close()
		errR.Close()
		readers.Wait()
		if t.Failed() {
			t.Logf("proctor %q (pid %d)\nstdout:\n%s\nstderr:\n%s", args, cmd.Process.Pid, strings.Join(p.Output(), "\n"), p.Stderr())
		}
	})
	return p
}

// readStdout records stdout lines until EOF. Lines are kept without their
// line end; a last line without one is kept too.
func (p *bgProctor) readStdout(r *os.File) {
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			p.mu.Lock()
			p.out = append(p.out, line)
			p.mu.Unlock()
			p.notify()
		}
		if err != nil {
			p.mu.Lock()
			p.outEOF = true
			p.mu.Unlock()
			p.notify()
			return
		}
	}
}

// lockedWriter appends to p's stderr buffer under its lock.
type lockedWriter struct{ p *bgProctor }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.errBuf.Write(b)
}

func (p *bgProctor) notify() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// forward feeds recorded lines to the Lines channel in order, and closes it
// after the last line at EOF.
func (p *bgProctor) forward() {
	defer close(p.lines)
	next := 0
	for {
		p.mu.Lock()
		var line string
		have, eof := next < len(p.out), p.outEOF
		if have {
			line = p.out[next]
		}
		p.mu.Unlock()
		switch {
		case have:
			select {
			case p.lines <- line:
				next++
			case <-p.stop:
				return
			}
		case eof:
			return
		default:
			select {
			case <-p.changed:
			case <-p.stop:
				return
			}
		}
	}
}

// Pid is proctor's process id (and its process group id).
func (p *bgProctor) Pid() int { return p.cmd.Process.Pid }

// Token is the PROCTOR_E2E_TOKEN value every process of this run carries.
func (p *bgProctor) Token() string { return p.token }

// Signal sends sig to proctor alone (not its group).
func (p *bgProctor) Signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to proctor: %v", sig, err)
	}
}

// Lines returns proctor's stdout, one line per receive; it is closed after
// the last line once stdout is closed. Lines taken here are not seen again
// by WaitLine; use one or the other for a given stretch of output.
func (p *bgProctor) Lines() <-chan string { return p.lines }

// WaitLine reads lines from Lines until one matches, and returns it. It
// fails the test at the deadline (timeout, or the run's default when 0) or
// when stdout ends without a match.
func (p *bgProctor) WaitLine(timeout time.Duration, match func(line string) bool) string {
	p.t.Helper()
	if timeout == 0 {
		timeout = p.timeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("proctor's stdout ended without the expected line\nstdout:\n%s\nstderr:\n%s", strings.Join(p.Output(), "\n"), p.Stderr())
			}
			if match(line) {
				return line
			}
		case <-deadline.C:
			p.t.Fatalf("no expected line within %v\nstdout so far:\n%s\nstderr:\n%s", timeout, strings.Join(p.Output(), "\n"), p.Stderr())
		}
	}
}

// Output returns every stdout line read so far, consumed or not.
func (p *bgProctor) Output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.out)
}

// Stderr returns proctor's stderr read so far; all of it after Wait.
func (p *bgProctor) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errBuf.String()
}

// Exited reports whether proctor has exited.
func (p *bgProctor) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for proctor to exit and for its stdout and stderr to close,
// and returns its exit code (128+N for death by signal N). It fails the test
// at the deadline (timeout, or the run's default when 0).
func (p *bgProctor) Wait(timeout time.Duration) int {
	p.t.Helper()
	if timeout == 0 {
		timeout = p.timeout
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("proctor did not exit within %v\nstdout so far:\n%s\nstderr:\n%s", timeout, strings.Join(p.Output(), "\n"), p.Stderr())
	}
	waitFor(p.t, timeout, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.outEOF && p.errEOF
	}, "proctor exited but its stdout or stderr is still open (a leftover process holds it)")
	return p.code
}

// waitFor polls cond every 10ms until it holds, and fails the test with
// msgAndArgs (a format and its arguments) if it does not within timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			msg := "condition"
			if len(msgAndArgs) > 0 {
				msg = fmt.Sprintf(fmt.Sprint(msgAndArgs[0]), msgAndArgs[1:]...)
			}
			t.Fatalf("waited %v: %s not met", timeout, msg)
		}
		<-tick.C
	}
}

// processesWithToken returns the live processes whose environment
// carries PROCTOR_E2E_TOKEN=token.
func processesWithToken(token string) []int { return e2eToken(token).Procs() }

// waitNoProcesses waits until no process carries token, and fails the test
// naming the survivors if some still do after timeout.
func waitNoProcesses(t *testing.T, token string, timeout time.Duration) {
	t.Helper()
	e2eToken(token).WaitGone(t, timeout)
}

// killTokenProcesses sends SIGKILL to every process carrying token, until
// none is left.
func killTokenProcesses(t *testing.T, token string) {
	t.Helper()
	e2eToken(token).Kill(t)
}

// e2eToken is the mark of a test's processes.
func e2eToken(token string) proctest.Token { return proctest.Token{Var: tokenVar, Value: token} }

// writeFiles creates files (path relative to dir -> content) in dir,
// making parent directories. A path ending in ".sh" is made executable.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// newAppDir returns a new temporary directory holding files.
func newAppDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
