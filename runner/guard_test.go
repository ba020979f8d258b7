package runner

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guardianImpl is one implementation of the guardian: its command line for
// a grace period.
type guardianImpl struct {
	name    string
	command func(grace time.Duration) []string
}

// guardianImpls returns the guardians this platform can run, each test
// running on all of them: the script everywhere, and the compiled one on
// Linux x86-64, where its absence is a failure unless the kernel forbids
// executing a memfd (vm.memfd_noexec=2), as proctor then does without it.
func guardianImpls(t testing.TB) []guardianImpl {
	t.Helper()
	impls := []guardianImpl{{"script", scriptGuardianCommand}}
	path := compiledGuardianPath()
	if path == "" && runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		if memfdNoexec() {
			t.Log("vm.memfd_noexec=2: only the script guardian can run here")
		} else {
			t.Fatal("the compiled guardian cannot run on this machine")
		}
	}
	if path != "" {
		impls = append(impls, guardianImpl{"compiled", func(grace time.Duration) []string {
			return compiledGuardianCommand(path, grace)
		}})
	}
	return impls
}

// memfdNoexec reports whether the kernel refuses to execute any memfd
// (vm.memfd_noexec=2, Linux 6.3 and later).
func memfdNoexec() bool {
	b, err := os.ReadFile("/proc/sys/vm/memfd_noexec")
	return err == nil && strings.TrimSpace(string(b)) == "2"
}

// forEachGuardian runs test as a subtest for each guardian.
func forEachGuardian(t *testing.T, test func(t *testing.T, g guardianImpl)) {
	for _, g := range guardianImpls(t) {
		t.Run(g.name, func(t *testing.T) { test(t, g) })
	}
}

// guardList runs the real guardian g in its test mode on in and returns
// what it read: the token and the groups it would stop, and whether it
// read bye (then it prints nothing).
func guardList(t testing.TB, g guardianImpl, in string) (token string, groups []string, bye bool) {
	t.Helper()
	argv := append(g.command(time.Second), "list")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{}
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	require.NoError(t, err)
	if len(out) == 0 {
		return "", nil, true
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, 2, "the guardian's list: %q", out)
	token, ok := strings.CutPrefix(lines[0], "token=")
	require.True(t, ok, "token line %q", lines[0])
	list, ok := strings.CutPrefix(lines[1], "groups=")
	require.True(t, ok, "groups line %q", lines[1])
	if groups = strings.Fields(list); len(groups) == 0 {
		groups = nil
	}
	return token, groups, false
}

func TestGuardEvents(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		groups []string
		token  string
		bye    bool
	}{
		{"empty", "", nil, "", false},
		{"adds", "+10\n+20\n", []string{"10", "20"}, "", false},
		{"remove", "+10\n+20\n+30\n-20\n", []string{"10", "30"}, "", false},
		{"remove the first and the last", "+10\n+20\n+30\n-10\n-30\n", []string{"20"}, "", false},
		{"a group listed twice is listed once", "+10\n+10\n-10\n", nil, "", false},
		{"a group removed, then started again", "+10\n-10\n+10\n", []string{"10"}, "", false},
		{"removing an unlisted group", "+10\n-11\n-1\n", []string{"10"}, "", false},
		{"bye", "+10\nbye\n+20\n", nil, "", true},
		{"garbage ignored", "+x\n?5\n+\n+1\n+-3\n+010\n+1x\n+30\n+9999999999\n+123456789\n", []string{"30", "123456789"}, "", false},
		{"a prefix of another group", "+10\n+100\n-10\n", []string{"100"}, "", false},
		{"no final newline", "+10\n+11", []string{"10", "11"}, "", false},
		{"the token", "=0f3a\n+10\n", []string{"10"}, "0f3a", false},
		{"the last token wins", "=a\n=b\n", nil, "b", false},
		{"shell syntax is text", "=$(touch x) *\n+10 \n+11;\n", nil, "$(touch x) *", false},
	}
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				token, groups, bye := guardList(t, g, tt.in)
				assert.Equal(t, tt.bye, bye)
				assert.Equal(t, tt.token, token)
				assert.Equal(t, tt.groups, groups, "in the order they were added")
			})
		}
	})
}

// startGroup starts sh -c script as the leader of a new process group.
func startGroup(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

// runGuardian runs the guardian g as proctor does, with grace, feeds it
// events and then end of file, as when proctor dies, and waits for it.
func runGuardian(t *testing.T, gi guardianImpl, grace time.Duration, events string) {
	t.Helper()
	runGuardianWith(t, gi, grace, events, &syscall.SysProcAttr{Setpgid: true})
}

// runGuardianWith is runGuardian with the guardian started with attr.
func runGuardianWith(t *testing.T, gi guardianImpl, grace time.Duration, events string, attr *syscall.SysProcAttr) {
	t.Helper()
	argv := gi.command(grace)
	g := exec.Command(argv[0], argv[1:]...)
	g.Env = []string{}
	g.Stdin = strings.NewReader(events)
	var stderr bytes.Buffer
	g.Stderr = &stderr
	g.SysProcAttr = attr
	require.NoError(t, g.Start())
	require.NoError(t, waitDeadline(t, g, grace+20*time.Second), "the guardian ends")
	assert.Empty(t, stderr.String(), "the guardian says nothing")
}

// waitDeadline waits for cmd, and fails the test (killing cmd's group) when
// it has not ended within d.
func waitDeadline(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s still running after %v", cmd.Path, d)
		return nil
	}
}

// reapGroup reaps every child of process group pgid as init would, and
// closes the returned channel when none is left: once earlier tests made
// this process a subreaper, orphans of the group come back to it, and a
// zombie still counts as a member of its group. (Only the group's: the
// guardian is a child too, in a group of its own.)
func reapGroup(pgid int) <-chan struct{} {
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for {
			if _, err := syscall.Wait4(-pgid, nil, 0, nil); errors.Is(err, syscall.ECHILD) {
				return
			}
		}
	}()
	return reaped
}

func TestGuardianStopsGroupsOnTerm(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		cmd := startGroup(t, "sleep 1000 & sleep 1000")
		pgid := cmd.Process.Pid
		reaped := reapGroup(pgid)
		start := time.Now()
		runGuardian(t, g, 20*time.Second, "=tok\n+"+strconv.Itoa(pgid)+"\n")
		assert.Less(t, time.Since(start), 20*time.Second, "the group should empty on SIGTERM, before the grace period ends")
		select {
		case <-reaped:
		case <-time.After(10 * time.Second):
			t.Fatal("children still alive after the guardian")
		}
		assert.False(t, groupAlive(pgid))
	})
}

func TestGuardianKillsAfterGrace(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		ready := t.TempDir() + "/ready"
		cmd := startGroup(t, "trap '' TERM; touch "+ready+"; while :; do sleep 0.05; done")
		pgid := cmd.Process.Pid
		require.Eventually(t, func() bool { return fileExists(ready) }, 5*time.Second, 5*time.Millisecond)
		runGuardian(t, g, 100*time.Millisecond, "+"+strconv.Itoa(pgid)+"\n")
		err := waitDeadline(t, cmd, 10*time.Second)
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())
	})
}

// TestGuardianTermsFirstAndWaits: SIGTERM comes first, and a group that
// handles it is given the grace period to finish: the handler here needs
// 300 ms before it exits, far less than the grace.
func TestGuardianTermsFirstAndWaits(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		endsByTermHandler(t, g, "sleep 0.3", 10*time.Second, nil)
	})
}

// TestGuardianContinuesStoppedGroups: a stopped group (Ctrl-Z, SIGSTOP)
// cannot act on SIGTERM until it is continued: the guardian sends SIGCONT
// after SIGTERM, so the group ends within the grace period, by its handler.
func TestGuardianContinuesStoppedGroups(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		endsByTermHandler(t, g, ":", 5*time.Second, func(pgid int) {
			require.NoError(t, syscall.Kill(-pgid, syscall.SIGSTOP))
		})
	})
}

// endsByTermHandler starts a group whose SIGTERM handler runs handler and
// then exits, calls prepare (when not nil) on it once it runs, and runs the
// guardian g on it with grace: the group must end by its handler, before
// the grace period ends, and be reaped.
func endsByTermHandler(t *testing.T, g guardianImpl, handler string, grace time.Duration, prepare func(pgid int)) {
	t.Helper()
	dir := t.TempDir()
	cmd := startGroup(t, "trap '"+handler+"; touch "+dir+"/done; exit 0' TERM; touch "+dir+"/ready; while :; do sleep 0.05; done")
	pgid := cmd.Process.Pid
	require.Eventually(t, func() bool { return fileExists(dir + "/ready") }, 5*time.Second, 5*time.Millisecond)
	if prepare != nil {
		prepare(pgid)
	}
	reaped := reapGroup(pgid)
	start := time.Now()
	runGuardian(t, g, grace, "+"+strconv.Itoa(pgid)+"\n")
	assert.Less(t, time.Since(start), grace, "the group emptied before the grace period ended")
	assert.True(t, fileExists(dir+"/done"), "the TERM handler ran to its end")
	select {
	case <-reaped:
	case <-time.After(10 * time.Second):
		t.Fatal("the group is still alive after the guardian")
	}
}

// TestScriptInstead: where the memfd cannot be executed, proctor runs the
// script with the compiled guardian's arguments; any other command line
// has no stand-in.
func TestScriptInstead(t *testing.T) {
	path := compiledGuardianPath()
	if path == "" {
		assert.Nil(t, scriptInstead(GuardianCommand(time.Second)), "the script is already the guardian")
		return
	}
	got := scriptInstead(GuardianCommand(1500 * time.Millisecond))
	assert.Equal(t, scriptGuardianCommand(1500*time.Millisecond), got)
	assert.Nil(t, scriptInstead([]string{"/bin/sh", "-c", "cat"}))
	assert.Nil(t, scriptInstead(nil))
}

// TestGuardianScriptByChoice: PROCTOR_GUARDIAN=script runs the script
// where the compiled guardian would run.
func TestGuardianScriptByChoice(t *testing.T) {
	t.Setenv(guardianEnv, "script")
	assert.Equal(t, scriptGuardianCommand(time.Second), GuardianCommand(time.Second))
}

func TestGuardianSparesOnBye(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		cmd := startGroup(t, "sleep 1000")
		pgid := cmd.Process.Pid
		runGuardian(t, g, time.Second, "+"+strconv.Itoa(pgid)+"\nbye\n")
		assert.True(t, groupAlive(pgid), "bye: proctor shut down itself; nothing is stopped")
	})
}

// TestGuardianCloseSendsOnlyBye: the events still queued at a normal
// shutdown (the removals of the groups that ended last) are not written
// before "bye"; what was flushed before stays written.
func TestGuardianCloseSendsOnlyBye(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	g := &guardian{w: w}
	require.NoError(t, g.token("tok"))
	require.NoError(t, g.add(100))
	require.NoError(t, g.flush())
	require.NoError(t, g.remove(100))
	require.NoError(t, g.add(200))
	require.True(t, g.queued())
	g.close()
	assert.Nil(t, g.w, "closed")
	got, err := io.ReadAll(r) // the write end is closed: EOF after what was written
	require.NoError(t, err)
	assert.Equal(t, "=tok\n+100\nbye\n", string(got))
}

// TestGuardianGetsTokenBeforeInstances: startGuardian writes the run's token
// to the guardian at once, not with the first batch of events, which waits
// until the supervisor is idle, after the first instances have started: a
// kill -9 of proctor in between would find a guardian that knows nothing.
func TestGuardianGetsTokenBeforeInstances(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "got")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	out := output.New(io.Discard, output.Options{})
	defer out.Close()
	s := newShell(Options{
		Output:   out,
		Guardian: []string{"/bin/sh", "-c", `exec cat >"$1"`, "guardian", fifo},
	}, nil)
	var err error
	s.devNull, err = os.Open(os.DevNull)
	require.NoError(t, err)
	defer s.devNull.Close()
	s.spawner = startSpawner()
	defer s.spawner.stop()
	s.startGuardian()
	require.NotNil(t, s.guard, "guardian started")
	pid := s.guard.pid
	defer func() {
		s.guard.close() // cat reads end of file and exits
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		assert.NoError(t, err)
	}()
	// What the guardian reads comes out of the FIFO as it reads it. The
	// supervisor's loop never runs here, so nothing else flushes.
	r, err := os.Open(fifo) // returns once cat has opened the other end
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.SetReadDeadline(time.Now().Add(10*time.Second)))
	want := "=" + s.guardToken + "\n"
	got := make([]byte, len(want))
	_, err = io.ReadFull(r, got)
	require.NoError(t, err, "the guardian got no token before any instance starts")
	assert.Equal(t, want, string(got))
}

// TestGuardianOnlyRemovalsWait: while shutting down, the loop lets queued
// removals wait (deferrable), never a token or an added group, which the
// guardian needs at once to stop that group should proctor be killed.
func TestGuardianOnlyRemovalsWait(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	g := &guardian{w: w}
	require.NoError(t, g.remove(100))
	assert.True(t, g.deferrable(), "removals only")
	require.NoError(t, g.add(200))
	assert.False(t, g.deferrable(), "an added group is queued")
	require.NoError(t, g.flush())
	assert.True(t, g.deferrable(), "nothing queued")
	require.NoError(t, g.token("tok"))
	assert.False(t, g.deferrable(), "the token is queued")
	assert.False(t, (*guardian)(nil).deferrable(), "no guardian: nothing to wait for")
}
