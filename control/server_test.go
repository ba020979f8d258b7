package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/proctor-run/proctor/procfile"
)

func TestSocketIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".proctor.sock")
	s, err := Listen(path, newFakeBackend(t))
	require.NoError(t, err)
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	// The temporary directory of the bind is removed meanwhile.
	<-s.tmpGone
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the temporary directory of the bind is gone")
	assert.Equal(t, ".proctor.sock", entries[0].Name())

	require.NoError(t, s.Close())
	_, err = os.Lstat(path)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Close removes the socket")
	assert.NoError(t, s.Close(), "Close twice")
}

// Close waits for the temporary directory's removal: nothing of Listen's
// is left once it returns.
func TestCloseLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Listen(filepath.Join(dir, ".proctor.sock"), newFakeBackend(t))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// A umask that would leave the socket open to all changes nothing.
func TestSocketModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "p.sock")
	s, err := Listen(path, newFakeBackend(t))
	require.NoError(t, err)
	defer s.Close()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
}

func TestCloseLeavesAnotherSocketAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	s, err := Listen(path, newFakeBackend(t))
	require.NoError(t, err)
	// Someone removed ours and put another file there.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte("not ours"), 0o600))
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "not ours", string(data))
}

// staleSocket leaves a socket file at path that nobody listens on, as a
// proctor killed with SIGKILL does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	l.SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	_, err = net.Dial("unix", path)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	staleSocket(t, path)
	c := &Client{Path: path}
	_, err := c.Info(testContext(t, 5*time.Second))
	require.ErrorIs(t, err, ErrNoProctor)
	assert.Contains(t, err.Error(), "left by a proctor that is gone")

	s, err := Listen(path, newFakeBackend(t))
	require.NoError(t, err)
	defer s.Close()
	go s.Serve()
	info, err := (&Client{Path: path}).Info(testContext(t, 5*time.Second))
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), info.PID)
}

func TestLiveSocketIsInUse(t *testing.T) {
	s, c := serve(t, newFakeBackend(t))
	_, err := Listen(c.Path, newFakeBackend(t))
	var inUse *InUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, os.Getpid(), inUse.PID)
	assert.Equal(t, c.Path, inUse.Path)
	assert.Contains(t, err.Error(), "a proctor is already running here (pid ")
	// The first server is untouched.
	_, err = c.Info(testContext(t, 5*time.Second))
	require.NoError(t, err)
	assert.Equal(t, c.Path, s.Path())
}

func TestNotASocketIsLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	require.NoError(t, os.WriteFile(path, []byte("data"), 0o644))
	_, err := Listen(path, newFakeBackend(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exists and is not a socket")
	assert.ErrorIs(t, err, ErrNotSocket)
	assert.NotContains(t, err.Error(), "--", "the caller names its flag")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "data", string(data))
}

func TestListenErrors(t *testing.T) {
	_, err := Listen(filepath.Join(t.TempDir(), "missing", "p.sock"), newFakeBackend(t))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "control socket ")
}

func TestSocketPathTooLong(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", maxSocketPath-len(dir)-2))
	require.NoError(t, os.Mkdir(long, 0o700))
	path := filepath.Join(long, "s")
	_, err := Listen(path, newFakeBackend(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the path is too long for a socket: choose one of at most ")
	var tooLong *PathTooLongError
	if assert.ErrorAs(t, err, &tooLong) {
		assert.Equal(t, path, tooLong.Path)
		assert.Less(t, tooLong.Max, len(path))
		assert.NotContains(t, err.Error(), "--", "the caller names its flag")
	}
	_, err = (&Client{Path: path + strings.Repeat("x", 10)}).Status(testContext(t, 5*time.Second))
	assert.ErrorContains(t, err, "the path is too long for a socket")
	entries, err := os.ReadDir(long)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing left behind")
}

func TestNoProctor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	_, err := (&Client{Path: path}).Status(testContext(t, 5*time.Second))
	require.ErrorIs(t, err, ErrNoProctor)
	assert.Equal(t, "no proctor is running here (no socket at "+path+")", err.Error())
}

func TestRequests(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)

	info, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, Info{PID: os.Getpid(), Types: []string{"web", "worker", "clock"}}, info)

	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, Stack{
		Processes: []Process{
			{Name: "web.1", Type: "web", PID: 101, State: "running", UptimeSeconds: 1.5, Port: 5000, Ready: true},
			{Name: "web.2", Type: "web", PID: 102, State: "running", UptimeSeconds: 2, Restarts: 3, Port: 5001},
			{Name: "worker.1", Type: "worker", State: "stopped", Port: 5100},
		},
		Types: []string{"web", "worker", "clock"},
	}, st)

	require.NoError(t, c.Restart(ctx, "web"))
	require.NoError(t, c.Stop(ctx, "web.2"))
	require.NoError(t, c.Scale(ctx, []procfile.TypeCount{{Type: "web", Count: 3}, {Type: "clock", Count: 0}}))
	require.NoError(t, c.Wait(ctx, []string{"web", "clock"}))
	require.NoError(t, c.Wait(ctx, nil))
	require.NoError(t, c.Shutdown(ctx))
	assert.Equal(t, []string{"status", "restart web", "stop web.2", "scale web=3,clock=0", "wait web,clock", "wait ", "shutdown"}, b.Calls())
}

func TestErrorsReachTheClient(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)
	tests := []struct {
		err  error
		code string
	}{
		{errors.New(`no such process "wbe"`), CodeFailed},
		{ErrShuttingDown, CodeShuttingDown},
		{ErrNotRunning, CodeNotRunning},
		{errors.Join(ErrUnknownName, errors.New("x")), CodeUnknownName},
		{errors.Join(ErrNotTTY), CodeNotTTY},
		{errors.Join(ErrNotAlive), CodeNotAlive},
	}
	for _, tt := range tests {
		b.mu.Lock()
		b.err = tt.err
		b.mu.Unlock()
		for _, call := range []func() error{
			func() error { return c.Restart(ctx, "x") },
			func() error { return c.Stop(ctx, "x") },
			func() error { return c.Scale(ctx, []procfile.TypeCount{{Type: "x", Count: 1}}) },
			func() error { _, err := c.Attach(ctx, "x", 0, 0); return err },
		} {
			err := call()
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.code, ce.Code)
			assert.Equal(t, tt.err.Error(), ce.Message)
		}
	}
}

// decode parses one response line.
func decode(t *testing.T, out string) Response {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	var resp Response
	require.NoError(t, json.Unmarshal([]byte(line), &resp), "response %q", out)
	return resp
}

func TestBadRequests(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	tests := []struct {
		name, line, code, msg string
	}{
		{"garbage", "\x00\xff garbage {", CodeBadRequest, "malformed request"},
		{"empty line", "", CodeBadRequest, "malformed request"},
		{"not an object", `[1,2]`, CodeBadRequest, "malformed request"},
		{"no version", `{"command":"status"}`, CodeVersion, "version 0"},
		{"newer version", `{"version":2,"command":"status"}`, CodeVersion, "speaks control protocol version 1, the client version 2"},
		{"unknown command", `{"version":1,"command":"reboot"}`, CodeBadRequest, `unknown command "reboot"`},
		{"restart without name", `{"version":1,"command":"restart"}`, CodeBadRequest, "restart: missing name"},
		{"stop without name", `{"version":1,"command":"stop"}`, CodeBadRequest, "stop: missing name"},
		{"attach without name", `{"version":1,"command":"attach"}`, CodeBadRequest, "attach: missing name"},
		{"scale without formation", `{"version":1,"command":"scale"}`, CodeBadRequest, "scale: no formation"},
		{"wrong field type", `{"version":1,"command":"scale","formation":"web=2"}`, CodeBadRequest, "malformed request"},
		{"too large", `{"version":1,"command":"status","name":"` + strings.Repeat("x", MaxRequest) + `"}`, CodeBadRequest, "request too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := rawRequest(t, c.Path, []byte(tt.line))
			require.NoError(t, err)
			resp := decode(t, out)
			assert.False(t, resp.OK)
			assert.Equal(t, tt.code, resp.Code)
			assert.Contains(t, resp.Error, tt.msg)
		})
	}
	assert.Empty(t, b.Calls(), "no bad request reached the backend")
	// Unknown fields are ignored.
	out, err := rawRequest(t, c.Path, []byte(`{"version":1,"command":"info","future":true}`))
	require.NoError(t, err)
	assert.True(t, decode(t, out).OK)
}

// A 10 MiB line is cut off at MaxRequest: the answer is an error (or the
// connection is dropped while the client still writes), the server keeps
// serving, and it never holds the whole line.
func TestHugeRequest(t *testing.T) {
	_, c := serve(t, newFakeBackend(t))
	huge := bytes.Repeat([]byte("a"), 10<<20)
	out, err := rawRequest(t, c.Path, huge)
	if err == nil {
		resp := decode(t, out)
		assert.Equal(t, CodeBadRequest, resp.Code)
	} else {
		assert.True(t, errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET), "dropped: %v", err)
	}
	// And a request without a newline at all.
	conn, err := net.Dial("unix", c.Path)
	require.NoError(t, err)
	defer conn.Close()
	go conn.Write(huge) // fails once the server closes
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(conn)
	if len(got) > 0 {
		assert.Equal(t, CodeBadRequest, decode(t, string(got)).Code)
	}
	_, err = c.Status(testContext(t, 5*time.Second))
	require.NoError(t, err)
}

func TestSilentClientIsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	s, err := Listen(path, newFakeBackend(t))
	require.NoError(t, err)
	s.requestTimeout = 50 * time.Millisecond
	go s.Serve()
	defer s.Close()
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, err := io.ReadAll(conn)
	require.NoError(t, err)
	resp := decode(t, string(out))
	assert.Equal(t, CodeBadRequest, resp.Code)
	assert.Equal(t, "no request within 50ms", resp.Error)
	// Half a line is no better.
	conn2, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn2.Close()
	conn2.Write([]byte(`{"version":1,`))
	conn2.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, err = io.ReadAll(conn2)
	require.NoError(t, err)
	assert.Equal(t, CodeBadRequest, decode(t, string(out)).Code)
}

// The credential check, in process: a server that serves another user id
// refuses this one before reading anything.
func TestOtherUserIsRefused(t *testing.T) {
	b := newFakeBackend(t)
	path := filepath.Join(t.TempDir(), "p.sock")
	s, err := Listen(path, b)
	require.NoError(t, err)
	s.uid = os.Getuid() + 1
	go s.Serve()
	defer s.Close()
	err = (&Client{Path: path}).Restart(testContext(t, 5*time.Second), "web")
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CodeForbidden, ce.Code)
	assert.Contains(t, ce.Message, "is not the user id of this proctor")
	assert.Empty(t, b.Calls())
}

func TestContextCancelsAWaitingCall(t *testing.T) {
	b := newFakeBackend(t)
	block := make(chan struct{})
	b.block = block
	_, c := serve(t, b)
	ctx, cancel := context.WithCancelCause(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Restart(ctx, "web") }()
	waitUntil(t, 5*time.Second, func() bool { return len(b.Calls()) == 1 }, "the restart to reach the backend")
	stop := errors.New("interrupted")
	cancel(stop)
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, stop)
	case <-time.After(5 * time.Second):
		t.Fatal("Restart did not return when its context ended")
	}
	close(block) // the backend returns, as the runner does when the stack ends
}

func TestLogs(t *testing.T) {
	b := newFakeBackend(t)
	s, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)
	var all, web syncbuf.Buffer
	allDone := make(chan error, 1)
	webDone := make(chan error, 1)
	go func() { allDone <- c.Logs(ctx, nil, false, &all) }()
	go func() { webDone <- c.Logs(ctx, []string{"web"}, true, &web) }()
	waitUntil(t, 5*time.Second, func() bool { return len(b.Calls()) == 3 }, "both subscriptions") // status of the filter, 2 logs

	b.mux.Copy("web.2", 1, strings.NewReader("hello from web\n"))
	b.mux.Copy("worker.1", 1, strings.NewReader("hello from worker\n"))
	b.mux.System("a system line")
	waitUntil(t, 5*time.Second, func() bool { return strings.Contains(all.String(), "a system line") }, "the lines")
	waitUntil(t, 5*time.Second, func() bool { return strings.Contains(web.String(), "a system line") }, "the web lines")
	assert.Equal(t, "web.2    | hello from web\nworker.1 | hello from worker\nsystem   | a system line\n", all.String())
	assert.Contains(t, web.String(), "hello from web")
	assert.Contains(t, web.String(), "\x1b[", "colored on request")
	assert.NotContains(t, web.String(), "worker")

	// The stack ends: the streams end without error.
	require.NoError(t, s.Close())
	for _, ch := range []chan error{allDone, webDone} {
		select {
		case err := <-ch:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Logs did not return when the server closed")
		}
	}
}

func TestLogsFilter(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)
	err := c.Logs(ctx, []string{"web.1", "nope"}, false, io.Discard)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CodeUnknownName, ce.Code)
	assert.Equal(t, `no such process "nope" (running: web.1, web.2, worker.1)`, ce.Message)

	// An instance and a type with no instances (clock) are fine.
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Logs(ctx2, []string{"web.1", "clock"}, false, io.Discard) }()
	waitUntil(t, 5*time.Second, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.filters) == 1
	}, "the subscription")
	f := b.filters[0]
	for name, want := range map[string]bool{"web.1": true, "web.2": false, "worker.1": false, "clock.1": true, "clock.12": true} {
		assert.Equal(t, want, f(name), name)
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// A logs client that never reads does not hold the output back, nor the
// server's Close.
func TestLogsStuckClient(t *testing.T) {
	b := newFakeBackend(t)
	s, c := serve(t, b)
	conn, err := net.Dial("unix", c.Path)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(`{"version":1,"command":"logs"}` + "\n"))
	require.NoError(t, err)
	resp, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, resp, `"ok":true`)
	// Far more than the socket buffers and the subscription's queue hold.
	line := strings.Repeat("x", 1000) + "\n"
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20000 {
			b.mux.Copy("web.1", 1, strings.NewReader(line))
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a stuck logs client slowed the output")
	}
	start := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(start), 2*time.Second, "Close waits for a stuck client only briefly")
}

func TestAttach(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)
	at, err := c.Attach(ctx, "web.1", 30, 100)
	require.NoError(t, err)
	defer at.Close()
	b.mu.Lock()
	fa := b.attach
	b.mu.Unlock()
	_, sizes, _ := fa.state()
	assert.Equal(t, []WindowSize{{Rows: 30, Cols: 100}}, sizes, "the initial size")

	var out syncbuf.Buffer
	type result struct {
		msg string
		err error
	}
	ended := make(chan result, 1)
	go func() {
		msg, err := at.ReadOutput(&out)
		ended <- result{msg, err}
	}()

	big := bytes.Repeat([]byte("k"), 3*MaxFrame+5)
	_, err = at.Write(big)
	require.NoError(t, err)
	require.NoError(t, at.Resize(40, 120))
	waitUntil(t, 5*time.Second, func() bool {
		in, sizes, _ := fa.state()
		return len(in) == len(big) && len(sizes) == 2
	}, "keystrokes and the resize")
	in, sizes, _ := fa.state()
	assert.Equal(t, string(big), in)
	assert.Equal(t, WindowSize{Rows: 40, Cols: 120}, sizes[1])

	fa.emit <- []byte("prompt> ")
	fa.emit <- bytes.Repeat([]byte("o"), MaxFrame+1)
	close(fa.emit) // the instance exited
	select {
	case r := <-ended:
		require.NoError(t, r.err)
		assert.Equal(t, "web.1 exited (its terminal closed)", r.msg)
	case <-time.After(5 * time.Second):
		t.Fatal("no end of the attach")
	}
	assert.Equal(t, "prompt> "+strings.Repeat("o", MaxFrame+1), out.String())
}

func TestAttachDetach(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	at, err := c.Attach(testContext(t, 10*time.Second), "web.1", 0, 0)
	require.NoError(t, err)
	b.mu.Lock()
	fa := b.attach
	b.mu.Unlock()
	_, sizes, _ := fa.state()
	assert.Empty(t, sizes, "no size: none set")
	require.NoError(t, at.Close())
	waitUntil(t, 5*time.Second, func() bool { _, _, closed := fa.state(); return closed }, "the attachment to close")
}

// A client that attaches and never reads loses output; it does not block
// the attachment's writer for good, nor Close.
func TestAttachStuckClient(t *testing.T) {
	b := newFakeBackend(t)
	s, c := serve(t, b)
	at, err := c.Attach(testContext(t, 10*time.Second), "web.1", 0, 0)
	require.NoError(t, err)
	defer at.Close()
	b.mu.Lock()
	fa := b.attach
	b.mu.Unlock()
	// The fake's writer blocks once the socket buffers are full.
	chunk := bytes.Repeat([]byte("o"), 32<<10)
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		for range 200 {
			select {
			case fa.emit <- chunk:
			case <-fa.done:
				return
			}
		}
	}()
	start := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(start), 2*time.Second)
	<-blocked
}

func TestCloseEndsEveryConnection(t *testing.T) {
	b := newFakeBackend(t)
	s, c := serve(t, b)
	idle, err := net.Dial("unix", c.Path)
	require.NoError(t, err)
	defer idle.Close()
	ctx := testContext(t, 10*time.Second)
	logsDone := make(chan error, 1)
	go func() { logsDone <- c.Logs(ctx, nil, false, io.Discard) }()
	at, err := c.Attach(ctx, "web.1", 0, 0)
	require.NoError(t, err)
	defer at.Close()
	attachDone := make(chan error, 1)
	go func() { _, err := at.ReadOutput(io.Discard); attachDone <- err }()
	waitUntil(t, 5*time.Second, func() bool { return len(b.Calls()) == 2 }, "logs and attach")

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	assert.NoError(t, <-logsDone)
	assert.ErrorIs(t, <-attachDone, ErrConnectionLost)
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = idle.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	_, err = c.Status(ctx)
	assert.ErrorIs(t, err, ErrNoProctor)
}

func TestServeTwice(t *testing.T) {
	s, _ := serve(t, newFakeBackend(t))
	waitUntil(t, 5*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.serving
	}, "Serve to start")
	assert.Error(t, s.Serve())
}

// TestStats: the stats request reports proctor's own pid, goroutines, file
// descriptors and heap, without asking the backend, and follows a change
// in them.
func TestStats(t *testing.T) {
	b := newFakeBackend(t)
	_, c := serve(t, b)
	ctx := testContext(t, 10*time.Second)
	pid, st, err := c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), pid)
	assert.Greater(t, st.Goroutines, 1)
	assert.Greater(t, st.FDs, 3, "stdin, stdout, stderr, the listener and the connection")
	assert.Greater(t, st.HeapBytes, uint64(0))

	// Open files and parked goroutines show up; so does their end. (The
	// goroutine and descriptor of the previous connection may still be
	// ending when a count is taken: a slack of 2.)
	var files []*os.File
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		f, err := os.Open(os.DevNull)
		require.NoError(t, err)
		files = append(files, f)
		wg.Go(func() { <-stop })
	}
	_, more, err := c.Stats(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, more.FDs, st.FDs+10-2)
	assert.GreaterOrEqual(t, more.Goroutines, st.Goroutines+10-2)
	for _, f := range files {
		f.Close()
	}
	close(stop)
	wg.Wait()
	waitUntil(t, 5*time.Second, func() bool {
		_, after, err := c.Stats(ctx)
		return err == nil && after.FDs <= st.FDs && after.Goroutines <= st.Goroutines
	}, "the counts to come back down")
	assert.Empty(t, b.Calls(), "stats does not involve the stack")

	// The raw answer, as the package doc gives it.
	out, err := rawRequest(t, c.Path, []byte(`{"version":1,"command":"stats"}`))
	require.NoError(t, err)
	assert.Regexp(t, `^\{"version":1,"ok":true,"pid":\d+,"stats":\{"goroutines":\d+,"fds":\d+,"heap_bytes":\d+\}\}\n$`, out)
}
