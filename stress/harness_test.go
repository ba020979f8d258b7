package stress

// The harness: TestMain builds proctor and the child once; startStack runs
// `proctor start` on a Procfile in a directory of the test's own, reads its
// stdout line by line (handing every line to the test, keeping proctor's
// own lines), and kills whatever is left when the test ends, pass or fail.
//
//	startStack(t, stackOpts{...}) *stack
//	    .await(timeout, what, cond)  .signal(sig)  .wait(timeout) code
//	    .notable() .stderr() .stats(t) .ps(t) .cli(t, args...)
//	full, size(short, full)
//	/proc: statusKiB, cpuTime, procStat, childrenOf, tokenProcs,
//	    waitNoProcesses, killToken

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/internal/proctest"
)

var (
	// proctorBin and childBin are built by TestMain.
	proctorBin, childBin string
	// full selects the full version of every case.
	full bool
)

// fullEnv selects the full version without the build tag.
const fullEnv = "PROCTOR_STRESS"

func TestMain(m *testing.M) {
	full = fullByTag || os.Getenv(fullEnv) == "full"
	dir, err := os.MkdirTemp("", "proctor-stress-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		os.Exit(1)
	}
	proctorBin = filepath.Join(dir, "proctor")
	childBin = filepath.Join(dir, "stresschild")
	args := []string{"build", "-o", proctorBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	for _, b := range [][]string{
		append(args, "github.com/proctor-run/proctor"),
		{"build", "-o", childBin, "./testdata/stresschild"},
	} {
		if out, err := exec.Command("go", b...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "stress: go %s: %v\n%s", strings.Join(b, " "), err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// size picks the short or the full version of a figure.
func size[T any](short, long T) T {
	if full {
		return long
	}
	return short
}

// tokenVar marks every process a test starts.
const tokenVar = "PROCTOR_STRESS_TOKEN"

var tokenSeq atomic.Int64

// stackOpts say what to run and how to read it.
type stackOpts struct {
	// procfile is the Procfile's text.
	procfile string
	// args follow "start --no-color".
	args []string
	// onLine, when set, gets every line of proctor's stdout (without its
	// line end) as name and text, on the reader goroutine; the slices are
	// valid only during the call.
	onLine func(name, text []byte)
	// stdout, when set, is proctor's stdout instead of a pipe the harness
	// reads; the test owns it.
	stdout *os.File
	// env is added to proctor's environment.
	env []string
	// files are written into the root before proctor starts (name → text).
	files map[string]string
	// json runs proctor with --log-format json: each note then carries
	// the time proctor gave its line, to the nanosecond.
	json bool
}

// stack is a `proctor start` running in the background.
type stack struct {
	t      *testing.T
	dir    string
	token  string
	cmd    *exec.Cmd
	began  time.Time
	done   chan struct{} // closed when proctor has exited
	code   int           // valid once done is closed
	outEOF chan struct{} // closed when the reader has reached the end of stdout

	lines atomic.Int64 // stdout lines read

	mu      sync.Mutex
	notes   []note // proctor's own lines: "system | ..." and "web.1 | started with pid N"
	errBuf  bytes.Buffer
	changed chan struct{} // signalled (non-blocking) when notes change
}

// startStack starts `proctor start --no-color ARGS` on o.procfile in a new
// directory, which is the root (the control socket is .proctor.sock there).
func startStack(t *testing.T, o stackOpts) *stack {
	t.Helper()
	dir := t.TempDir()
	for name, text := range o.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte(o.procfile), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &stack{
		t: t, dir: dir,
		token:   fmt.Sprintf("%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid(), tokenSeq.Add(1)),
		done:    make(chan struct{}),
		outEOF:  make(chan struct{}),
		changed: make(chan struct{}, 1),
	}
	args := []string{"start", "--no-color"}
	if o.json {
		args = append(args, "--log-format", "json")
	}
	s.cmd = exec.Command(proctorBin, append(args, o.args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append(s.environ(), o.env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var outR, outW *os.File
	if o.stdout != nil {
		s.cmd.Stdout = o.stdout
	} else {
		if outR, outW, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		s.cmd.Stdout = outW
	}
	s.cmd.Stderr = errW
	s.began = time.Now()
	err = s.cmd.Start()
	errW.Close()
	if outW != nil {
		outW.Close()
	}
	if err != nil {
		errR.Close()
		if outR != nil {
			outR.Close()
		}
		t.Fatalf("start proctor: %v", err)
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		defer errR.Close()
		io.Copy(lockedWriter{s}, errR)
	})
	if outR != nil {
		readers.Go(func() {
			defer outR.Close()
			s.read(outR, o.json, o.onLine)
		})
	} else {
		close(s.outEOF)
	}
	go func() {
		s.cmd.Wait()
		s.code = exitCode(s.cmd.ProcessState)
		close(s.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("proctor pid %d still running 10s after SIGKILL", s.cmd.Process.Pid)
		}
		killToken(t, s.token)
		// A process that escaped everything would hold the pipes open;
		// closing the read ends ends the readers regardless.
		errR.Close()
		if outR != nil {
			outR.Close()
		}
		readers.Wait()
		if t.Failed() {
			notes := s.notable()
			if len(notes) > 200 {
				notes = append([]string{"..."}, notes[len(notes)-200:]...)
			}
			t.Logf("proctor (pid %d): %d stdout lines; its own lines:\n%s\nstderr:\n%s",
				s.cmd.Process.Pid, s.lines.Load(), strings.Join(notes, "\n"), s.stderr())
		}
	})
	return s
}

// environ is the test's environment less what changes proctor's behaviour,
// plus the token (and, under -race, a race report ends proctor at once).
func (s *stack) environ() []string {
	drop := []string{"PORT", "PS", "NO_COLOR", "PROCTOR_SOCKET", tokenVar, "GORACE"}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			out = append(out, kv)
		}
	}
	out = append(out, tokenVar+"="+s.token)
	if raceEnabled {
		out = append(out, "GORACE=halt_on_error=1 exitcode=66 atexit_sleep_ms=0")
	}
	return out
}

// lockedWriter appends to the stack's stderr buffer.
type lockedWriter struct{ s *stack }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.errBuf.Write(p)
}

// maxRead is the longest stdout line the reader takes whole: a 1 MiB
// piece and its prefix fit.
const maxRead = 4 << 20

// record is a line of --log-format json.
type record struct {
	Time    time.Time `json:"time"`
	Process string    `json:"process"`
	Line    string    `json:"line"`
}

// read reads proctor's stdout until EOF.
func (s *stack) read(r io.Reader, asJSON bool, onLine func(name, text []byte)) {
	defer close(s.outEOF)
	br := bufio.NewReaderSize(r, maxRead)
	started := []byte("started with pid ")
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && (err == nil || err == io.EOF) {
			line = bytes.TrimSuffix(line, []byte("\n"))
			s.lines.Add(1)
			name, text, ok := splitLine(line)
			at := time.Now()
			if asJSON {
				var rec record
				ok = json.Unmarshal(line, &rec) == nil
				name, text, at = []byte(rec.Process), []byte(rec.Line), rec.Time
			}
			if !ok {
				s.note(time.Now(), "unparsed | "+string(line[:min(len(line), 200)]))
			} else if string(name) == "system" || bytes.HasPrefix(text, started) {
				s.note(at, string(name)+" | "+string(text))
			}
			if onLine != nil {
				onLine(name, text)
				// await's conditions may count what onLine saw.
				s.poke()
			}
		}
		if err != nil {
			if err != io.EOF {
				s.note(time.Now(), fmt.Sprintf("reader | %v", err))
			}
			return
		}
	}
}

// splitLine splits "HH:MM:SS name   | text" (or "name | text" without
// timestamps) into the name and the text.
func splitLine(line []byte) (name, text []byte, ok bool) {
	i := bytes.Index(line, []byte(" | "))
	if i < 0 {
		return nil, nil, false
	}
	head := bytes.Fields(line[:i])
	if len(head) == 0 || len(head) > 2 {
		return nil, nil, false
	}
	return head[len(head)-1], line[i+3:], true
}

// note is one of proctor's own lines and when the reader got it (with
// stackOpts.json, the time proctor gave it).
type note struct {
	at   time.Time
	line string
}

func (s *stack) note(at time.Time, line string) {
	s.mu.Lock()
	s.notes = append(s.notes, note{at, line})
	s.mu.Unlock()
	s.poke()
}

// poke wakes await to check its condition again.
func (s *stack) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// notable returns proctor's own lines so far: "system | TEXT" and
// "NAME | started with pid N".
func (s *stack) notable() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.notes))
	for i, n := range s.notes {
		out[i] = n.line
	}
	return out
}

// timedNotes returns proctor's own lines so far with the time each was
// read.
func (s *stack) timedNotes() []note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes)
}

func (s *stack) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errBuf.String()
}

// pid is proctor's pid (and its process group).
func (s *stack) pid() int { return s.cmd.Process.Pid }

// await waits until cond holds for proctor's own lines (or for what the
// stack's onLine counted), checking each time a line arrives; it fails the
// test at the deadline or when stdout ends first.
func (s *stack) await(timeout time.Duration, what string, cond func(notes []string) bool) {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if cond(s.notable()) {
			return
		}
		select {
		case <-s.changed:
		case <-s.outEOF:
			if cond(s.notable()) {
				return
			}
			s.t.Fatalf("proctor's stdout ended before %s", what)
		case <-deadline.C:
			s.t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

// count counts the lines that contain sub.
func count(notes []string, sub string) int {
	n := 0
	for _, l := range notes {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// signal sends sig to proctor alone.
func (s *stack) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to proctor: %v", sig, err)
	}
}

// wait waits for proctor to exit and for its stdout to end, and returns its
// exit code (128+N for signal N).
func (s *stack) wait(timeout time.Duration) int {
	s.t.Helper()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for _, ch := range []chan struct{}{s.done, s.outEOF} {
		select {
		case <-ch:
		case <-t.C:
			s.t.Fatalf("proctor did not exit (and close its stdout) within %v", timeout)
		}
	}
	return s.code
}

func (s *stack) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// client talks to the stack's control socket.
func (s *stack) client() *control.Client {
	return &control.Client{Path: filepath.Join(s.dir, ".proctor.sock")}
}

// stats asks proctor for its goroutines, descriptors and heap.
func (s *stack) stats(t *testing.T) control.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, st, err := s.client().Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st
}

// cli runs the proctor binary with args in the stack's root and returns its
// stdout, stderr and exit code.
func (s *stack) cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, proctorBin, args...)
	cmd.Dir = s.dir
	cmd.Env = s.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("proctor %q: %v", args, err)
	}
	return out.String(), errb.String(), exitCode(cmd.ProcessState)
}

// exitCode maps a process state to a shell-style exit code.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// stop sends SIGTERM to proctor, waits up to timeout for it to exit, and
// checks the end (see checkEnd); it returns how long the shutdown took.
func (s *stack) stop(t *testing.T, timeout time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	s.signal(syscall.SIGTERM)
	code := s.wait(timeout)
	took := time.Since(began)
	s.checkEnd(t, code, 0)
	return took
}

// checkEnd fails the test unless proctor exited with want, left nothing
// running, and reported no data race.
func (s *stack) checkEnd(t *testing.T, code, want int) {
	t.Helper()
	if code != want {
		t.Errorf("proctor exited with %d, want %d; stderr:\n%s", code, want, s.stderr())
	}
	if left := tokenProcs(s.token); len(left) > 0 {
		t.Errorf("alive after proctor exited: %s", describe(left))
	}
	s.noRace(t)
}

// noRace fails the test if proctor reported a data race.
func (s *stack) noRace(t *testing.T) {
	t.Helper()
	if strings.Contains(s.stderr(), "DATA RACE") {
		t.Errorf("proctor reported a data race:\n%s", s.stderr())
	}
}

// --- /proc ---

// statusKiB returns a "kB" field of /proc/PID/status (VmHWM, VmRSS).
func statusKiB(pid int, field string) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100
// on every Linux configuration Go supports).
const clockTick = 10 * time.Millisecond

// procFields returns the fields of /proc/PID/stat after "(comm)", from
// the state (field 3) on.
func procFields(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// cpuTime returns the user and system CPU time pid has used.
func cpuTime(pid int) time.Duration {
	f := procFields(pid)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

// procStat returns the state letter, parent and process group of pid.
func procStat(pid int) (state byte, ppid, pgid int, ok bool) {
	f := procFields(pid)
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgid, err2 := strconv.Atoi(f[2])
	return f[0][0], ppid, pgid, err1 == nil && err2 == nil
}

// pids lists the processes in /proc.
func pids() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// childrenOf returns the live (not zombie) children of pid.
func childrenOf(pid int) []int {
	var out []int
	for _, p := range pids() {
		if state, ppid, _, ok := procStat(p); ok && ppid == pid && state != 'Z' && state != 'X' {
			out = append(out, p)
		}
	}
	return out
}

// envOf returns the value of key in the environment of pid; ok is false
// when pid is gone, a zombie, or not ours.
func envOf(pid int, key string) (string, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil || len(data) == 0 {
		return "", false
	}
	for kv := range bytes.SplitSeq(data, []byte{0}) {
		if k, v, found := bytes.Cut(kv, []byte("=")); found && string(k) == key {
			return string(v), true
		}
	}
	return "", false
}

// tokenProcs returns the live processes carrying token.
func tokenProcs(token string) []int { return stressToken(token).Procs() }

// stressToken is the mark of a test's processes.
func stressToken(token string) proctest.Token { return proctest.Token{Var: tokenVar, Value: token} }

// programs returns the live processes carrying token that run prog
// (argv[0]'s base name).
func programs(token, prog string) []int {
	var out []int
	for _, pid := range tokenProcs(token) {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		if state, _, _, _ := procStat(pid); filepath.Base(string(argv0)) == prog && state != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// describe lists pids with their command lines.
func describe(pids []int) string { return proctest.Describe(pids) }

// waitNoProcesses waits until nothing carries token, and fails naming the
// survivors after timeout. It returns how long that took.
func waitNoProcesses(t *testing.T, token string, timeout time.Duration) time.Duration {
	t.Helper()
	return stressToken(token).WaitGone(t, timeout)
}

// killToken sends SIGKILL to everything carrying token until nothing does.
func killToken(t *testing.T, token string) {
	t.Helper()
	stressToken(token).Kill(t)
}

// waitUntil checks cond every 10 ms until it holds, and fails the test
// after timeout. It is for what only /proc tells (a process's state),
// where no event can be waited on.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		<-tick.C
	}
}

// mib formats KiB as MiB with two decimals.
func mib(kib int) string { return fmt.Sprintf("%.2f MiB", float64(kib)/1024) }

// memLimit asserts that proctor's peak RSS stays under limitMiB; under
// -race it only logs, since the detector's shadow memory is not proctor's.
func memLimit(t *testing.T, what string, hwmKiB, limitMiB int) {
	t.Helper()
	if raceEnabled {
		t.Logf("%s: peak RSS %s (race detector on: limit %d MiB not checked)", what, mib(hwmKiB), limitMiB)
		return
	}
	if hwmKiB == 0 || hwmKiB > limitMiB<<10 {
		t.Errorf("%s: peak RSS %s, limit %d MiB", what, mib(hwmKiB), limitMiB)
	}
}
