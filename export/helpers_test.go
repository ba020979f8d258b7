package export

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/procfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/export")

// hostile holds every character some format escapes: spaces, both quotes,
// '%', '$', a backslash, '&', '<', '>', '#', ';', a tab and a newline.
const hostile = "a b 'single' \"double\" 100% $HOME ${PATH} \\ & < > #x ;y\tz\nsecond line"

// hostileCommand has quotes and a pipe; its output names the instance.
const hostileCommand = `echo "it's a \"pipe\" | 100%" | tr a-z A-Z > "out/$PS.pipe"`

// consumerCommand is what each test process runs: it records its PORT, PS,
// working directory and the variables named in vars, runs hostileCommand,
// and then (unless once) stays up. The pid file is written last, by rename,
// so that its presence means everything else is there.
func consumerCommand(once bool, vars ...string) string {
	var b strings.Builder
	b.WriteString(`printf '%s' "$PORT" > "out/$PS.port" && pwd > "out/$PS.pwd"`)
	for _, v := range vars {
		fmt.Fprintf(&b, ` && printf '%%s' "$%s" > "out/$PS.%s"`, v, v)
	}
	b.WriteString(" && " + hostileCommand)
	b.WriteString(` && echo "$PS says hello" && echo $$ > "out/$PS.tmp" && mv "out/$PS.tmp" "out/$PS.pid"`)
	if !once {
		b.WriteString(" && exec sleep 600")
	}
	return b.String()
}

// consumerInput is an app of three types (release, web=2, worker) whose
// processes run consumerCommand, with vars as the env files' variables.
func consumerInput(t *testing.T, vars env.Vars) Input {
	t.Helper()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	procfileText := fmt.Sprintf("release: %s\nweb: %s\nworker: %s\n",
		consumerCommand(true, names...), consumerCommand(false, names...), consumerCommand(false, names...))
	return planInput(t, procfileText, vars, "web=2,all=1")
}

// planInput parses a Procfile and plans a formation as proctor does.
func planInput(t *testing.T, procfileText string, vars env.Vars, formation string) Input {
	t.Helper()
	entries, err := procfile.ParseBytes([]byte(procfileText))
	if err != nil {
		t.Fatalf("Procfile: %v", err)
	}
	var fm *procfile.Formation
	if formation != "" {
		f, err := procfile.ParseFormation(formation)
		if err != nil {
			t.Fatal(err)
		}
		fm = &f
	}
	counts, err := procfile.Resolve(entries, fm, nil)
	if err != nil {
		t.Fatal(err)
	}
	return planned(t, entries, counts, vars)
}

// planned is the export input of counts[i] instances of entry i, with
// vars as the env files' variables, planned the way proctor export plans
// them: the variables alone, ports from 5000 in steps of 100.
func planned(t testing.TB, entries []procfile.Entry, counts []int, vars env.Vars) Input {
	t.Helper()
	app := procfile.App{Entries: entries, Ports: procfile.Ports{Base: 5000, Step: 100}, Environ: env.Environ(nil, vars, true)}
	instances, err := app.Plan(counts)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Entries: entries, Instances: instances}
}

// render renders and writes an export into a new directory.
func render(t *testing.T, format string, in Input, opts Options) (string, []File) {
	t.Helper()
	files, err := Render(format, in, opts)
	if err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, files); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	return dir, files
}

// requireTool skips the test when a consumer is not installed, unless CI
// is set: CI installs every consumer, so there a missing one is a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// requireRoot skips a test that starts services as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the consumer tests need root (CI runs as root)")
		}
		t.Skip("needs root to run services as a user")
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// waitFiles waits until every file exists.
func waitFiles(t *testing.T, timeout time.Duration, paths ...string) {
	t.Helper()
	for _, p := range paths {
		waitFor(t, timeout, p, func() bool {
			_, err := os.Stat(p)
			return err == nil
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alive reports whether a process with pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// recordedPIDs reads the pid files the test processes wrote.
func recordedPIDs(t *testing.T, root string) []int {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(root, "out", "*.pid"))
	var pids []int
	for _, p := range paths {
		var pid int
		if _, err := fmt.Sscan(readFile(t, p), &pid); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killRecorded kills whatever recorded process is still there: cleanup
// for a failed test, so that no process outlives it.
func killRecorded(t *testing.T, root string) {
	for _, pid := range recordedPIDs(t, root) {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// checkInstanceFiles compares what each instance recorded with what it
// should have got.
func checkInstanceFiles(t *testing.T, root string, in Input, vars env.Vars) {
	t.Helper()
	for _, inst := range in.Instances {
		base := filepath.Join(root, "out", inst.Name)
		if got, want := readFile(t, base+".port"), fmt.Sprint(inst.Port); got != want {
			t.Errorf("%s: PORT = %q, want %q", inst.Name, got, want)
		}
		if got := strings.TrimSuffix(readFile(t, base+".pwd"), "\n"); got != root {
			t.Errorf("%s: working directory = %q, want %q", inst.Name, got, root)
		}
		for k, v := range vars {
			if got := readFile(t, base+"."+k); got != v {
				t.Errorf("%s: $%s = %q, want %q", inst.Name, k, got, v)
			}
		}
		if got, want := readFile(t, base+".pipe"), "IT'S A \"PIPE\" | 100%\n"; got != want {
			t.Errorf("%s: piped output = %q, want %q", inst.Name, got, want)
		}
	}
}

// instanceFiles lists the pid file of every instance: they appear last.
func instanceFiles(root string, in Input) []string {
	var out []string
	for _, inst := range in.Instances {
		out = append(out, filepath.Join(root, "out", inst.Name+".pid"))
	}
	return out
}

// consumerRoot makes the app root of a consumer test, with its out/ dir.
func consumerRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// withVars is in with every instance planned again from vars as the env
// files' variables.
func withVars(in *Input, vars env.Vars) Input {
	app := procfile.App{Entries: in.Entries, Ports: procfile.Ports{Base: 5000, Step: 100}, Environ: env.Environ(nil, vars, true)}
	out := Input{Entries: in.Entries}
	for _, pi := range in.Instances {
		re, err := app.Instance(pi.TypeIndex, pi.Num)
		if err != nil {
			panic(err) // the ports of sampleInput's formation are in range
		}
		out.Instances = append(out.Instances, re)
	}
	return out
}
