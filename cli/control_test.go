package cli

// The control server in front of a real runner: stackBackend, control's
// server and client, and the runner together, in process.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/runner"
)

// liveStack is a runner with a control server, started by startLiveStack.
type liveStack struct {
	client *control.Client
	out    *syncbuf.Buffer
	token  string
}

// startLiveStack runs procfile with a real runner and serves it; cleanup
// stops it and waits for every goroutine.
func startLiveStack(t *testing.T, text string, opts runner.Options) *liveStack {
	t.Helper()
	entries, err := procfile.Parse(strings.NewReader(text))
	require.NoError(t, err)
	st := &liveStack{out: &syncbuf.Buffer{}, token: fmt.Sprintf("CONTROL_TEST_TOKEN=%s-%d", t.Name(), time.Now().UnixNano())}
	mux := output.New(st.out, output.Options{NoTimestamp: true})
	opts.App = procfile.App{Entries: entries, Ports: procfile.Ports{Base: 47000, Step: 100}, Environ: append(os.Environ(), st.token)}
	opts.Plan, err = opts.App.Plan(slices.Repeat([]int{1}, len(entries)))
	require.NoError(t, err)
	opts.Dir = t.TempDir()
	opts.Output = mux
	opts.Timeout = 2 * time.Second
	r, err := runner.New(opts)
	require.NoError(t, err)
	s, err := control.Listen(filepath.Join(t.TempDir(), "p.sock"), stackBackend{r: r, mux: mux, types: procfile.Names(entries)})
	require.NoError(t, err)
	st.client = &control.Client{Path: s.Path()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.Serve()
	}()
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		r.Run(context.Background())
	}()
	t.Cleanup(func() {
		r.Shutdown()
		select {
		case <-ran:
		case <-time.After(20 * time.Second):
			t.Error("the runner did not stop")
		}
		s.Close()
		<-served
		mux.Close()
		for _, pid := range st.processes() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return st
}

// processes returns the live processes carrying the stack's token, with
// their parent pids.
func (st *liveStack) processes() map[int]int {
	want := []byte(st.token + "\x00")
	entries, _ := os.ReadDir("/proc")
	procs := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		procs[pid] = ppid
	}
	return procs
}

// consistent reports why the status disagrees with /proc, or "".
func consistent(stack control.Stack, procs map[int]int) string {
	byType := map[string][]int{}
	pids := map[int]bool{}
	for _, p := range stack.Processes {
		if p.State != "running" || p.PID == 0 {
			return fmt.Sprintf("%s is %s (pid %d)", p.Name, p.State, p.PID)
		}
		if _, ok := procs[p.PID]; !ok {
			return fmt.Sprintf("%s: pid %d is not alive", p.Name, p.PID)
		}
		pids[p.PID] = true
		num, _ := strconv.Atoi(strings.TrimPrefix(p.Name, p.Type+"."))
		byType[p.Type] = append(byType[p.Type], num)
	}
	for typ, nums := range byType {
		for i, n := range nums {
			if n != i+1 {
				return fmt.Sprintf("%s instances are numbered %v", typ, nums)
			}
		}
	}
	for pid, ppid := range procs {
		if !pids[pid] && !pids[ppid] {
			return fmt.Sprintf("pid %d (parent %d) belongs to no instance", pid, ppid)
		}
	}
	return ""
}

// TestConcurrentClients: 20 clients restarting and scaling at once leave a
// stack whose status matches the processes that really run, and none of it
// shuts the stack down.
func TestConcurrentClients(t *testing.T) {
	st := startLiveStack(t, "web: sleep 1000\nworker: sleep 1000\nclock: sleep 1000\n", runner.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	waitFor(t, 10*time.Second, func() bool {
		s, err := st.client.Status(ctx)
		return err == nil && consistent(s, st.processes()) == ""
	}, "the stack to start")

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 20 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for range 4 {
				var err error
				switch rng.IntN(5) {
				case 0:
					err = st.client.Restart(ctx, "web")
				case 1:
					err = st.client.Restart(ctx, "worker.1")
				case 2:
					err = st.client.Scale(ctx, []procfile.TypeCount{{Type: "web", Count: 1 + rng.IntN(4)}, {Type: "clock", Count: rng.IntN(3)}})
				case 3:
					err = st.client.Scale(ctx, []procfile.TypeCount{{Type: "worker", Count: 1 + rng.IntN(3)}})
				case 4:
					_, err = st.client.Status(ctx)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Instances stopped by the last requests may leave group members for
	// a moment; the state settles without anyone asking.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := st.client.Status(ctx)
		require.NoError(t, err)
		why := consistent(s, st.processes())
		if why == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status does not match /proc: %s\nstatus: %+v\nprocesses: %v", why, s.Processes, st.processes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.NotContains(t, st.out.String(), "sending SIGTERM to all processes")
}

// TestControlErr: a runner error reaches the control server with its
// message, matching control's error of the same meaning, which gives the
// answer its code.
func TestControlErr(t *testing.T) {
	for _, p := range runnerToControl {
		err := controlErr(fmt.Errorf("%w %q", p.runner, "wbe"))
		assert.ErrorIs(t, err, p.control)
		assert.ErrorIs(t, err, p.runner)
		assert.Equal(t, fmt.Sprintf("%v %q", p.runner, "wbe"), err.Error())
	}
	plain := errors.New("boom")
	assert.Equal(t, plain, controlErr(plain))
	assert.NoError(t, controlErr(nil))
}

// TestListenErrorsNameTheFlag: an error of control.Listen that says to
// choose another path names --socket, as start reports it.
func TestListenErrorsNameTheFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	require.NoError(t, os.WriteFile(path, []byte("data"), 0o644))
	_, err := control.Listen(path, stackBackend{})
	require.Error(t, err)
	got, named := withSocketFlag(err)
	assert.True(t, named)
	assert.Equal(t, "control socket "+path+": "+path+" exists and is not a socket; remove it, or choose another path with --socket", got.Error())
	assert.ErrorIs(t, got, control.ErrNotSocket)

	missing := filepath.Join(t.TempDir(), "missing", "p.sock")
	_, err = control.Listen(missing, stackBackend{})
	require.Error(t, err)
	got, named = withSocketFlag(err)
	assert.False(t, named)
	assert.Equal(t, err, got)
}
