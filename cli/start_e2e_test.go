package cli

// End-to-end tests of `proctor start` on the built binary: one test per
// lifecycle rule of SPEC sections 4 (formation and ports), 5 (start), 6
// (output, text and JSON) and 7 (no process outlives proctor). Children are
// shell one-liners and, for what a shell cannot do, testdata/e2ehelper.
// Every test waits on events (a line, a process exit) with a deadline; the
// harness kills whatever a test leaves behind.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/proctor-run/proctor/internal/proctest"
	"github.com/proctor-run/proctor/runner"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// e2eHelper builds testdata/e2ehelper once, next to the proctor binary
// (TestMain removes that directory).
var e2eHelper = sync.OnceValues(func() (string, error) {
	path := filepath.Join(filepath.Dir(proctorBin), "e2ehelper")
	out, err := exec.Command("go", "build", "-o", path, "../testdata/e2ehelper").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ../testdata/e2ehelper: %v\n%s", err, out)
	}
	return path, nil
})

func helperBin(t *testing.T) string {
	t.Helper()
	path, err := e2eHelper()
	require.NoError(t, err)
	return path
}

// textHead matches the head of a timestamped text line: "15:04:05 web.1  | ".
var textHead = regexp.MustCompile(`^\d\d:\d\d:\d\d (\S+) +\| `)

// parseTextLine splits a timestamped text line into the name and the
// child's line.
func parseTextLine(line string) (name, text string, ok bool) {
	m := textHead.FindStringSubmatchIndex(line)
	if m == nil {
		return "", "", false
	}
	return line[m[2]:m[3]], line[m[1]:], true
}

// linesOf returns, in order, the lines written under name in timestamped
// text output (out is one string or already split into lines).
func linesOf(out []string, name string) []string {
	var got []string
	for _, l := range out {
		if n, text, ok := parseTextLine(l); ok && n == name {
			got = append(got, text)
		}
	}
	return got
}

func split(out string) []string {
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// isLine matches the text line of name whose text is exactly text.
func isLine(name, text string) func(string) bool {
	return func(l string) bool {
		n, got, ok := parseTextLine(l)
		return ok && n == name && got == text
	}
}

// record is one line of --log-format json.
type record struct {
	Time                  time.Time
	Process, Stream, Line string
}

// decodeRecord decodes a JSON line strictly: an object of exactly the
// string keys time, process, stream and line; an RFC 3339 time; a known
// stream.
func decodeRecord(line string) (record, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return record{}, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"line", "process", "stream", "time"}) {
		return record{}, fmt.Errorf("keys %v, want line, process, stream, time", keys)
	}
	s := map[string]string{}
	for k, v := range m {
		str, ok := v.(string)
		if !ok {
			return record{}, fmt.Errorf("%s is %T, not a string", k, v)
		}
		s[k] = str
	}
	tm, err := time.Parse(time.RFC3339Nano, s["time"])
	if err != nil {
		return record{}, err
	}
	if !slices.Contains([]string{"stdout", "stderr", "system"}, s["stream"]) {
		return record{}, fmt.Errorf("stream %q", s["stream"])
	}
	return record{Time: tm, Process: s["process"], Stream: s["stream"], Line: s["line"]}, nil
}

func decodeRecords(t *testing.T, lines []string) []record {
	t.Helper()
	recs := make([]record, 0, len(lines))
	for _, l := range lines {
		r, err := decodeRecord(l)
		require.NoError(t, err, "JSON line %q", l)
		recs = append(recs, r)
	}
	return recs
}

// isRecord matches the JSON line of process whose line is text.
func isRecord(process, text string) func(string) bool {
	return func(l string) bool {
		r, err := decodeRecord(l)
		return err == nil && r.Process == process && r.Line == text
	}
}

// timeOf returns the time of the first record of process with line text.
func timeOf(t *testing.T, recs []record, process, text string) time.Time {
	t.Helper()
	for _, r := range recs {
		if r.Process == process && r.Line == text {
			return r.Time
		}
	}
	t.Fatalf("no JSON line %q from %s in %+v", text, process, recs)
	return time.Time{}
}

// startedPid returns the pid in "started with pid N" of name.
func startedPid(t *testing.T, out []string, name string) int {
	t.Helper()
	for _, l := range linesOf(out, name) {
		if s, ok := strings.CutPrefix(l, "started with pid "); ok {
			pid, err := strconv.Atoi(s)
			require.NoError(t, err)
			return pid
		}
	}
	t.Fatalf("no %q line for %s in:\n%s", "started with pid", name, strings.Join(out, "\n"))
	return 0
}

// tokenProcs returns the live processes of token running the program
// named prog (argv[0]'s base name).
func tokenProcs(token, prog string) []int {
	var pids []int
	for _, pid := range processesWithToken(token) {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			continue
		}
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		if filepath.Base(string(argv0)) == prog {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitProcs waits until at least n processes of token run prog.
func waitProcs(t *testing.T, token, prog string, n int) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool { return len(tokenProcs(token, prog)) >= n },
		"%d %s processes running", n, prog)
}

// assertNoProcesses checks, at once, that nothing carrying token is alive.
func assertNoProcesses(t *testing.T, token string) {
	t.Helper()
	if left := processesWithToken(token); len(left) > 0 {
		t.Errorf("alive after proctor exited: %s", proctest.Describe(left))
	}
}

// procStat returns the state letter and the parent of pid.
func procStat(pid int) (state byte, ppid int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err == nil
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// childrenOf returns the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(p); ok && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// portArgs gives proctor a base port that was free a moment ago, so that
// no "port in use" warning joins the lines a test compares.
func portArgs(t *testing.T) []string {
	t.Helper()
	return []string{"-p", strconv.Itoa(freePort(t)), "--port-step", "1"}
}

func pad(name string, width int) string {
	return name + strings.Repeat(" ", width-len(name))
}

// --- Output (SPEC 6) ---

// TestStartTextFormat: "HH:MM:SS name | line", the name column as wide as
// the longest instance name and at least 6 ("system" fits), stdout and
// stderr both captured, --no-timestamp and --no-prefix.
func TestStartTextFormat(t *testing.T) {
	t.Parallel()
	short := "web: echo out; echo err >&2\n"
	long := "web: echo out\nbackground_worker: exec sleep 1000\n"
	tests := []struct {
		name     string
		procfile string
		args     []string
		want     []string // in any order; HH:MM:SS and N stand for a time and a pid
	}{
		{
			name:     "timestamps, width 6",
			procfile: short,
			want: []string{
				"HH:MM:SS web.1  | started with pid N",
				"HH:MM:SS web.1  | out",
				"HH:MM:SS web.1  | err",
				"HH:MM:SS system | web.1 exited with code 0",
				"HH:MM:SS system | sending SIGTERM to all processes",
			},
		},
		{
			name:     "the longest name sets the width",
			procfile: long,
			want: []string{
				"HH:MM:SS " + pad("web.1", 19) + " | started with pid N",
				"HH:MM:SS background_worker.1 | started with pid N",
				"HH:MM:SS " + pad("web.1", 19) + " | out",
				"HH:MM:SS " + pad("system", 19) + " | web.1 exited with code 0",
				"HH:MM:SS " + pad("system", 19) + " | sending SIGTERM to all processes",
				"HH:MM:SS " + pad("system", 19) + " | background_worker.1 terminated by SIGTERM",
			},
		},
		{
			name:     "--no-timestamp",
			procfile: short,
			args:     []string{"--no-timestamp"},
			want: []string{
				"web.1  | started with pid N",
				"web.1  | out",
				"web.1  | err",
				"system | web.1 exited with code 0",
				"system | sending SIGTERM to all processes",
			},
		},
		{
			name:     "--no-prefix",
			procfile: short,
			args:     []string{"--no-prefix"},
			want: []string{
				"started with pid N",
				"out",
				"err",
				"web.1 exited with code 0",
				"sending SIGTERM to all processes",
			},
		},
	}
	timeRE := regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d:[0-5]\d `)
	pidRE := regexp.MustCompile(`started with pid [1-9]\d*$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": tt.procfile})
			args := append(append([]string{"start"}, portArgs(t)...), tt.args...)
			stdout, stderr, code := runProctor(t, dir, args...)
			require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Empty(t, stderr)
			require.True(t, strings.HasSuffix(stdout, "\n"), "output ends with a line end")
			var got []string
			for _, l := range split(stdout) {
				l = timeRE.ReplaceAllString(l, "HH:MM:SS ")
				l = pidRE.ReplaceAllString(l, "started with pid N")
				got = append(got, l)
			}
			assert.ElementsMatch(t, tt.want, got, "proctor start %q\n%s", tt.args, stdout)
		})
	}
}

// TestStartJSONFormat: one JSON object per line with exactly time
// (RFC 3339 with nanoseconds), process, stream (stdout, stderr, system) and
// line; quotes, backslashes, tabs and invalid UTF-8 survive encoding.
func TestStartJSONFormat(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile": `web: echo out; echo err >&2; printf '"quoted" \\ tab\there \377\n'` + "\n",
	})
	before := time.Now()
	stdout, stderr, code := runProctor(t, dir, "start", "--log-format", "json")
	after := time.Now()
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	recs := decodeRecords(t, split(stdout))
	type key struct{ Process, Stream, Line string }
	var got []key
	for _, r := range recs {
		assert.False(t, r.Time.Before(before.Add(-time.Second)) || r.Time.After(after.Add(time.Second)),
			"time %v outside the run (%v to %v)", r.Time, before, after)
		got = append(got, key{r.Process, r.Stream, regexp.MustCompile(`pid \d+$`).ReplaceAllString(r.Line, "pid N")})
	}
	assert.ElementsMatch(t, []key{
		{"web.1", "system", "started with pid N"},
		{"web.1", "stdout", "out"},
		{"web.1", "stderr", "err"},
		{"web.1", "stdout", "\"quoted\" \\ tab\there \ufffd"},
		{"system", "system", "web.1 exited with code 0"},
		{"system", "system", "sending SIGTERM to all processes"},
	}, got, stdout)
}

// sgr is the ANSI color of each color index: foreman's six, then the
// bright variants; index 12 starts over.
var sgr = []string{"36", "33", "32", "35", "31", "34", "96", "93", "92", "95", "91", "94", "36"}

// colorProcfile has 13 types a..m, each printing its name once.
func colorProcfile() (procfile string, types []string) {
	var b strings.Builder
	for i := range 13 {
		name := string(rune('a' + i))
		types = append(types, name)
		fmt.Fprintf(&b, "%s: echo %s line\n", name, name)
	}
	return b.String(), types
}

// checkColors checks the child lines of the types in out: colored in
// Procfile order when colored, else without any escape sequence; system
// lines are never colored.
func checkColors(t *testing.T, out string, types []string, colored bool) {
	t.Helper()
	lines := split(out)
	for i, name := range types {
		inst := name + ".1"
		want := pad(inst, 6) + " | " + name + " line"
		if colored {
			want = "\x1b[" + sgr[i] + "m" + pad(inst, 6) + " |\x1b[0m " + name + " line"
		}
		found := slices.ContainsFunc(lines, func(l string) bool { return len(l) > 9 && l[9:] == want })
		assert.True(t, found, "no line %q in:\n%s", want, out)
	}
	for _, l := range lines {
		if strings.Contains(l, "system |") {
			assert.Regexp(t, `^\d\d:\d\d:\d\d system \| [^\x1b]*$`, l, "system lines are plain")
		}
		if !colored {
			assert.NotContains(t, l, "\x1b", "no color")
		}
	}
}

// TestStartColors: -c colors each type's name in Procfile order (cyan,
// yellow, green, magenta, red, blue, then the bright ones), even with
// NO_COLOR; without -c there is no color when stdout is not a terminal;
// --no-color wins over -c.
func TestStartColors(t *testing.T) {
	t.Parallel()
	procfile, types := colorProcfile()
	canDie := "--can-die=" + strings.Join(types, ",")
	tests := []struct {
		name    string
		env     []string
		args    []string
		colored bool
	}{
		{name: "-c", args: []string{"-c"}, colored: true},
		{name: "--color with NO_COLOR", env: []string{"NO_COLOR=1"}, args: []string{"--color"}, colored: true},
		{name: "not a terminal", colored: false},
		{name: "--no-color wins over -c", args: []string{"-c", "--no-color"}, colored: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": procfile})
			stdout, stderr, code := runProctorWith(t, runOptions{dir: dir, env: tt.env},
				append([]string{"start", canDie}, tt.args...)...)
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			checkColors(t, stdout, types, tt.colored)
		})
	}
}

// runOnTerminal runs proctor with its stdout on a new pseudo-terminal of
// rows x cols (stdin /dev/null, stderr a pipe) and returns what it wrote
// there, with the terminal's "\r\n" line ends turned back into "\n".
func runOnTerminal(t *testing.T, opts runOptions, rows, cols uint16, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opts.deadline())
	defer cancel()
	master, slave, err := pty.Open()
	require.NoError(t, err)
	defer master.Close()
	require.NoError(t, pty.Setsize(master, &pty.Winsize{Rows: rows, Cols: cols}))
	cmd := opts.command(t, ctx, args)
	var errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = slave, &errBuf
	t.Cleanup(func() {
		_ = killGroup(cmd)
		killTokenProcesses(t, opts.token)
	})
	err = cmd.Start()
	slave.Close()
	require.NoError(t, err)
	read := make(chan []byte, 1)
	go func() {
		// EIO once proctor and everything it started closed the terminal.
		out, _ := io.ReadAll(master)
		read <- out
	}()
	var out []byte
	select {
	case out = <-read:
	case <-ctx.Done():
		t.Fatalf("proctor %q: its terminal still open after %v", args, opts.deadline())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("proctor %q: %v", args, err)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n"), errBuf.String(), exitCode(cmd.ProcessState)
}

// TestStartColorsOnATerminal: colors are on by themselves when stdout is a
// terminal, and NO_COLOR turns them off there.
func TestStartColorsOnATerminal(t *testing.T) {
	t.Parallel()
	procfile, types := colorProcfile()
	canDie := "--can-die=" + strings.Join(types, ",")
	tests := []struct {
		name    string
		env     []string
		colored bool
	}{
		{name: "terminal", colored: true},
		{name: "terminal with NO_COLOR", env: []string{"NO_COLOR=yes"}, colored: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": procfile})
			stdout, stderr, code := runOnTerminal(t, runOptions{dir: dir, env: tt.env}, 24, 80, "start", canDie)
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			checkColors(t, stdout, types, tt.colored)
		})
	}
}

// TestStartLinesPassThrough: whatever bytes a line holds come out whole
// after one prefix: ANSI sequences and invalid UTF-8 untouched, "\r\n" one
// line end, a last line without newline written with one, a 1 MiB line
// whole, longer lines in 1 MiB pieces, each prefixed.
func TestStartLinesPassThrough(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	run := func(c byte, n int) string { return fmt.Sprintf(`head -c %d /dev/zero | tr '\0' %c`, n, c) }
	tests := []struct {
		name    string
		command string
		want    []string
	}{
		{
			name:    "ANSI sequences",
			command: `printf '\033[1;31mred\033[0m plain \033[2K\n'`,
			want:    []string{"\x1b[1;31mred\x1b[0m plain \x1b[2K"},
		},
		{
			name:    "invalid UTF-8",
			command: `printf 'bad \377\376 bytes \303\n'`,
			want:    []string{"bad \xff\xfe bytes \xc3"},
		},
		{
			name:    "CRLF",
			command: `printf 'one\r\ntwo\r\n\r\ncarriage\rreturn\r\n'`,
			want:    []string{"one", "two", "", "carriage\rreturn"},
		},
		{
			name:    "last line without newline",
			command: `printf 'first\nlast'`,
			want:    []string{"first", "last"},
		},
		{
			name:    "1 MiB line",
			command: run('x', mib) + "; echo",
			want:    []string{strings.Repeat("x", mib)},
		},
		{
			name:    "3 MiB line",
			command: run('a', mib) + "; " + run('b', mib) + "; " + run('c', mib) + "; echo",
			want:    []string{strings.Repeat("a", mib), strings.Repeat("b", mib), strings.Repeat("c", mib)},
		},
		{
			name:    "1.5 MiB without newline",
			command: run('a', mib) + "; " + run('b', mib/2),
			want:    []string{strings.Repeat("a", mib), strings.Repeat("b", mib/2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: " + tt.command + "\n"})
			stdout, stderr, code := runProctor(t, dir, "start")
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			require.True(t, strings.HasSuffix(stdout, "\n"))
			lines := split(stdout)
			for _, l := range lines {
				_, _, ok := parseTextLine(l)
				assert.True(t, ok, "every line is prefixed: %.200q", l)
			}
			got := slices.DeleteFunc(linesOf(lines, "web.1"), func(l string) bool { return strings.HasPrefix(l, "started with pid ") })
			if !assert.Equal(t, len(tt.want), len(got), "number of lines") {
				return
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d: %d bytes %.80q, want %d bytes %.80q", i, len(got[i]), got[i], len(tt.want[i]), tt.want[i])
				}
			}
		})
	}
}

// TestStartNoLineLostAtExit: a child that prints 100000 numbered lines
// and exits: its exit starts shutdown, and every line is still written,
// whole and in order.
func TestStartNoLineLostAtExit(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: seq 1 100000\nidle: exec sleep 1000\n"})
	stdout, stderr, code := runProctor(t, dir, "start", "--no-timestamp")
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	var got []string
	for _, l := range split(stdout) {
		if s, ok := strings.CutPrefix(l, "web.1  | "); ok && !strings.HasPrefix(s, "started with pid ") {
			got = append(got, s)
		}
	}
	require.Len(t, got, 100000)
	for i, s := range got {
		if s != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q, want %d", i, s, i+1)
		}
	}
	assert.Contains(t, stdout, "system | web.1 exited with code 0\n")
}

// TestStartLinesNeverInterleave: three children writing long lines to
// stdout and stderr at once: every line comes out whole, after its own
// prefix.
func TestStartLinesNeverInterleave(t *testing.T) {
	t.Parallel()
	const n, size = 200, 5000
	var procfile strings.Builder
	for _, c := range "abc" {
		fmt.Fprintf(&procfile, "%c: l=$(head -c %d /dev/zero | tr '\\0' %c); yes \"o$l\" | head -n %d & yes \"e$l\" | head -n %d >&2; wait\n",
			c, size, c, n, n)
	}
	dir := newAppDir(t, map[string]string{"Procfile": procfile.String()})
	stdout, stderr, code := runProctor(t, dir, "start", "--no-timestamp", "--can-die", "a,b,c")
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	counts := map[string]int{}
	for _, l := range split(stdout) {
		name, text, ok := strings.Cut(l, " | ")
		require.True(t, ok, "line without a prefix: %.100q", l)
		name = strings.TrimRight(name, " ")
		if name == "system" || strings.HasPrefix(text, "started with pid ") {
			continue
		}
		require.Len(t, name, 3, "name of %.100q", l)
		body := strings.Repeat(name[:1], size)
		if text != "o"+body && text != "e"+body {
			t.Fatalf("%s: damaged line of %d bytes: %.100q", name, len(text), text)
		}
		counts[name+" "+text[:1]]++
	}
	assert.Equal(t, map[string]int{"a.1 o": n, "a.1 e": n, "b.1 o": n, "b.1 e": n, "c.1 o": n, "c.1 e": n}, counts)
}

// --- Lifecycle (SPEC 4, 5) ---

// TestStartStartedWithPid: a "started with pid N" line for each instance,
// N being the pid of the instance's shell.
func TestStartStartedWithPid(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: echo \"my pid is $$\"\nworker: echo \"my pid is $$\"\n"})
	stdout, stderr, code := runProctor(t, dir, "start", "-m", "web=2,worker=1", "--can-die", "web,worker")
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	lines := split(stdout)
	seen := map[int]bool{}
	for _, name := range []string{"web.1", "web.2", "worker.1"} {
		pid := startedPid(t, lines, name)
		assert.Contains(t, linesOf(lines, name), "my pid is "+strconv.Itoa(pid), name)
		assert.False(t, seen[pid], "pid %d reported twice", pid)
		seen[pid] = true
	}
}

// TestStartPortsAndPS: PORT = base + step*typeIndex + (N-1), base from -p,
// else $PORT (environment or .env), else 5000; PS is the instance name; -m
// and TYPE arguments choose the instances.
func TestStartPortsAndPS(t *testing.T) {
	t.Parallel()
	procfile := "web: echo \"$PS $PORT\"\nworker: echo \"$PS $PORT\"\nclock: echo \"$PS $PORT\"\n"
	tests := []struct {
		name  string
		env   []string
		files map[string]string
		args  []string
		want  []string
	}{
		{name: "defaults", want: []string{"web.1 5000", "worker.1 5100", "clock.1 5200"}},
		{name: "-p", args: []string{"-p", "6000"}, want: []string{"web.1 6000", "worker.1 6100", "clock.1 6200"}},
		{name: "--port-step", args: []string{"-p", "6000", "--port-step", "10"}, want: []string{"web.1 6000", "worker.1 6010", "clock.1 6020"}},
		{
			name: "-m names only the types it runs",
			args: []string{"-m", "web=2,clock=1", "-p", "6000"},
			want: []string{"web.1 6000", "web.2 6001", "clock.1 6200"},
		},
		{
			name: "-m all",
			args: []string{"--formation", "all=2,clock=0"},
			want: []string{"web.1 5000", "web.2 5001", "worker.1 5100", "worker.2 5101"},
		},
		{name: "PORT from the environment", env: []string{"PORT=7000"}, want: []string{"web.1 7000", "worker.1 7100", "clock.1 7200"}},
		{
			name:  "PORT from .env wins over the environment",
			env:   []string{"PORT=7000"},
			files: map[string]string{".env": "PORT=7500\n"},
			want:  []string{"web.1 7500", "worker.1 7600", "clock.1 7700"},
		},
		{
			name:  "--no-env-override keeps the environment's PORT",
			env:   []string{"PORT=7000"},
			files: map[string]string{".env": "PORT=7500\n"},
			args:  []string{"--no-env-override"},
			want:  []string{"web.1 7000", "worker.1 7100", "clock.1 7200"},
		},
		{
			name:  "-p wins over PORT",
			env:   []string{"PORT=7000"},
			files: map[string]string{".env": "PORT=7500\n"},
			args:  []string{"-p", "8000"},
			want:  []string{"web.1 8000", "worker.1 8100", "clock.1 8200"},
		},
		{
			name: "TYPE arguments keep their Procfile position",
			args: []string{"worker", "clock", "-p", "6000"},
			want: []string{"worker.1 6100", "clock.1 6200"},
		},
		{
			name: "TYPE argument and a count",
			args: []string{"clock", "-m", "clock=3", "-p", "6000"},
			want: []string{"clock.1 6200", "clock.2 6201", "clock.3 6202"},
		},
		{
			// How node-foreman and heroku local users type a formation
			// (issue 12, item 9).
			name: "TYPE=N arguments are the formation",
			args: []string{"web=1", "clock=2", "-p", "6000"},
			want: []string{"web.1 6000", "clock.1 6200", "clock.2 6201"},
		},
		{
			name: "one TYPE=N,TYPE=N argument",
			args: []string{"worker=2,clock=1", "-p", "6000"},
			want: []string{"worker.1 6100", "worker.2 6101", "clock.1 6200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": procfile})
			writeFiles(t, dir, tt.files)
			args := append([]string{"start", "--can-die", "web,worker,clock"}, tt.args...)
			stdout, stderr, code := runProctorWith(t, runOptions{dir: dir, env: tt.env}, args...)
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			var got []string
			for _, l := range split(stdout) {
				name, text, ok := parseTextLine(l)
				if ok && name != "system" && !strings.HasPrefix(text, "started with pid ") {
					assert.True(t, strings.HasPrefix(text, name+" "), "PS of %s is %q", name, text)
					got = append(got, text)
				}
			}
			assert.ElementsMatch(t, tt.want, got, "proctor %q", args)
		})
	}
}

// TestStartUsageErrors: an unknown type, formation or flag value stops
// start before anything runs, with a message and exit code 2.
func TestStartUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"wrker"}, `unknown process type "wrker" (the Procfile has web, worker)`},
		{[]string{"-m", "web=1,wrker=2"}, `formation: unknown process type "wrker" (the Procfile has web, worker)`},
		{[]string{"-m", "web=-1"}, `formation: count for "web" must be a whole number from 0 to 10000, not "-1"`},
		{[]string{"--can-die", "wrker"}, `unknown process type "wrker" (the Procfile has web, worker)`},
		{[]string{"--restart", "web,wrker"}, `unknown process type "wrker" (the Procfile has web, worker)`},
		{[]string{"--log-format", "xml"}, `--log-format must be text or json, not "xml"`},
		{[]string{"-m", "web=0"}, `the formation starts no processes (every count is 0)`},
		{[]string{"web=1", "wrker=2"}, `formation: unknown process type "wrker" (the Procfile has web, worker)`},
		{[]string{"web", "worker=2"}, `arguments mix TYPE (web) and TYPE=N (worker=2): write every one as TYPE=N, e.g. web=1 worker=2`},
		{[]string{"-m", "web=1", "worker=2"}, `the formation is given twice, with -m and as TYPE=N arguments: use one`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: touch web-ran\nworker: touch worker-ran\n"})
			stdout, stderr, code := runProctor(t, dir, append([]string{"start"}, tt.args...)...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.want)
			assert.True(t, strings.HasPrefix(stderr, "proctor: ") && strings.HasSuffix(stderr, helpHintFor("start")), "stderr %q", stderr)
			assert.NoFileExists(t, filepath.Join(dir, "web-ran"))
			assert.NoFileExists(t, filepath.Join(dir, "worker-ran"))
		})
	}
}

// TestStartBusyPortWarning: a port already taken gets a warning naming the
// instance and the port, and start goes on.
func TestStartBusyPortWarning(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := newAppDir(t, map[string]string{"Procfile": "web: echo web ran\n"})
	stdout, stderr, code := runProctor(t, dir, "start", "-p", strconv.Itoa(port))
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	lines := split(stdout)
	assert.Contains(t, linesOf(lines, "system"),
		fmt.Sprintf("web.1: port %d is already in use; choose another base port with -p", port))
	assert.Contains(t, linesOf(lines, "web.1"), "web ran")
}

// TestStartStdinStaysOpen: an instance without a terminal reads a pipe of
// its own that nobody writes, so a watcher that exits at the end of its
// input (tailwindcss --watch, esbuild) keeps running until it is stopped;
// /dev/null would end it at once (issue 12, item 11).
func TestStartStdinStaysOpen(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "css: exec " + helperBin(t) + " stdin\n"})
	p := startProctor(t, dir, "start")
	line := p.WaitLine(0, func(l string) bool {
		return strings.Contains(l, "stdin open") || strings.Contains(l, "stdin at end of file")
	})
	assert.Contains(t, line, "stdin open")
	p.Signal(syscall.SIGINT)
	require.Equal(t, 0, p.Wait(0))
	assert.NotContains(t, linesOf(p.Output(), "css.1"), "stdin closed", "the watcher ran until it was stopped")
}

// TestStartReadinessNeedsTheInstancesOwnSocket: a port another program
// already holds does not make the instance ready: the listening socket
// must belong to the instance's own processes (issue 12, item 8). ok.1
// starts after web.1 and is probed in the same rounds, and each round
// reports in start order, so once ok.1 is reported a false web.1 report
// would already be in the output.
func TestStartReadinessNeedsTheInstancesOwnSocket(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	dir := newAppDir(t, map[string]string{"Procfile": "web: exec sleep 1000\nok: exec " + helperBin(t) + " listen\n"})
	p := startProctor(t, dir, "start", "-p", strconv.Itoa(port), "--port-step", "1")
	p.WaitLine(0, func(l string) bool { return strings.Contains(l, fmt.Sprintf("ok.1 is listening on port %d", port+1)) })
	procs := ctlPs(t, runOptions{dir: dir, token: p.Token()})
	assert.False(t, ctlFind(t, procs, "web.1").Ready, "ps: web.1 is not ready")
	assert.True(t, ctlFind(t, procs, "ok.1").Ready, "ps: ok.1 is ready")
	p.Signal(syscall.SIGTERM)
	require.Equal(t, 0, p.Wait(0))
	out := p.Output()
	assert.Contains(t, linesOf(out, "system"), fmt.Sprintf("web.1: port %d is already in use; choose another base port with -p", port))
	for _, l := range out {
		assert.NotContains(t, l, "web.1 is listening")
	}
}

// TestStartReadiness: an instance that listens on its PORT is reported
// once as "web.1 is listening on port P (X.XXs after start)"; one that
// does not listen is never reported.
func TestStartReadiness(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := newAppDir(t, map[string]string{"Procfile": "web: exec " + helperBin(t) + " listen\nworker: exec sleep 1000\n"})
	p := startProctor(t, dir, "start", "-p", strconv.Itoa(port), "--port-step", "1")
	re := regexp.MustCompile(fmt.Sprintf(`^\d\d:\d\d:\d\d system +\| web\.1 is listening on port %d \((\d+\.\d\d)s after start\)$`, port))
	line := p.WaitLine(0, re.MatchString)
	after, err := strconv.ParseFloat(re.FindStringSubmatch(line)[1], 64)
	require.NoError(t, err)
	assert.Less(t, after, 30.0)
	p.Signal(syscall.SIGTERM)
	require.Equal(t, 0, p.Wait(0))
	out := p.Output()
	assert.Contains(t, linesOf(out, "web.1"), "listening on "+strconv.Itoa(port))
	assert.Len(t, slices.DeleteFunc(slices.Clone(out), func(l string) bool { return !re.MatchString(l) }), 1, "reported once")
	if !slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, "worker.1: port") }) {
		// Unless something else held worker.1's port, it never listened.
		for _, l := range out {
			assert.NotContains(t, l, "worker.1 is listening")
		}
	}
}

// TestStartRelease: through the binary, a failed release starts nothing
// and proctor exits with its code; --no-release skips it; `start release`
// runs it alone. (That it runs first, once, is a rule of the state machine:
// runner.TestMachineRelease.)
func TestStartRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		procfile string
		args     []string
		code     int
		want     []string // lines as "name | text"
		absent   string   // no line holds it
	}{
		{
			name:     "failure starts nothing",
			procfile: "web: echo web ran\nrelease: echo migrating; exit 7\n",
			code:     7,
			want:     []string{"release.1 | migrating", "system | release.1 exited with code 7", "system | release failed with code 7; not starting the other processes"},
			absent:   "web.1",
		},
		{
			name:     "--no-release",
			procfile: "web: echo web ran\nrelease: echo migrating; exit 7\n",
			args:     []string{"--no-release"},
			want:     []string{"web.1 | web ran", "system | web.1 exited with code 0"},
			absent:   "release.1",
		},
		{
			name:     "start release runs it alone",
			procfile: "web: echo web ran\nrelease: echo migrating; exit 5\n",
			args:     []string{"release"},
			code:     5,
			want:     []string{"release.1 | migrating", "system | release.1 exited with code 5"},
			absent:   "web.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": tt.procfile})
			stdout, stderr, code := runProctor(t, dir, append(append([]string{"start"}, portArgs(t)...), tt.args...)...)
			assert.Equal(t, tt.code, code, "stderr:\n%s", stderr)
			var got []string
			for _, l := range split(stdout) {
				name, text, ok := parseTextLine(l)
				require.True(t, ok, l)
				got = append(got, name+" | "+text)
			}
			assert.Subset(t, got, tt.want)
			assert.NotContains(t, stdout, tt.absent)
		})
	}
}

// TestStartExitCode: the exit of an instance stops the stack, and proctor
// exits with that instance's code, 128+N when signal N killed it, whatever
// the others exit with.
func TestStartExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		procfile string
		code     int
		report   string
		other    string
	}{
		{
			name:     "exit code",
			procfile: "web: while [ ! -f ready ]; do sleep 0.01; done; exit 3\nother: trap 'exit 5' TERM; mkfifo f; touch ready; read x <> f\n",
			code:     3,
			report:   "web.1 exited with code 3",
			other:    "other.1 exited with code 5",
		},
		{
			name:     "SIGKILL",
			procfile: "web: kill -KILL $$\nother: exec sleep 1000\n",
			code:     128 + 9,
			report:   "web.1 terminated by SIGKILL",
			other:    "other.1 terminated by SIGTERM",
		},
		{
			name:     "SIGTERM",
			procfile: "web: kill -TERM $$\nother: exec sleep 1000\n",
			code:     128 + 15,
			report:   "web.1 terminated by SIGTERM",
			other:    "other.1 terminated by SIGTERM",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": tt.procfile})
			stdout, stderr, code := runProctor(t, dir, append([]string{"start"}, portArgs(t)...)...)
			assert.Equal(t, tt.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Equal(t, []string{tt.report, "sending SIGTERM to all processes", tt.other}, linesOf(split(stdout), "system"))
		})
	}
}

// termTrap is a Procfile command that says "ready" once its TERM trap is
// set, and exits 3 on SIGTERM. It waits in a read of a FIFO rather than
// for a background sleep: a child forked by a shell that traps SIGTERM
// keeps the shell's handler until it resets its traps, and a SIGTERM that
// lands in that moment is lost (the sleep would live on until SIGKILL).
const termTrap = `trap 'echo got TERM; exit 3' TERM; mkfifo "$PS.fifo"; echo ready; read x <> "$PS.fifo"`

// TestStartStopSignals: SIGINT, SIGTERM and SIGHUP to proctor send SIGTERM
// to every instance, and proctor exits 0 whatever they exit with.
func TestStartStopSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: " + termTrap + "\nworker: " + termTrap + "\n"})
			p := startProctor(t, dir, append([]string{"start", "-m", "web=2,worker=1"}, portArgs(t)...)...)
			for _, name := range []string{"web.1", "web.2", "worker.1"} {
				// Lines of one instance keep their order, so this waits for each.
				waitFor(t, 20*time.Second, func() bool { return slices.Contains(linesOf(p.Output(), name), "ready") }, "%s ready", name)
			}
			p.Signal(sig)
			assert.Equal(t, 0, p.Wait(0))
			out := p.Output()
			assert.Contains(t, linesOf(out, "system"), "sending SIGTERM to all processes")
			assert.NotContains(t, linesOf(out, "system"), "sending SIGKILL to all processes")
			for _, name := range []string{"web.1", "web.2", "worker.1"} {
				assert.Contains(t, linesOf(out, name), "got TERM")
				assert.Contains(t, linesOf(out, "system"), name+" exited with code 3")
			}
			assertNoProcesses(t, p.Token())
		})
	}
}

// stubborn ignores SIGTERM (which sleep inherits) and says so.
const stubborn = `trap '' TERM; echo ready; exec sleep 1000`

// TestStartKillAfterTimeout: an instance that ignores SIGTERM gets SIGKILL
// once -t has passed; proctor exits with the code the shutdown was started
// with.
func TestStartKillAfterTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		procfile string
		signal   bool
		code     int
	}{
		{name: "signal", procfile: "stubborn: " + stubborn + "\nweb: exec sleep 1000\n", signal: true, code: 0},
		{
			name:     "exit",
			procfile: "stubborn: trap '' TERM; touch ready; exec sleep 1000\nweb: while [ ! -f ready ]; do sleep 0.01; done; exit 4\n",
			code:     4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": tt.procfile})
			p := startProctor(t, dir, "start", "-t", "1", "--log-format", "json")
			if tt.signal {
				p.WaitLine(0, isRecord("stubborn.1", "ready"))
				p.Signal(syscall.SIGINT)
			}
			assert.Equal(t, tt.code, p.Wait(0))
			recs := decodeRecords(t, p.Output())
			term := timeOf(t, recs, "system", "sending SIGTERM to all processes")
			kill := timeOf(t, recs, "system", "sending SIGKILL to all processes")
			killed := timeOf(t, recs, "system", "stubborn.1 terminated by SIGKILL")
			assert.GreaterOrEqual(t, kill.Sub(term), 950*time.Millisecond, "SIGKILL only after -t")
			assert.False(t, killed.Before(kill))
			if tt.signal {
				assert.True(t, timeOf(t, recs, "system", "web.1 terminated by SIGTERM").Before(kill))
			}
			assertNoProcesses(t, p.Token())
		})
	}
}

// TestStartSecondInterruptKillsAtOnce: a second SIGINT during shutdown
// sends SIGKILL without waiting for -t.
func TestStartSecondInterruptKillsAtOnce(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "stubborn: trap '' TERM INT; echo ready; exec sleep 1000\n"})
	p := startProctor(t, dir, "start", "-t", "600")
	p.WaitLine(0, isLine("stubborn.1", "ready"))
	p.Signal(syscall.SIGINT)
	p.WaitLine(0, isLine("system", "sending SIGTERM to all processes"))
	p.Signal(syscall.SIGINT)
	p.WaitLine(0, isLine("system", "sending SIGKILL to all processes"))
	assert.Equal(t, 0, p.Wait(0))
	assert.Contains(t, linesOf(p.Output(), "system"), "stubborn.1 terminated by SIGKILL")
	assertNoProcesses(t, p.Token())
}

// userSignals traps SIGUSR1 and SIGUSR2 in the instance's shell and in a
// background subshell of the same process group; both wait in FIFO reads
// (see termTrap), which the signals interrupt.
// The shells wait in the wait builtin, not in read: a signal that comes
// just before a blocking read(2) leaves its trap pending until the read
// returns (never, here), where wait takes signals without that race; the
// sleep, in the same group, is ended by the signal too.
const userSignals = `trap 'echo got USR1' USR1; trap 'echo got USR2' USR2; ` +
	`(trap 'echo sub got USR1' USR1; trap 'echo sub got USR2' USR2; echo sub ready; while :; do sleep 1000 & wait $!; done) & ` +
	`echo ready; while :; do sleep 1000 & wait $!; done`

// TestStartUserSignals: SIGUSR1 and SIGUSR2 to proctor reach every process
// of every instance's group, and do not stop anything.
func TestStartUserSignals(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: " + userSignals + "\nworker: " + userSignals + "\n"})
	p := startProctor(t, dir, "start", "-m", "web=2,worker=1")
	names := []string{"web.1", "web.2", "worker.1"}
	has := func(text string) bool {
		out := p.Output()
		for _, name := range names {
			if !slices.Contains(linesOf(out, name), text) {
				return false
			}
		}
		return true
	}
	waitFor(t, 20*time.Second, func() bool { return has("ready") && has("sub ready") }, "every instance ready")
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
		p.Signal(sig)
		name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
		waitFor(t, 20*time.Second, func() bool { return has("got "+name) && has("sub got "+name) }, "every process got %v", sig)
	}
	assert.False(t, p.Exited())
	assert.NotContains(t, linesOf(p.Output(), "system"), "sending SIGTERM to all processes")
	p.Signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.Wait(0))
	assertNoProcesses(t, p.Token())
}

// TestStartCanDie: an instance of a --can-die type exits without stopping
// the others; when every instance has exited, proctor exits 0.
func TestStartCanDie(t *testing.T) {
	t.Parallel()
	t.Run("the others keep running", func(t *testing.T) {
		t.Parallel()
		dir := newAppDir(t, map[string]string{"Procfile": "web: exec sleep 1000\noneshot: echo done; exit 3\n"})
		p := startProctor(t, dir, append([]string{"start", "--can-die", "oneshot"}, portArgs(t)...)...)
		p.WaitLine(0, isLine("system", "oneshot.1 exited with code 3"))
		web := startedPid(t, p.Output(), "web.1")
		assert.True(t, alive(web), "web.1 still runs")
		p.Signal(syscall.SIGTERM)
		assert.Equal(t, 0, p.Wait(0), "the exit of oneshot.1 did not set the exit code")
		assert.Equal(t, []string{"oneshot.1 exited with code 3", "sending SIGTERM to all processes", "web.1 terminated by SIGTERM"},
			linesOf(p.Output(), "system"))
	})
	t.Run("all exited", func(t *testing.T) {
		t.Parallel()
		dir := newAppDir(t, map[string]string{"Procfile": "a: exit 0\nb: exit 1\n"})
		stdout, stderr, code := runProctor(t, dir, append([]string{"start", "--can-die", "all"}, portArgs(t)...)...)
		assert.Equal(t, 0, code, "stderr:\n%s", stderr)
		sys := linesOf(split(stdout), "system")
		assert.ElementsMatch(t, []string{"a.1 exited with code 0", "b.1 exited with code 1", "every process has exited", "sending SIGTERM to all processes"}, sys, stdout)
	})
}

// TestStartRestart: through the binary, an instance of a --restart type
// (or of any type with --restart all) is started again by a real timer
// after its exit, and the stack stops cleanly. The backoff's doubling, its
// cap and its reset are rules of the state machine
// (runner.TestMachineLifecycle, "--restart: ...").
func TestStartRestart(t *testing.T) {
	t.Parallel()
	for _, restart := range []string{"flaky", "all"} {
		t.Run(restart, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: exec sleep 1000\nflaky: echo run; exit 1\n"})
			p := startProctor(t, dir, append([]string{"start", "--restart", restart}, portArgs(t)...)...)
			p.WaitLine(0, isLine("system", "restarting flaky.1 in 1s (restart 1)"))
			// A child's last lines may come after the report of its
			// exit: count the runs by their output.
			runs := func() int {
				return len(slices.DeleteFunc(linesOf(p.Output(), "flaky.1"), func(s string) bool { return s != "run" }))
			}
			waitFor(t, 20*time.Second, func() bool { return runs() >= 2 }, "flaky.1 ran twice")
			p.Signal(syscall.SIGTERM)
			assert.Equal(t, 0, p.Wait(0))
			assertNoProcesses(t, p.Token())
		})
	}
}

// TestStartConfigDefaults: .proctor (or .foreman) holds defaults for the
// start flags: formation, port, timeout, can-die; flags win.
func TestStartConfigDefaults(t *testing.T) {
	t.Parallel()
	procfile := "web: echo \"$PS $PORT\"\nworker: echo \"$PS $PORT\"\n"
	tests := []struct {
		name   string
		config map[string]string
		args   []string
		want   []string
	}{
		{
			name:   ".proctor",
			config: map[string]string{".proctor": "formation: web=2,worker=1\nport: 6300\ncan-die: web,worker\n"},
			want:   []string{"web.1 6300", "web.2 6301", "worker.1 6400"},
		},
		{
			name:   ".foreman",
			config: map[string]string{".foreman": "concurrency: worker=2\nport: 6300\ncan-die: web,worker\n"},
			want:   []string{"worker.1 6400", "worker.2 6401"},
		},
		{
			name:   "flags win",
			config: map[string]string{".proctor": "formation: web=2,worker=1\nport: 6300\ncan-die: web,worker\n"},
			args:   []string{"-m", "web=1", "-p", "6500"},
			want:   []string{"web.1 6500"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": procfile})
			writeFiles(t, dir, tt.config)
			stdout, stderr, code := runProctor(t, dir, append([]string{"start"}, tt.args...)...)
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			var got []string
			for _, l := range split(stdout) {
				if name, text, ok := parseTextLine(l); ok && name != "system" && !strings.HasPrefix(text, "started with pid ") {
					got = append(got, text)
				}
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
	timeouts := []struct {
		name     string
		config   string
		args     []string
		min, max time.Duration
	}{
		{name: "timeout from .proctor", config: "timeout: 0.5\n", min: 450 * time.Millisecond, max: 4500 * time.Millisecond},
		{name: "-t wins", config: "timeout: 600\n", args: []string{"-t", "0.5"}, min: 450 * time.Millisecond, max: 20 * time.Second},
	}
	for _, tt := range timeouts {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "stubborn: " + stubborn + "\n", ".proctor": tt.config})
			p := startProctor(t, dir, append([]string{"start", "--log-format", "json"}, tt.args...)...)
			p.WaitLine(0, isRecord("stubborn.1", "ready"))
			p.Signal(syscall.SIGTERM)
			assert.Equal(t, 0, p.Wait(0))
			recs := decodeRecords(t, p.Output())
			gap := timeOf(t, recs, "system", "sending SIGKILL to all processes").Sub(timeOf(t, recs, "system", "sending SIGTERM to all processes"))
			assert.True(t, gap >= tt.min && gap < tt.max, "SIGKILL %v after SIGTERM, want %v to %v", gap, tt.min, tt.max)
		})
	}
}

// TestStartConfigTimestamp: foreman's timestamp option in .foreman turns
// the time of each line off as --no-timestamp does (issue 12, item 10).
func TestStartConfigTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"timestamp: false", "timestamp: false\n", regexp.MustCompile(`^web\.1 +\| hi$`)},
		{"timestamp: true", "timestamp: true\n", regexp.MustCompile(`^\d\d:\d\d:\d\d web\.1 +\| hi$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: echo hi\n", ".foreman": tt.config})
			stdout, stderr, code := runProctor(t, dir, "start")
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			assert.True(t, slices.ContainsFunc(split(stdout), tt.want.MatchString), "no line matching %s in:\n%s", tt.want, stdout)
		})
	}
	dir := newAppDir(t, map[string]string{"Procfile": "web: echo hi\n", ".foreman": "port: 6000\ntimestamp: maybe\n"})
	got := runCLI(t, dir, "start")
	assert.Equal(t, result{Code: 2, Stderr: "proctor: .foreman:2: timestamp: \"maybe\" is not true or false\n"}, got)
}

// --- No orphans (SPEC 7) ---

// TestStartLeavesNoProcesses: when proctor exits, nothing it started is
// alive: the shell's background children, descendants that left the
// instance's group or session (adopted as a subreaper), children that
// ignore SIGTERM, and what a crashed child left behind.
func TestStartLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	helper := helperBin(t)
	tests := []struct {
		name     string
		procfile string
		sleeps   int  // sleep processes to wait for before stopping proctor
		crash    bool // the stack stops by itself: web.1 crashes
	}{
		{name: "background children", procfile: "web: sh -c 'sleep 1000 & sleep 1000'\n", sleeps: 2},
		{name: "setsid", procfile: "web: (setsid sleep 1000 &); exec sleep 1000\n", sleeps: 2},
		{name: "double fork", procfile: "web: (sleep 1000 &); exec sleep 1000\n", sleeps: 2},
		{name: "double fork into a new group", procfile: "web: " + helper + " escape; exec sleep 1000\n", sleeps: 2},
		{name: "ignores SIGTERM", procfile: "web: trap '' TERM; sleep 1000 & sleep 1000\n", sleeps: 2},
		{name: "setsid, ignores SIGTERM", procfile: "web: (setsid sh -c \"trap '' TERM; exec sleep 1000\" &); exec sleep 1000\n", sleeps: 2},
		{
			name:     "crash mid-output",
			procfile: "web: while :; do echo chatter; done >&2 & printf 'half a line'; kill -SEGV $$\nother: exec sleep 1000\n",
			crash:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": tt.procfile})
			p := startProctor(t, dir, "start", "-t", "0.5")
			if tt.crash {
				assert.Equal(t, 128+int(syscall.SIGSEGV), p.Wait(0))
				out := p.Output()
				assert.Contains(t, linesOf(out, "web.1"), "half a line")
				assert.Contains(t, linesOf(out, "system"), "web.1 terminated by SIGSEGV")
				for _, l := range linesOf(out, "web.1") {
					if strings.Contains(l, "chatter") {
						assert.Equal(t, "chatter", l)
					}
				}
			} else {
				waitProcs(t, p.Token(), "sleep", tt.sleeps)
				p.Signal(syscall.SIGTERM)
				assert.Equal(t, 0, p.Wait(0))
			}
			assertNoProcesses(t, p.Token())
		})
	}
}

// guardianOf returns the pid of proctor's guardian process.
func guardianOf(t *testing.T, proctor int) int {
	t.Helper()
	var pid int
	waitFor(t, 20*time.Second, func() bool {
		for _, c := range childrenOf(proctor) {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(c) + "/cmdline")
			if bytes.Contains(cmdline, []byte(runner.GuardianName)) {
				pid = c
				return true
			}
		}
		return false
	}, "proctor's guardian running")
	return pid
}

// TestStartKilledProctorLeavesNoProcesses: when proctor is killed with
// SIGKILL, its guardian stops every process group it started, SIGKILL
// after the grace period for those ignoring SIGTERM, and exits.
func TestStartKilledProctorLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile": "web: sh -c 'sleep 1000 & sleep 1000'\nstubborn: trap '' TERM; sleep 1000 & sleep 1000\n",
	})
	p := startProctor(t, dir, "start", "-t", "1", "-m", "web=2,stubborn=1")
	waitProcs(t, p.Token(), "sleep", 6)
	guardian := guardianOf(t, p.Pid())
	if runtime.GOARCH == "amd64" {
		// Linux x86-64 runs the compiled guardian from a memfd, the
		// shell script elsewhere: this test is about the compiled one.
		exe, err := os.Readlink("/proc/" + strconv.Itoa(guardian) + "/exe")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(exe, "/memfd:proctor-guardian"), "the guardian runs the compiled program, not %s", exe)
	}
	p.Signal(syscall.SIGKILL)
	assert.Equal(t, 128+int(syscall.SIGKILL), p.Wait(0))
	waitNoProcesses(t, p.Token(), 10*time.Second)
	waitFor(t, 10*time.Second, func() bool { return !alive(guardian) }, "guardian %d exited", guardian)
}

// TestStartClosedStdout: when proctor's stdout is closed while children
// write (`proctor start | head -1`), proctor stops everything and exits 0.
func TestStartClosedStdout(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: yes chatter\nworker: while :; do echo worker; done\n"})
	opts := runOptions{dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), opts.deadline())
	defer cancel()
	cmd := opts.command(t, ctx, []string{"start"})
	r, w, err := os.Pipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	t.Cleanup(func() {
		_ = killGroup(cmd)
		killTokenProcesses(t, opts.token)
	})
	err = cmd.Start()
	w.Close()
	require.NoError(t, err)
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	assert.Regexp(t, `^\d\d:\d\d:\d\d (web\.1 +|worker\.1) \| `, line)
	r.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("proctor still runs 20s after its stdout was closed; stderr:\n%s", stderr.String())
	}
	assert.NoError(t, err, "stderr:\n%s", stderr.String())
	assert.Equal(t, 0, exitCode(cmd.ProcessState))
	assert.Empty(t, stderr.String())
	assertNoProcesses(t, opts.token)
}

// TestStartTTY: with --tty each child runs on its own terminal: it sees a
// terminal on stdin, stdout and stderr, of proctor's size, else 80x24; and
// shutdown leaves nothing alive.
func TestStartTTY(t *testing.T) {
	t.Parallel()
	t.Run("not a terminal", func(t *testing.T) {
		t.Parallel()
		dir := newAppDir(t, map[string]string{
			"Procfile": "web: test -t 0 && test -t 1 && test -t 2 && echo on a terminal; stty size; echo ready; sh -c 'sleep 1000 & sleep 1000'\n",
		})
		p := startProctor(t, dir, "start", "--tty")
		p.WaitLine(0, isLine("web.1", "on a terminal"))
		p.WaitLine(0, isLine("web.1", "24 80"))
		p.WaitLine(0, isLine("web.1", "ready"))
		waitProcs(t, p.Token(), "sleep", 2)
		p.Signal(syscall.SIGTERM)
		assert.Equal(t, 0, p.Wait(0))
		assertNoProcesses(t, p.Token())
	})
	t.Run("proctor on a terminal", func(t *testing.T) {
		t.Parallel()
		dir := newAppDir(t, map[string]string{"Procfile": "web: stty size\n"})
		stdout, stderr, code := runOnTerminal(t, runOptions{dir: dir}, 33, 101, "start", "--tty", "--no-color")
		require.Equal(t, 0, code, "stderr:\n%s", stderr)
		assert.Contains(t, linesOf(split(stdout), "web.1"), "33 101", stdout)
	})
}

// TestStartAsPID1: run as PID 1 of a PID namespace (as a container
// entrypoint), proctor reaps every zombie: those of its own descendants
// and those of processes that entered the namespace from outside, whose
// orphans only PID 1 inherits.
func TestStartAsPID1(t *testing.T) {
	t.Parallel()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare (util-linux) for a PID namespace")
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Skip("needs nsenter (util-linux) to enter the PID namespace")
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a PID namespace here (needs root): %v: %s", err, out)
	}
	dir := newAppDir(t, map[string]string{
		"Procfile": "maker: for i in 1 2 3; do sh -c 'sleep 0.05 & exec sleep 0.2'; done; echo made; exec sleep 1000\n",
	})
	// --mount-proc: proctor must see its own namespace in /proc.
	p := startProctorWith(t, runOptions{dir: dir, wrapper: []string{unshare, "--pid", "--fork", "--mount-proc"}}, "start")
	var proctor int
	waitFor(t, 20*time.Second, func() bool {
		if c := childrenOf(p.Pid()); len(c) == 1 {
			proctor = c[0]
			return true
		}
		return false
	}, "proctor started under unshare")
	ns, err := os.Readlink("/proc/" + strconv.Itoa(proctor) + "/ns/pid")
	require.NoError(t, err)
	p.WaitLine(0, isLine("maker.1", "made"))

	// A process that enters the namespace: its orphaned zombie goes to PID 1.
	enter := exec.Command(nsenter, "--target", strconv.Itoa(proctor), "--pid", "--mount", "--", "sh", "-c", "sleep 0.05 & exec sleep 0.2")
	enter.Env = append(os.Environ(), tokenVar+"="+p.Token())
	out, err := enter.CombinedOutput()
	require.NoError(t, err, "%s", out)

	// No zombie is left whose parent is proctor or in its namespace.
	zombies := func() []int {
		inNS := map[int]bool{proctor: true}
		entries, _ := os.ReadDir("/proc")
		var pids []int
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			pids = append(pids, pid)
			if link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && link == ns {
				inNS[pid] = true
			}
		}
		var zs []int
		for _, pid := range pids {
			if state, ppid, ok := procStat(pid); ok && state == 'Z' && inNS[ppid] {
				zs = append(zs, pid)
			}
		}
		return zs
	}
	waitFor(t, 20*time.Second, func() bool { return len(zombies()) == 0 }, "no zombies in proctor's namespace")
	require.NoError(t, syscall.Kill(proctor, syscall.SIGTERM))
	assert.Equal(t, 0, p.Wait(0))
	assert.Contains(t, linesOf(p.Output(), "system"), "maker.1 terminated by SIGTERM")
	assertNoProcesses(t, p.Token())
}

// TestStartNested: a proctor start run by an instance of another one in the
// same directory (mastodon's web: foreman start -f Procfile.heroku) runs
// its stack without a control socket of its own, saying so, instead of
// refusing because the outer proctor holds the socket (issue 12, item 7).
func TestStartNested(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile":       "web: exec " + proctorBin + " start -f Procfile.inner --no-timestamp\n",
		"Procfile.inner": "inner: echo inner ran\n",
	})
	stdout, stderr, code := runProctor(t, dir, "start")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	web := linesOf(split(stdout), "web.1")
	assert.Contains(t, web, "inner.1 | inner ran", "the inner stack ran")
	assert.Contains(t, web, "proctor: running inside the proctor stack on .proctor.sock: this inner stack has no control socket (give it one with --socket)")
	assert.Contains(t, linesOf(split(stdout), "system"), "web.1 exited with code 0")
}

// TestStartOrder: with .proctor's processes, web starts only once db is
// ready (a log line), and probe only once web is ready (a real HTTP
// request) and its own exec check passes; the stream says what each waits
// for and when it starts.
func TestStartOrder(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile": "db: while [ ! -f go ]; do sleep 0.01; done; echo database system is ready to accept connections >&2; exec sleep 1000\n" +
			"web: exec " + helperBin(t) + " http\n" +
			"probe: echo probe up; exec sleep 1000\n",
		".proctor": "processes:\n" +
			"  web:\n    after: [db]\n    ready: http /health\n" +
			"  db:\n    ready: log \"ready to accept connections$\"\n" +
			"  probe:\n    after: web\n    ready: exec test -f flag\n    ready_timeout: 20\n",
	})
	p := startProctor(t, dir, append([]string{"start"}, portArgs(t)...)...)
	p.WaitLine(0, isLine("system", "web.1 waits for db.1 (ready: log ready to accept connections$)"))
	p.WaitLine(0, isLine("system", "probe.1 waits for web.1 (ready: http /health)"))
	p.WaitLine(0, func(l string) bool {
		n, text, _ := parseTextLine(l)
		return n == "db.1" && strings.HasPrefix(text, "started with pid")
	})
	assert.Empty(t, linesOf(p.Output(), "web.1"), "web.1 has not started while db.1 is not ready")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "go"), nil, 0o644))
	p.WaitLine(0, func(l string) bool {
		n, text, _ := parseTextLine(l)
		return n == "system" && strings.HasPrefix(text, "db.1 is ready (log ready to accept connections$, ")
	})
	p.WaitLine(0, isLine("system", "starting web.1: db.1 ready"))
	// (web.1's own line about the check may come before or after this
	// one: the streams are merged as they arrive.)
	p.WaitLine(0, isLine("system", "starting probe.1: web.1 ready"))
	p.WaitLine(0, isLine("probe.1", "probe up"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "flag"), nil, 0o644))
	p.WaitLine(0, func(l string) bool {
		n, text, _ := parseTextLine(l)
		return n == "system" && strings.HasPrefix(text, "probe.1 is ready (exec test -f flag, ")
	})
	p.Signal(syscall.SIGINT)
	assert.Equal(t, 0, p.Wait(0))
	out := p.Output()
	ready := slices.IndexFunc(out, func(l string) bool { _, text, _ := parseTextLine(l); return strings.HasPrefix(text, "db.1 is ready") })
	webStarted := slices.IndexFunc(out, func(l string) bool {
		n, text, _ := parseTextLine(l)
		return n == "web.1" && strings.HasPrefix(text, "started with pid")
	})
	assert.True(t, ready >= 0 && ready < webStarted, "web.1 starts after db.1 is ready:\n%s", strings.Join(out, "\n"))
	assert.Contains(t, linesOf(out, "web.1"), "health check from proctor", "the http check made a real request")
	assertNoProcesses(t, p.Token())
}

// TestStartReadyTimeout: a dependency that is not ready within its
// ready_timeout stops the stack with exit code 1, its dependent never
// started.
func TestStartReadyTimeout(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile": "db: exec sleep 1000\nweb: echo web ran\n",
		".proctor": "processes:\n  db:\n    ready: log never said\n    ready_timeout: 0.3\n  web:\n    after: db\n",
	})
	stdout, stderr, code := runProctor(t, dir, append([]string{"start"}, portArgs(t)...)...)
	assert.Equal(t, 1, code, "stderr:\n%s", stderr)
	sys := linesOf(split(stdout), "system")
	assert.Contains(t, sys, "db.1 is not ready after 300ms (ready: log never said); stopping")
	assert.Contains(t, stderr, "db.1 is not ready after 300ms (ready: log never said)")
	assert.NotContains(t, stdout, "web ran")
}

// TestStartOrderErrors: a .proctor processes block that does not fit the
// Procfile is an error at its line before anything starts (exit 2), and
// check reports it too.
func TestStartOrderErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, proctor, want string }{
		{"an unknown name", "processes:\n  web:\n    after: [dbb]\n", `.proctor:3: web: after: no such process type "dbb" in the Procfile (it has db, web)`},
		{"a cycle", "processes:\n  web:\n    after: db\n  db:\n    after: web\n", ".proctor:2: web: after: a cycle: web → db → web"},
		{"an unknown key", "processes:\n  web:\n    aftr: db\n", ".proctor:3: web: aftr: unknown key (expected after, ready, ready_timeout, env_file, log_file, watch)"},
		{"a bad check", "processes:\n  db:\n    ready: http health\n", `.proctor:3: db: ready: http needs a path starting with /, not "health"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "db: echo db ran\nweb: echo web ran\n", ".proctor": tc.proctor})
			stdout, stderr, code := runProctor(t, dir, "start")
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout, "nothing started")
			_, stderr, code = runProctor(t, dir, "check")
			assert.NotEqual(t, 0, code, "check fails")
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// TestStartEnvFilePerType: env_file gives a type variables of its own, read
// after the stack's env files (whose variables its references see); the
// other types do not get them; `run TYPE` does; check reports the files and
// the order; a missing file is an error at its .proctor line.
func TestStartEnvFilePerType(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Procfile":  "web: echo \"web [$SECRET] $BASE\"\nworker: echo \"worker [$SECRET] [$URL]\"\n",
		".env":      "BASE=http://db\nSECRET=stack\n",
		".env.work": "SECRET=worker-only\nURL=$BASE/jobs\n",
		".proctor":  "processes:\n  worker:\n    env_file: .env.work\n",
	}
	dir := newAppDir(t, files)
	stdout, stderr, code := runProctor(t, dir, append([]string{"start", "--can-die", "all"}, portArgs(t)...)...)
	assert.Equal(t, 0, code, "stderr:\n%s", stderr)
	assert.Equal(t, []string{"web [stack] http://db"}, slices.DeleteFunc(linesOf(split(stdout), "web.1"), func(s string) bool { return strings.HasPrefix(s, "started with") }))
	assert.Equal(t, []string{"worker [worker-only] [http://db/jobs]"}, slices.DeleteFunc(linesOf(split(stdout), "worker.1"), func(s string) bool { return strings.HasPrefix(s, "started with") }))

	stdout, _, code = runProctor(t, dir, "run", "worker")
	assert.Equal(t, 0, code)
	assert.Equal(t, "worker [worker-only] [http://db/jobs]\n", stdout)
	stdout, _, _ = runProctor(t, dir, "run", "echo [$SECRET]")
	assert.Equal(t, "[stack]\n", stdout, "a command of no type gets the stack's env only")

	stdout, _, code = runProctor(t, dir, "check")
	assert.Equal(t, 0, code)
	assert.Equal(t, "valid procfile detected (web, worker)\nworker reads .env.work after the stack's env files\n", stdout)

	files[".proctor"] = "processes:\n  worker:\n    env_file: [.env.work, .env.missing]\n"
	dir = newAppDir(t, files)
	_, stderr, code = runProctor(t, dir, "start")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, ".proctor:3: worker: env_file: .env.missing: no such file")
}

// TestStartLogFiles: log_file and --log-dir append each type's bare lines
// (also still in the merged stream) to its file, opened once, after a
// "--- proctor start TIME ---" line per start; a file that cannot be
// written is reported once and the stack goes on.
func TestStartLogFiles(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile": "web: echo web line; printf 'crlf\\r\\n'; exec sleep 1000\nworker: echo work; exec sleep 1000\n",
		".proctor": "processes:\n  web:\n    log_file: log/web.log\n",
	})
	for run := 1; run <= 2; run++ {
		p := startProctor(t, dir, append([]string{"start", "--log-dir", "logs"}, portArgs(t)...)...)
		// The two come in either order.
		waitFor(t, 20*time.Second, func() bool {
			out := p.Output()
			return slices.Contains(linesOf(out, "web.1"), "crlf") && slices.Contains(linesOf(out, "worker.1"), "work")
		}, "both types wrote")
		p.Signal(syscall.SIGTERM)
		require.Equal(t, 0, p.Wait(0))
	}
	startLine := regexp.MustCompile(`^--- proctor start \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.* ---$`)
	for path, want := range map[string][]string{
		filepath.Join(dir, "log", "web.log"):     {"web line", "crlf"},
		filepath.Join(dir, "logs", "worker.log"): {"work"},
	} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		lines := split(string(data))
		require.Len(t, lines, 2*(1+len(want)), "%s:\n%s", path, data)
		for run := range 2 {
			chunk := lines[run*(1+len(want)) : (run+1)*(1+len(want))]
			assert.Regexp(t, startLine, chunk[0], path)
			assert.Equal(t, want, chunk[1:], path)
		}
	}
	assert.NoFileExists(t, filepath.Join(dir, "logs", "web.log"), "log_file wins over --log-dir")

	t.Run("a full disk", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		dir := newAppDir(t, map[string]string{
			"Procfile": "web: echo one; echo two; exec sleep 1000\n",
			".proctor": "processes:\n  web:\n    log_file: /dev/full\n",
		})
		p := startProctor(t, dir, append([]string{"start"}, portArgs(t)...)...)
		p.WaitLine(0, isLine("web.1", "two"))
		p.Signal(syscall.SIGTERM)
		assert.Equal(t, 0, p.Wait(0), "the stack is not stopped by its log file")
		var reports []string
		for _, l := range linesOf(p.Output(), "system") {
			if strings.Contains(l, "/dev/full") {
				reports = append(reports, l)
			}
		}
		assert.Equal(t, []string{"/dev/full: write /dev/full: no space left on device; web's lines are not written there"}, reports)
	})
}

// TestStartWatch: a write to a file that a type watches restarts its
// instances, once for a burst, and the stream says which file; a file it
// does not watch, or in an ignored directory, restarts nothing.
func TestStartWatch(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"Procfile":           "web: echo web up; exec sleep 1000\nworker: echo worker up; exec sleep 1000\n",
		".proctor":           "processes:\n  web:\n    watch: [app/**/*.rb]\n",
		"app/models/user.rb": "class User; end\n",
		"lib/x.txt":          "x\n",
	})
	p := startProctor(t, dir, append([]string{"start", "--watch", "worker=lib/*.txt"}, portArgs(t)...)...)
	waitFor(t, 20*time.Second, func() bool {
		out := p.Output()
		return slices.Contains(linesOf(out, "web.1"), "web up") && slices.Contains(linesOf(out, "worker.1"), "worker up")
	}, "both started")

	write := func(rel string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte("changed\n"), 0o644))
	}
	write("app/node_modules/pkg/a.rb") // matches, but node_modules is ignored
	write("app/log/debug.rb")          // and so is log
	write("README.md")                 // not watched
	for range 3 {
		write("app/models/user.rb") // a burst
	}
	p.WaitLine(0, isLine("system", "app/models/user.rb changed: restarting web"))
	p.WaitLine(0, isLine("system", "restarting web.1 after the change (restart 1)"))
	waitFor(t, 20*time.Second, func() bool {
		return len(slices.DeleteFunc(linesOf(p.Output(), "web.1"), func(s string) bool { return s != "web up" })) == 2
	}, "web.1 ran again")

	write("lib/x.txt")
	p.WaitLine(0, isLine("system", "lib/x.txt changed: restarting worker"))
	waitFor(t, 20*time.Second, func() bool {
		return len(slices.DeleteFunc(linesOf(p.Output(), "worker.1"), func(s string) bool { return s != "worker up" })) == 2
	}, "worker.1 ran again")
	p.Signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.Wait(0))
	var changes []string
	for _, l := range linesOf(p.Output(), "system") {
		if strings.Contains(l, "changed") {
			changes = append(changes, l)
		}
	}
	assert.Equal(t, []string{"app/models/user.rb changed: restarting web", "lib/x.txt changed: restarting worker"}, changes, "one restart per burst, none for ignored or unwatched files")
	assertNoProcesses(t, p.Token())
}

// TestStartDependencyReady: web, which starts after db, starts once db's
// check passes: a tcp check against db's own listener; a log check on
// db's last line, though db's exit is reaped before the line is read (a
// setup step allowed to exit).
func TestStartDependencyReady(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, db, ready, canDie string }{
		{"tcp", "exec " + helperBin(t) + " listen", "tcp 127.0.0.1:BASE", "web"},
		{"a last line", "echo seeded", "log seeded", "db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := portArgs(t) // -p BASE --port-step 1: db, the first type, gets BASE
			tc.ready = strings.ReplaceAll(tc.ready, "BASE", args[1])
			dir := newAppDir(t, map[string]string{
				"Procfile": "db: " + tc.db + "\nweb: echo web ran; exec sleep 1000\n",
				".proctor": "processes:\n  db:\n    ready: " + tc.ready + "\n  web:\n    after: db\n",
			})
			p := startProctor(t, dir, append([]string{"start", "--can-die", tc.canDie}, args...)...)
			p.WaitLine(0, isLine("system", "web.1 waits for db.1 (ready: "+tc.ready+")"))
			p.WaitLine(0, isLine("system", "starting web.1: db.1 ready"))
			p.WaitLine(0, isLine("web.1", "web ran"))
			p.Signal(syscall.SIGINT)
			assert.Equal(t, 0, p.Wait(0))
		})
	}
}

// TestStartWithoutAShell: a command that is a plain word list runs without
// /bin/sh: the instance's pid is the program's own, which gets the signals
// itself; a program that is not found still fails as the shell says it
// (exit 127); check -v names those types.
func TestStartWithoutAShell(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: sleep 1000\nworker: echo $PS; exec sleep 1000\n"})
	p := startProctor(t, dir, append([]string{"start"}, portArgs(t)...)...)
	p.WaitLine(0, isLine("worker.1", "worker.1"))
	web := startedPid(t, p.Output(), "web.1")
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", web))
	require.NoError(t, err)
	assert.Equal(t, "sleep\n", string(comm), "web.1's process is the program itself")
	worker := startedPid(t, p.Output(), "worker.1")
	assert.NotEqual(t, web, worker)
	p.Signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.Wait(0))
	assert.Contains(t, linesOf(p.Output(), "system"), "web.1 terminated by SIGTERM")
	assertNoProcesses(t, p.Token())

	stdout, _, code := runProctor(t, dir, "check", "-v")
	assert.Equal(t, 0, code)
	assert.Equal(t, "valid procfile detected (web, worker)\nrun without a shell: web\n", stdout)

	missing := newAppDir(t, map[string]string{"Procfile": "web: no-such-program-here --flag\n"})
	stdout, stderr, code := runProctor(t, missing, append([]string{"start"}, portArgs(t)...)...)
	assert.Equal(t, 127, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "not found", "the shell's own words")
}

// TestStartPipeHeldOutside: a process outside proctor's tree that holds an
// instance's stdout open (here the test, through /proc/PID/fd/1) keeps the
// pipe from ending. proctor closes it once every child is gone and the
// drain timeout has passed, and exits; the holder's writes then fail.
func TestStartPipeHeldOutside(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: echo \"pid $$\"; exec sleep 1000\n"})
	p := startProctor(t, dir, "start", "-t", "0.5")
	line := p.WaitLine(0, func(l string) bool { return strings.Contains(l, "| pid ") })
	pid := line[strings.LastIndex(line, " ")+1:]
	held, err := os.OpenFile("/proc/"+pid+"/fd/1", os.O_WRONLY, 0)
	require.NoError(t, err, "opening web.1's stdout")
	defer held.Close()
	_, err = held.WriteString("from outside\n")
	require.NoError(t, err)
	p.WaitLine(0, func(l string) bool { return strings.HasSuffix(l, "| from outside") })

	p.Signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.Wait(0), "exit code")
	_, err = held.WriteString("after proctor\n")
	assert.ErrorIs(t, err, syscall.EPIPE, "writing the held pipe once proctor is gone")
	assert.NotContains(t, strings.Join(p.Output(), "\n"), "reading output", "an error reported for the closed pipe")
}
