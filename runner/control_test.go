package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/proctor-run/proctor/procfile"
)

// statusOf returns the status of the named instance, failing if absent.
func statusOf(t *testing.T, r *Runner, name string) Status {
	t.Helper()
	all, err := r.Status()
	require.NoError(t, err)
	for _, st := range all {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no instance %s in %v", name, all)
	return Status{}
}

func names(t *testing.T, r *Runner) []string {
	t.Helper()
	all, err := r.Status()
	require.NoError(t, err)
	var out []string
	for _, st := range all {
		out = append(out, st.Name+":"+string(st.State))
	}
	return out
}

func TestStopInstanceKeepsTheRest(t *testing.T) {
	st := startStack(t, "web: echo up; sleep 1000\nworker: sleep 1000\n", Options{})
	st.out.waitFor(t, `web\.1\|0\|up`)
	require.NoError(t, st.r.Stop("web.1"))
	assert.Equal(t, []string{"web.1:stopped", "worker.1:running"}, names(t, st.r))
	assert.Zero(t, statusOf(t, st.r, "web.1").PID)
	st.out.waitFor(t, `^system\|web\.1 terminated by SIGTERM$`)
	assert.Zero(t, st.out.count(`sending SIGTERM to all`), "stopping one instance must not shut down the stack")
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.assertNoSurvivors()
}

func TestStopIgnoringTermIsKilled(t *testing.T) {
	st := startStack(t, "web: trap '' TERM; echo up; while :; do sleep 0.05; done\nworker: sleep 1000\n", Options{Timeout: 200 * time.Millisecond})
	st.out.waitFor(t, `web\.1\|0\|up`)
	require.NoError(t, st.r.Stop("web"))
	st.out.waitFor(t, `^system\|web\.1 terminated by SIGKILL$`)
	assert.Equal(t, Running, statusOf(t, st.r, "worker.1").State)
}

// The machine's table tests hold the rules for names; this checks that
// its errors reach the caller intact, and the shell's own (attach).
func TestUnknownNames(t *testing.T) {
	st := startStack(t, "web: sleep 1000\nworker: sleep 1000\n", Options{}, 1, 0)
	st.out.waitFor(t, `web\.1\|2\|started`)
	before := names(t, st.r)
	assert.ErrorIs(t, st.r.Stop("wbe"), ErrUnknownName)
	_, err := st.r.Attach("web.1", &bytes.Buffer{})
	assert.ErrorIs(t, err, ErrNotTTY)
	_, err = st.r.Attach("web", &bytes.Buffer{})
	assert.ErrorIs(t, err, ErrUnknownName)
	assert.Equal(t, before, names(t, st.r), "a bad request changed the stack")
}

func TestRestartInstance(t *testing.T) {
	st := startStack(t, "web: echo up $$; sleep 1000\nworker: sleep 1000\n", Options{})
	st.out.waitFor(t, `web\.1\|0\|up`)
	old := statusOf(t, st.r, "web.1").PID
	require.NoError(t, st.r.Restart("web.1"))
	now := statusOf(t, st.r, "web.1")
	assert.NotEqual(t, old, now.PID)
	assert.Equal(t, Running, now.State)
	assert.Equal(t, 1, now.Restarts)
	assert.Equal(t, Running, statusOf(t, st.r, "worker.1").State)
	assert.Zero(t, st.out.count(`sending SIGTERM to all`))
	st.out.waitFor(t, fmt.Sprintf(`web\.1\|0\|up %d`, now.PID))
}

func TestScaleUpAndDown(t *testing.T) {
	st := startStack(t, "web: echo $PS on $PORT; sleep 1000\nworker: sleep 1000\n", Options{App: procfile.App{Ports: procfile.Ports{Base: 46000, Step: 100}}}, 1, 0)
	st.out.waitFor(t, `web\.1\|0\|web\.1 on 46000`)
	require.NoError(t, st.r.Scale([]procfile.TypeCount{{Type: "web", Count: 3}, {Type: "worker", Count: 1}}))
	assert.Equal(t, []string{"web.1:running", "web.2:running", "web.3:running", "worker.1:running"}, names(t, st.r))
	st.out.waitFor(t, `web\.3\|0\|web\.3 on 46002`)
	assert.Equal(t, 46100, statusOf(t, st.r, "worker.1").Port)

	require.NoError(t, st.r.Scale([]procfile.TypeCount{{Type: "web", Count: 1}}))
	assert.Equal(t, []string{"web.1:running", "worker.1:running"}, names(t, st.r))
	// Surplus instances stop highest number first.
	i3 := indexOf(st.out.all(), "system|web.3 terminated by SIGTERM")
	i2 := indexOf(st.out.all(), "system|web.2 terminated by SIGTERM")
	require.True(t, i2 >= 0 && i3 >= 0)

	require.NoError(t, st.r.Scale([]procfile.TypeCount{{Type: "worker", Count: 0}}))
	assert.Equal(t, []string{"web.1:running"}, names(t, st.r))
	assert.Zero(t, st.out.count(`sending SIGTERM to all`))
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.assertNoSurvivors()
}

func indexOf(lines []string, want string) int {
	for i, l := range lines {
		if l == want {
			return i
		}
	}
	return -1
}

func TestAttach(t *testing.T) {
	st := startStack(t, "echo: echo ready; while read -r line; do echo \"got $line\"; done\nother: sleep 1000\n", Options{TTY: true})
	st.out.waitFor(t, `^echo\.1\|0\|ready$`)
	var seen syncbuf.Buffer
	a, err := st.r.Attach("echo.1", &seen)
	require.NoError(t, err)
	_, err = a.Write([]byte("hello\r"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(seen.String(), "got hello") }, 10*time.Second, 5*time.Millisecond, "attached output: %q", seen.String())
	st.out.waitFor(t, `^echo\.1\|0\|got hello$`)
	require.NoError(t, a.Resize(WindowSize{Rows: 50, Cols: 100}))
	require.NoError(t, a.Close())
	assert.Equal(t, Running, statusOf(t, st.r, "echo.1").State, "detaching must leave the instance running")
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
}

func TestAttachEndsWhenInstanceExits(t *testing.T) {
	st := startStack(t, "a: read -r line; echo bye; exit 0\nb: sleep 1000\n", Options{TTY: true, CanDie: []string{"a"}})
	st.out.waitFor(t, `^a\.1\|2\|started`)
	var seen syncbuf.Buffer
	a, err := st.r.Attach("a.1", &seen)
	require.NoError(t, err)
	_, err = a.Write([]byte("x\r"))
	require.NoError(t, err)
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("attachment did not end when the instance exited")
	}
	assert.Contains(t, seen.String(), "bye")
	require.NoError(t, a.Close())
}

// TestConcurrentControl has many clients restart and scale at once; then
// the status must match the real processes.
func TestConcurrentControl(t *testing.T) {
	st := startStack(t, "web: sleep 1000\nworker: sleep 1000\n", Options{}, 2, 1)
	st.out.waitFor(t, `worker\.1\|2\|started`)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			var err error
			switch i % 4 {
			case 0:
				err = st.r.Restart("web")
			case 1:
				err = st.r.Scale([]procfile.TypeCount{{Type: "web", Count: 1 + i%3}})
			case 2:
				err = st.r.Scale([]procfile.TypeCount{{Type: "worker", Count: i % 3}})
			case 3:
				err = st.r.Restart("web.1")
			}
			if err != nil {
				assert.ErrorIs(t, err, ErrUnknownName, "request %d", i) // a type may be scaled to 0 meanwhile
			}
		})
	}
	wg.Wait()
	all, err := st.r.Status()
	require.NoError(t, err)
	live := map[int]bool{}
	for _, s := range all {
		assert.Equal(t, Running, s.State, "%s", s.Name)
		require.NotZero(t, s.PID, "%s", s.Name)
		assert.True(t, processExists(s.PID), "%s: pid %d in status is not a live process", s.Name, s.PID)
		live[s.PID] = true
	}
	// Every process with the test token is an instance's sleep, run
	// without a shell (the guardian gets no environment from the stack).
	require.Eventually(t, func() bool {
		return len(survivors(st.token)) == len(all)
	}, 10*time.Second, 10*time.Millisecond, "status %v, processes %v", all, survivors(st.token))
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.assertNoSurvivors()
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func TestDetachWakesBlockedWrite(t *testing.T) {
	// The instance never reads its terminal: keystrokes fill the pty's
	// input buffer and Write blocks until the attachment is closed.
	st := startStack(t, "deaf: echo ready; sleep 1000\n", Options{TTY: true})
	st.out.waitFor(t, `^deaf\.1\|0\|ready$`)
	a, err := st.r.Attach("deaf.1", io.Discard)
	require.NoError(t, err)
	var attempted atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte("x"), 4096)
		for {
			attempted.Add(int64(len(chunk)))
			if _, err := a.Write(chunk); err != nil {
				wrote <- err
				return
			}
		}
	}()
	// The pty holds about 4 KiB of input: by the third chunk Write blocks.
	require.Eventually(t, func() bool { return attempted.Load() >= 3*4096 }, 10*time.Second, time.Millisecond)
	require.NoError(t, a.Close())
	select {
	case err := <-wrote:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the blocked Write")
	}
	assert.Equal(t, Running, statusOf(t, st.r, "deaf.1").State)
}

// TestExitsBeforeRequests: exits that happened while the supervisor was
// busy are handled before a request that waited meanwhile, so that Status
// never gives a process that has already been reaped. (In a restart storm
// every start waits for a fork and an exec; a ps served between two of
// them gave instances as running, with pids that were gone, for a second
// and more.) Here the supervisor is held in an output line while 20
// instances are killed and reaped and a Status request waits.
func TestExitsBeforeRequests(t *testing.T) {
	const n = 20
	st := startStack(t, "block: exec sleep 1000\nquick: exec sleep 1000\n", Options{CanDie: []string{"quick"}}, 1, n)
	st.out.waitCount(t, `\|2\|started with pid`, n+1)
	all, err := st.r.Status()
	require.NoError(t, err)
	var pids []int
	for _, s := range all {
		if s.Type == "quick" {
			pids = append(pids, s.PID)
		}
	}
	require.Len(t, pids, n)

	reached, gate := make(chan struct{}), make(chan struct{})
	st.out.setHook(func(line string) {
		if strings.HasPrefix(line, "restarting block.1 on request") {
			close(reached)
			<-gate
		}
	})
	restarted := make(chan error, 1)
	go func() { restarted <- st.r.Restart("block") }()
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the restart did not reach its output line")
	}
	status := make(chan []Status, 1)
	go func() {
		all, _ := st.r.Status()
		status <- all
	}()
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(-pid, syscall.SIGTERM))
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
				break // reaped
			}
			require.True(t, time.Now().Before(deadline), "pid %d not reaped", pid)
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(gate)
	all = <-status
	for _, s := range all {
		if s.Type == "quick" {
			assert.Equal(t, Exited, s.State, "%s", s.Name)
			assert.Zero(t, s.PID, "%s: its process was reaped before Status was answered", s.Name)
		}
	}
	require.NoError(t, <-restarted)
	st.r.Shutdown()
	assert.Equal(t, 0, st.wait())
	st.assertNoSurvivors()
}
