package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
)

// helperEnv makes the test binary a raw protocol client (see helperDial).
const helperEnv = "PROCTOR_CONTROL_TEST_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(helperDial(path))
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop"))
}

// helperDial connects to the socket at path without any check of its own,
// sends a status request and prints what comes back: the test binary run
// as another user, to see what the server does with it.
func helperDial(path string) int {
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, `{"version":1,"command":"status"}`+"\n")
	out, err := io.ReadAll(c)
	fmt.Print(string(out))
	if err != nil {
		fmt.Println("read:", err)
	}
	return 0
}

// fakeBackend is a Backend whose answers the test sets. Logs go through a
// real output.Mux, as in proctor.
type fakeBackend struct {
	mux *output.Mux

	mu      sync.Mutex
	calls   []string
	procs   []Status
	types   []string
	err     error // returned by Restart, Stop, Scale and Attach when set
	block   chan struct{}
	attach  *fakeAttachment
	filters []func(string) bool
}

func newFakeBackend(t testing.TB) *fakeBackend {
	mux := output.New(io.Discard, output.Options{NoTimestamp: true})
	t.Cleanup(func() { mux.Close() })
	for _, n := range []string{"web.1", "web.2", "worker.1"} {
		mux.Register(n, 0)
	}
	return &fakeBackend{
		mux:   mux,
		types: []string{"web", "worker", "clock"},
		procs: []Status{
			{Name: "web.1", Type: "web", PID: 101, State: "running", Uptime: 1500 * time.Millisecond, Port: 5000, Ready: true},
			{Name: "web.2", Type: "web", PID: 102, State: "running", Uptime: 2 * time.Second, Restarts: 3, Port: 5001},
			{Name: "worker.1", Type: "worker", State: "stopped", Port: 5100},
		},
	}
}

func (b *fakeBackend) record(call string) error {
	b.mu.Lock()
	b.calls = append(b.calls, call)
	err, block := b.err, b.block
	b.mu.Unlock()
	if block != nil {
		<-block
	}
	return err
}

func (b *fakeBackend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

func (b *fakeBackend) Status() ([]Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, "status")
	return append([]Status(nil), b.procs...), nil
}

func (b *fakeBackend) Types() []string { return b.types }

func (b *fakeBackend) Restart(name string) error { return b.record("restart " + name) }

func (b *fakeBackend) Stop(name string) error { return b.record("stop " + name) }

func (b *fakeBackend) Shutdown() error { return b.record("shutdown") }

func (b *fakeBackend) Wait(types []string) error {
	return b.record("wait " + strings.Join(types, ","))
}

func (b *fakeBackend) Scale(counts []procfile.TypeCount) error {
	var parts []string
	for _, tc := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", tc.Type, tc.Count))
	}
	return b.record("scale " + strings.Join(parts, ","))
}

func (b *fakeBackend) Attach(name string, out io.Writer) (Attachment, error) {
	if err := b.record("attach " + name); err != nil {
		return nil, err
	}
	a := newFakeAttachment(out)
	b.mu.Lock()
	b.attach = a
	b.mu.Unlock()
	return a, nil
}

func (b *fakeBackend) Logs(w io.Writer, filter func(string) bool, color bool) func() {
	// Subscribe before recording the call: a test that sees the call
	// may write lines at once and expects them.
	cancel := b.mux.Subscribe(w, filter, color)
	b.mu.Lock()
	b.calls = append(b.calls, fmt.Sprintf("logs color=%v", color))
	b.filters = append(b.filters, filter)
	b.mu.Unlock()
	return cancel
}

// fakeAttachment copies what the test emits to the Attach writer from a
// goroutine of its own, as the runner does.
type fakeAttachment struct {
	emit     chan []byte // close it: the terminal closed
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu     sync.Mutex
	input  bytes.Buffer
	sizes  []WindowSize
	closed bool
	got    chan struct{} // signalled on input or resize
}

func newFakeAttachment(out io.Writer) *fakeAttachment {
	a := &fakeAttachment{emit: make(chan []byte), stop: make(chan struct{}), done: make(chan struct{}), got: make(chan struct{}, 1)}
	go func() {
		defer close(a.done)
		for {
			select {
			case b, ok := <-a.emit:
				if !ok {
					return
				}
				out.Write(b)
			case <-a.stop:
				return
			}
		}
	}()
	return a
}

func (a *fakeAttachment) signal() {
	select {
	case a.got <- struct{}{}:
	default:
	}
}

func (a *fakeAttachment) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.input.Write(p)
	a.signal()
	return len(p), nil
}

func (a *fakeAttachment) Resize(size WindowSize) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sizes = append(a.sizes, size)
	a.signal()
	return nil
}

func (a *fakeAttachment) Done() <-chan struct{} { return a.done }

func (a *fakeAttachment) Close() error {
	a.stopOnce.Do(func() { close(a.stop) })
	<-a.done
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	return nil
}

func (a *fakeAttachment) state() (input string, sizes []WindowSize, closed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.input.String(), append([]WindowSize(nil), a.sizes...), a.closed
}

// serve starts a Server for b on a socket in a new directory; cleanup
// closes it and checks that Serve returned.
func serve(t testing.TB, b Backend) (*Server, *Client) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.sock")
	s, err := Listen(path, b)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		select {
		case err := <-served:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s, &Client{Path: path}
}

// testContext is a context that ends with the test, or after d.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls cond every 5ms until it holds, failing after d.
func waitUntil(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		<-tick.C
	}
}

// rawRequest sends line (a newline is added) on a fresh connection to path
// and returns everything the server sent until it closed the connection.
func rawRequest(t *testing.T, path string, line []byte) (string, error) {
	t.Helper()
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, werr := c.Write(append(line, '\n'))
	out, rerr := io.ReadAll(c)
	if len(out) == 0 {
		return "", errors.Join(werr, rerr)
	}
	return string(out), nil
}
