package runner

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/internal/proctest"
)

// TestGuardStopsTokenCarriers: a guardian whose proctor died stops the
// processes that carry the run's token though proctor never listed their
// group: one whose "+PGID" had not been written yet (kill -9 just after the
// shell started, what the stress suite's kill -9 once hit), one that left
// for a session of its own, and one that a carrier's SIGTERM handler
// started in a new session as the guardian stopped it (found by the
// second search, after the first stop). The token must be a whole entry of
// the environment: a longer or shorter value, or another variable ending
// in the same text, is not the token, and those processes are left alone,
// as is a process without it.
func TestGuardStopsTokenCarriers(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		dir := t.TempDir()
		runToken := fmt.Sprintf("run-%d", time.Now().UnixNano())
		// Every process of this test carries one of two marks, so that
		// the test and its cleanup find them all.
		carriers := proctest.Token{Var: "GUARD_TEST_CARRIER", Value: runToken}
		strangers := proctest.Token{Var: "GUARD_TEST_STRANGER", Value: runToken}
		t.Cleanup(func() { carriers.Kill(t); strangers.Kill(t) })
		start := func(script string, mark proctest.Token, env string) {
			cmd := exec.Command("/bin/sh", "-c", script)
			cmd.Env = append(os.Environ(), mark.Env())
			if env != "" {
				cmd.Env = append(cmd.Env, env)
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			require.NoError(t, cmd.Start())
			go cmd.Wait() // reap the shell; its sleep is adopted elsewhere
		}
		token := guardTokenEnv + "=" + runToken
		// Each writes the pid of its sleep once it runs.
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "unlisted")+"; wait", carriers, token)
		start("setsid sh -c 'echo $$ > "+filepath.Join(dir, "escaped")+"; exec sleep 1000' & wait", carriers, token)
		start("trap 'setsid sleep 1000 & exit 0' TERM; echo $$ > "+filepath.Join(dir, "respawner")+"; while :; do sleep 0.05; done", carriers, token)
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "stranger")+"; wait", strangers, "")
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "longer")+"; wait", strangers, token+"x")
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "shorter")+"; wait", strangers, token[:len(token)-1])
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "other")+"; wait", strangers, "X"+token)
		pid := map[string]int{}
		names := []string{"unlisted", "escaped", "respawner", "stranger", "longer", "shorter", "other"}
		for _, name := range names {
			require.Eventually(t, func() bool {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !strings.HasSuffix(string(b), "\n") {
					return false
				}
				pid[name], err = strconv.Atoi(strings.TrimSpace(string(b)))
				return err == nil
			}, 10*time.Second, 5*time.Millisecond, "%s wrote its pid", name)
		}

		// proctor's last words: the token, then it dies (end of file).
		runGuardian(t, g, 2*time.Second, "="+runToken+"\n")

		for _, name := range names[:3] {
			assert.False(t, procAlive(pid[name]), "%s (pid %d) was stopped", name, pid[name])
		}
		assert.Empty(t, carriers.Procs(), "no carrier of the token is left, nor what the respawner started: %s", proctest.Describe(carriers.Procs()))
		for _, name := range names[3:] {
			assert.True(t, procAlive(pid[name]), "%s (pid %d), which does not carry the token, was left alone", name, pid[name])
		}
	})
}

// TestGuardianTokenSearchNeedsItsOwnProc: a guardian in a PID namespace of
// its own whose /proc is still the outer namespace's (proctor started by
// `unshare --pid --fork` without --mount-proc) does not search /proc for
// the token. The pids there are not its namespace's: a token carrier's
// group X outside would be signalled as group X inside, another process.
// Here that other process exists: the namespace's next pid is set to X
// (ns_last_pid) before a victim starts a session there, so a guardian
// that searched would stop it.
func TestGuardianTokenSearchNeedsItsOwnProc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a new PID namespace needs root")
	}
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		dir := t.TempDir()
		runToken := fmt.Sprintf("run-%d", time.Now().UnixNano())
		marks := proctest.Token{Var: "GUARD_TEST_NS", Value: runToken}
		t.Cleanup(func() { marks.Kill(t) })

		carrier := exec.Command("sleep", "1000")
		carrier.Env = append(os.Environ(), marks.Env(), guardTokenEnv+"="+runToken)
		carrier.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, carrier.Start())
		go carrier.Wait()
		group := carrier.Process.Pid

		argv := g.command(time.Second)
		var extra []*os.File
		if g.name == "compiled" {
			// The memfd, as fd 3 of the namespace's first process.
			fd, err := strconv.Atoi(filepath.Base(argv[0]))
			require.NoError(t, err, "compiled guardian path %s", argv[0])
			dup, err := syscall.Dup(fd)
			require.NoError(t, err)
			f := os.NewFile(uintptr(dup), "guardian")
			defer f.Close()
			extra, argv[0] = []*os.File{f}, "/proc/self/fd/3"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "events"), []byte("="+runToken+"\n"), 0o600))
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "ready"), 0o600))
		// $1 is the group; the rest is the guardian's command line. The
		// victim says its pid as /proc (the outer namespace's) shows it.
		script := `echo $(($1 - 1)) > /proc/sys/kernel/ns_last_pid || exit 3
shift
setsid sh -c 'read -r p _ < /proc/self/stat; echo "$p" > ready; exec sleep 1000' &
[ "$!" = "$((${group}))" ] || exit 4
read -r victim < ready
"$@" < events
echo "$victim" > done.tmp && mv done.tmp done
exec sleep 1000`
		script = strings.ReplaceAll(script, "${group}", strconv.Itoa(group))
		ns := exec.Command("/bin/sh", append([]string{"-c", script, "sh", strconv.Itoa(group)}, argv...)...)
		ns.Dir = dir
		ns.Env = append(os.Environ(), marks.Env())
		ns.ExtraFiles = extra
		ns.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWPID}
		if err := ns.Start(); err != nil {
			t.Skipf("cannot start a process in a new PID namespace here: %v", err)
		}
		// The namespace's first process: its end ends the namespace.
		var waitErr error
		exited := make(chan struct{})
		go func() { waitErr = ns.Wait(); close(exited) }()
		t.Cleanup(func() { syscall.Kill(ns.Process.Pid, syscall.SIGKILL); <-exited })
		var victim int
		deadline := time.After(20 * time.Second)
		for victim == 0 {
			select {
			case <-exited:
				t.Skipf("the namespace's next pid could not be set to %d here (%v)", group, waitErr)
			case <-deadline:
				t.Fatal("the guardian in the new namespace did not end")
			case <-time.After(5 * time.Millisecond):
			}
			if b, err := os.ReadFile(filepath.Join(dir, "done")); err == nil {
				victim, err = strconv.Atoi(strings.TrimSpace(string(b)))
				require.NoError(t, err, "done holds %q", b)
			}
		}
		assert.True(t, procAlive(victim), "the process of group %d in the guardian's namespace (pid %d outside) is left alone", group, victim)
		assert.True(t, procAlive(group), "the carrier outside (pid %d) is left alone", group)
	})
}

// procAlive reports whether pid runs (a zombie has no environment left in
// /proc: it has ended).
func procAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// TestGuardianIgnoresSignals: the guardian outlives what is sent to
// proctor's terminal and to proctor's group (Ctrl-C, Ctrl-\, a hangup, a
// kill of the group): it ignores SIGINT, SIGTERM, SIGHUP, SIGQUIT and
// SIGPIPE and still does its work at end of file.
func TestGuardianIgnoresSignals(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		argv := append(g.command(time.Second), "list")
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = []string{}
		w, err := cmd.StdinPipe()
		require.NoError(t, err)
		var out strings.Builder
		cmd.Stdout = &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		// The signals it ignores, as bits of /proc/PID/status: the bit of
		// signal n is 1<<(n-1).
		var want uint64
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE} {
			want |= 1 << (sig - 1)
		}
		require.Eventually(t, func() bool {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
			if err != nil {
				return false
			}
			for _, line := range strings.Split(string(b), "\n") {
				if hex, ok := strings.CutPrefix(line, "SigIgn:"); ok {
					ign, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
					return err == nil && ign&want == want
				}
			}
			return false
		}, 10*time.Second, time.Millisecond, "the guardian ignores the signals")
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
			require.NoError(t, syscall.Kill(-cmd.Process.Pid, sig))
		}
		_, err = io.WriteString(w, "+10\n")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, waitDeadline(t, cmd, 10*time.Second), "the guardian ends at end of file, not by a signal")
		assert.Equal(t, "token=\ngroups= 10 \n", out.String())
	})
}

// TestShutdownWithoutChildList: where proctor's children cannot be listed
// (no /proc of its own), the shutdown does not end on the guardian's being
// the last child, which it cannot see: the guardian is told to exit and
// the loop ends once wait4 finds no child at all.
func TestShutdownWithoutChildList(t *testing.T) {
	saved := canListChildren
	canListChildren = func() bool { return false }
	defer func() { canListChildren = saved }()
	st := startStack(t, "a: exec sleep 1000\nb: exec sleep 1000\n", Options{Guardian: GuardianCommand(time.Second)})
	st.out.waitCount(t, `started with pid`, 2)
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	assert.False(t, hasChildren(), "every child, the guardian too, is reaped")
}
