package output

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubscribeGetsLinesFilterAndColor(t *testing.T) {
	var main bytes.Buffer
	m := New(&main, Options{Format: JSON, Now: fixedClock})
	m.Register("web.1", 0)
	m.Register("worker.1", 1)

	var all, web syncbuf.Buffer
	cancelAll := m.Subscribe(&all, nil, true)
	cancelWeb := m.Subscribe(&web, func(name string) bool { return name == "web.1" }, false)

	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("hello\n")))
	require.NoError(t, m.Copy("worker.1", Stderr, strings.NewReader("working\n")))
	m.System("started")
	cancelAll()
	cancelWeb()
	cancelWeb() // twice is fine
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("after cancel\n")))
	require.NoError(t, m.Close())

	assert.Equal(t,
		"14:03:07 \x1b[36mweb.1    |\x1b[0m hello\n"+
			"14:03:07 \x1b[33mworker.1 |\x1b[0m working\n"+
			"14:03:07 system   | started\n",
		all.String())
	assert.Equal(t, "14:03:07 web.1    | hello\n14:03:07 system   | started\n", web.String())
	assert.Equal(t, 4, strings.Count(main.String(), "\n"), "main output: %s", main.String())
}

func TestSubscribeWithoutTimestamp(t *testing.T) {
	m := New(io.Discard, Options{NoTimestamp: true, NoPrefix: true})
	var sub syncbuf.Buffer
	cancel := m.Subscribe(&sub, nil, false)
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("x\n")))
	cancel()
	require.NoError(t, m.Close())
	assert.Equal(t, "web.1  | x\n", sub.String(), "subscribers are always prefixed")
}

var subDropped = regexp.MustCompile(`^\d\d:\d\d:\d\d system \| (\d+) lines dropped: this client reads too slowly$`)

// TestSlowSubscriberDoesNotSlowMain: while a subscriber's Write is blocked,
// the main output still gets every line and Copy finishes; the subscriber
// later learns how many lines it missed.
func TestSlowSubscriberDoesNotSlowMain(t *testing.T) {
	var mainLines atomic.Int64
	m := New(writerFunc(func(p []byte) (int, error) {
		mainLines.Add(int64(bytes.Count(p, []byte{'\n'})))
		return len(p), nil
	}), Options{StallTimeout: time.Minute})

	var subOut syncbuf.Buffer
	g := newGateWriter(&subOut)
	cancel := m.Subscribe(g, nil, false)

	const total = 100000
	m.System("first") // makes the subscriber's first Write block
	waitFor(t, g.entered, 5*time.Second, "the subscriber's first Write")
	copied := goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, newLineSource(total, 80))) })
	waitFor(t, copied, 20*time.Second, "Copy, with the subscriber blocked")

	close(g.open)
	cancel()
	require.NoError(t, m.Close())
	assert.EqualValues(t, total+1, mainLines.Load(), "main output lines")

	lines := strings.Split(strings.TrimSuffix(subOut.String(), "\n"), "\n")
	require.NotEmpty(t, lines)
	assert.Regexp(t, `system \| first$`, lines[0])
	written, dropped := 0, 0
	for _, l := range lines[1:] {
		if s := subDropped.FindStringSubmatch(l); s != nil {
			n, _ := strconv.Atoi(s[1])
			dropped += n
			continue
		}
		require.Regexp(t, `^\d\d:\d\d:\d\d web\.1  \| [a-z]{79}$`, l)
		written++
	}
	assert.Positive(t, dropped, "dropped lines reported to the subscriber")
	assert.Equal(t, total, written+dropped, "written + reported dropped")
}

func TestCancelGivesUpOnBlockedSubscriber(t *testing.T) {
	const stall = 200 * time.Millisecond
	m := New(io.Discard, Options{StallTimeout: stall})
	g := newGateWriter(io.Discard)
	cancel := m.Subscribe(g, nil, false)
	s := (*m.subs.Load())[0]
	m.System("blocks")
	waitFor(t, g.entered, 5*time.Second, "the subscriber's Write")

	start := time.Now()
	cancel()
	assert.Less(t, time.Since(start), stall+time.Second, "cancel took too long")
	m.System("main output still works")
	require.NoError(t, m.Close())

	close(g.open)
	waitFor(t, s.q.done, 5*time.Second, "the abandoned subscriber goroutine")
}

func TestCloseDetachesSubscribers(t *testing.T) {
	m := New(io.Discard, Options{NoTimestamp: true})
	var live syncbuf.Buffer
	cancelLive := m.Subscribe(&live, nil, false)
	g := newGateWriter(io.Discard)
	m.Subscribe(g, nil, false)
	stuck := (*m.subs.Load())[1]
	m.System("bye")
	waitFor(t, g.entered, 5*time.Second, "the stuck subscriber's Write")

	start := time.Now()
	require.NoError(t, m.Close())
	assert.Less(t, time.Since(start), subCloseWait+time.Second, "a stuck subscriber delayed Close")
	assert.Equal(t, "system | bye\n", live.String())
	cancelLive() // after Close: nothing left to do

	close(g.open)
	waitFor(t, stuck.q.done, 5*time.Second, "the abandoned subscriber goroutine")
}

func TestSubscriberWriteErrorIsIgnored(t *testing.T) {
	var main bytes.Buffer
	m := New(&main, Options{NoTimestamp: true})
	cancel := m.Subscribe(&errWriter{err: io.ErrClosedPipe}, nil, false)
	m.System("one")
	m.System("two")
	cancel()
	require.NoError(t, m.Close())
	assert.Equal(t, "system | one\nsystem | two\n", main.String())
}

// TestLogTo: a log file gets the bare lines of the instances it is for,
// whole, with no system line, and whatever the main output's format.
func TestLogTo(t *testing.T) {
	var main bytes.Buffer
	m := New(&main, Options{Format: JSON, Color: true, Now: fixedClock})
	m.Register("web.1", 0)
	m.Register("web.2", 0)
	m.Register("worker.1", 1)
	var web syncbuf.Buffer
	cancel := m.LogTo(&web, func(name string) bool { return strings.HasPrefix(name, "web.") }, func(err error) { t.Errorf("failed: %v", err) })
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("hello \x1b[1mbold\x1b[0m\r\nlast without newline")))
	require.NoError(t, m.Copy("worker.1", Stdout, strings.NewReader("working\n")))
	require.NoError(t, m.Copy("web.2", Stderr, strings.NewReader("oops\n")))
	m.System("web.1 exited with code 0")
	require.NoError(t, m.Copy("web.1", System, strings.NewReader("started with pid 42\n")))
	cancel()
	require.NoError(t, m.Close())
	assert.Equal(t, "hello \x1b[1mbold\x1b[0m\nlast without newline\noops\n", web.String())
	assert.Contains(t, main.String(), `"line":"working"`, "the main output is untouched")
}

// TestLogToFailure: a log file whose Write fails is reported once, and the
// main output goes on.
func TestLogToFailure(t *testing.T) {
	var main syncbuf.Buffer
	m := New(&main, Options{NoTimestamp: true})
	m.Register("web.1", 0)
	failures := make(chan error, 10)
	m.LogTo(failWriter{}, nil, func(err error) { failures <- err })
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("one\n")))
	select {
	case err := <-failures:
		assert.ErrorIs(t, err, io.ErrClosedPipe)
	case <-time.After(10 * time.Second):
		t.Fatal("the failure was not reported")
	}
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("two\n")))
	require.NoError(t, m.Close())
	assert.Empty(t, failures, "reported once")
	assert.Equal(t, "web.1  | one\nweb.1  | two\n", main.String())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
