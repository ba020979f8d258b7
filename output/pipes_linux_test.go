package output

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newLoopPipe returns a pipe as the runner makes one for CopyPipe: the
// read end non-blocking, the write end an *os.File the test writes.
func newLoopPipe(t *testing.T) (int, *os.File) {
	t.Helper()
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	require.NoError(t, unix.SetNonblock(p[0], true))
	return p[0], os.NewFile(uintptr(p[1]), "|1")
}

// pipeDone collects the results of CopyPipe calls.
type pipeDone struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[string]error
}

// fn returns the done function of name's CopyPipe.
func (d *pipeDone) fn(name string) func(error) {
	d.wg.Add(1)
	return func(err error) {
		d.mu.Lock()
		if d.errs == nil {
			d.errs = map[string]error{}
		}
		_, twice := d.errs[name]
		d.errs[name] = err
		d.mu.Unlock()
		if twice {
			panic("done called twice for " + name)
		}
		d.wg.Done()
	}
}

// wait waits for every done, at most d.
func (d *pipeDone) wait(t *testing.T, timeout time.Duration) map[string]error {
	t.Helper()
	waitFor(t, goDone(d.wg.Wait), timeout, "every CopyPipe's done")
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errs
}

// splitOutput parses NoTimestamp text output into each name's lines.
func splitOutput(t *testing.T, out []byte, width int) map[string][][]byte {
	t.Helper()
	got := map[string][][]byte{}
	for len(out) > 0 {
		i := bytes.IndexByte(out, '\n')
		require.GreaterOrEqual(t, i, 0, "output ends without a line end")
		line := out[:i]
		out = out[i+1:]
		require.Greater(t, len(line), width+2, "line too short for a prefix: %.80q", line)
		name := strings.TrimRight(string(line[:width]), " ")
		require.Equal(t, " | ", string(line[width:width+3]), "bad separator in %.80q", line)
		got[name] = append(got[name], line[width+3:])
	}
	return got
}

// TestCopyPipeKeepsLinesWhole: 24 pipes read by the pipe loop, written at
// once in pieces of random size, slow (a few bytes at a time, so lines
// straddle reads in the loop) or in bursts of much more (which hand the
// pipe to a goroutine of its own, mid-line): every line, and every piece of a line
// longer than the line limit, arrives whole, once, in order, under its
// own name, and every done gets nil.
func TestCopyPipeKeepsLinesWhole(t *testing.T) {
	const pipes = 24
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true, StallTimeout: time.Minute})
	m.maxLine = 300 // pieces of long lines are common
	names := make([]string, pipes)
	data := make([][]byte, pipes)
	for i := range pipes {
		names[i] = "p." + strconv.Itoa(i+10)
		// A slow pipe's data stays under startBuf, so no read of it can
		// fill the loop's buffer however late the loop reads.
		lines, lengths := 30, []int{0, 1, 40, 299, 300, 301}
		if i%4 == 0 {
			lines, lengths = 200, append(lengths, 1000)
		}
		var b bytes.Buffer
		for j := range lines {
			b.WriteString(names[i] + "#" + strconv.Itoa(j) + ":")
			b.Write(alphabet[j%26 : j%26+lengths[rng.IntN(len(lengths))]])
			b.WriteString([]string{"\n", "\r\n"}[rng.IntN(2)])
		}
		if i%3 == 0 {
			b.WriteString("no line end")
		}
		data[i] = b.Bytes()
	}
	var done pipeDone
	var writers sync.WaitGroup
	for i := range pipes {
		fd, w := newLoopPipe(t)
		m.CopyPipe(names[i], Stream(i%2), fd, done.fn(names[i]))
		burst := i%4 == 0
		wr := rand.New(rand.NewPCG(seed, uint64(i)))
		writers.Go(func() {
			defer w.Close()
			d := data[i]
			for len(d) > 0 {
				n := 1 + wr.IntN(40)
				if burst {
					n = 1 + wr.IntN(3*startBuf)
				}
				n = min(n, len(d))
				if _, err := w.Write(d[:n]); err != nil {
					t.Errorf("%s: write: %v", names[i], err)
					return
				}
				d = d[n:]
			}
		})
	}
	writers.Wait()
	errs := done.wait(t, time.Minute)
	require.NoError(t, m.Close())
	for _, name := range names {
		assert.NoError(t, errs[name], "%s: done", name)
	}
	got := splitOutput(t, []byte(out.String()), 6)
	for i, name := range names {
		want := refLines(data[i], m.maxLine)
		require.Equal(t, len(want), len(got[name]), "%s: number of lines", name)
		for j := range want {
			if !bytes.Equal(want[j], got[name][j]) {
				t.Fatalf("%s: line %d: got %q, want %q", name, j, got[name][j], want[j])
			}
		}
	}
	assert.Zero(t, m.pipeBytes.Load(), "pipe budget in use once every pipe ended")
	assert.Positive(t, m.handoffs.Load(), "fast pipes handed to goroutines of their own")
	assert.Less(t, m.handoffs.Load(), int64(pipes), "pipes handed off: slow ones stay in the loop")
}

// TestCopyPipeQuietHoldsNoBuffer: 200 pipes of the loop whose children
// printed a line and went quiet hold no read buffer (the heap grows by far
// less than 200 of them), and no goroutine each.
func TestCopyPipeQuietHoldsNoBuffer(t *testing.T) {
	const pipes = 200
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true})
	for i := range pipes {
		m.Register("web."+strconv.Itoa(i+1), i)
	}
	before := liveHeap()
	goroutinesBefore := runtime.NumGoroutine()
	var done pipeDone
	writers := make([]*os.File, pipes)
	for i := range pipes {
		fd, w := newLoopPipe(t)
		writers[i] = w
		defer w.Close()
		m.CopyPipe("web."+strconv.Itoa(i+1), Stdout, fd, done.fn(strconv.Itoa(i)))
		_, err := w.WriteString("half a line, ")
		require.NoError(t, err)
		_, err = w.WriteString("the other half\n")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return strings.Count(out.String(), "the other half\n") == pipes },
		10*time.Second, time.Millisecond, "%d lines", pipes)
	liveHeap() // the pool's buffers survive one collection
	grown := int64(liveHeap()) - int64(before)
	goroutines := runtime.NumGoroutine() - goroutinesBefore
	t.Logf("%d quiet pipes: heap grew by %d KiB, %d goroutines more", pipes, grown>>10, goroutines)
	assert.Less(t, grown, int64(pipes*startBuf/4), "heap growth for %d quiet pipes", pipes)
	assert.Less(t, goroutines, 10, "goroutines for %d quiet pipes", pipes)

	for _, w := range writers {
		w.Close()
	}
	for name, err := range done.wait(t, 10*time.Second) {
		assert.NoError(t, err, "pipe %s", name)
	}
	require.NoError(t, m.Close())
	assert.Equal(t, pipes, strings.Count(out.String(), "| half a line, the other half\n"), "whole lines")
}

// TestCopyPipeEnds: a pipe whose writer is gone before the loop reads it
// ends at once, its last line written with a line end added.
func TestCopyPipeEnds(t *testing.T) {
	for _, data := range []string{"", "last\n", "no line end"} {
		fd, w := newLoopPipe(t)
		_, err := w.WriteString(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		out := &syncbuf.Buffer{}
		m := New(out, Options{NoTimestamp: true})
		var done pipeDone
		m.CopyPipe("web.1", Stdout, fd, done.fn("web.1"))
		assert.NoError(t, done.wait(t, 10*time.Second)["web.1"], "done for %q", data)
		require.NoError(t, m.Close())
		want := ""
		if data != "" {
			want = "web.1  | " + strings.TrimSuffix(data, "\n") + "\n"
		}
		assert.Equal(t, want, out.String(), "output for %q", data)
	}
}

// TestAbortPipes: AbortPipes ends the pipes still open, in the loop or
// handed to a goroutine (a fast child), with os.ErrClosed, and every pipe
// given after it at once.
func TestAbortPipes(t *testing.T) {
	m := New(&syncbuf.Buffer{}, Options{NoTimestamp: true})
	var done pipeDone
	quietFd, quiet := newLoopPipe(t)
	defer quiet.Close()
	m.CopyPipe("quiet.1", Stdout, quietFd, done.fn("quiet"))
	fastFd, fast := newLoopPipe(t)
	defer fast.Close()
	m.CopyPipe("fast.1", Stdout, fastFd, done.fn("fast"))
	// Two full pipes of lines: the loop's first read fills its buffer.
	chunk := []byte(strings.Repeat(strings.Repeat("x", 79)+"\n", 2*startBuf/80))
	for range 4 {
		_, err := fast.Write(chunk)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		m.pipeFiles.mu.Lock()
		defer m.pipeFiles.mu.Unlock()
		return len(m.pipeFiles.files) == 1
	}, 10*time.Second, time.Millisecond, "the fast pipe handed to a goroutine")
	m.AbortPipes()
	errs := done.wait(t, 10*time.Second)
	assert.ErrorIs(t, errs["quiet"], os.ErrClosed, "the quiet pipe's end")
	assert.ErrorIs(t, errs["fast"], os.ErrClosed, "the fast pipe's end")

	lateFd, late := newLoopPipe(t)
	defer late.Close()
	var lateDone pipeDone
	m.CopyPipe("late.1", Stdout, lateFd, lateDone.fn("late"))
	assert.ErrorIs(t, lateDone.wait(t, 10*time.Second)["late"], os.ErrClosed, "a pipe given after AbortPipes")
	require.NoError(t, m.Close())
	// Every read end is closed: writing gets EPIPE.
	for _, w := range []*os.File{quiet, fast, late} {
		_, err := w.Write([]byte("more\n"))
		assert.ErrorIs(t, err, unix.EPIPE, "writing %s after AbortPipes", w.Name())
	}
}

// TestCopyPipeSlowBlockWriterStaysInLoop: a slow child whose stdio writes
// 4 KiB blocks ending mid-line is not taken for a fast one: its partial
// line is kept at the front of the buffer, so no read fills it. Each block
// is written once the loop has read the one before (its last whole line is
// out).
func TestCopyPipeSlowBlockWriterStaysInLoop(t *testing.T) {
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true})
	fd, w := newLoopPipe(t)
	defer w.Close()
	var done pipeDone
	m.CopyPipe("slow.1", Stdout, fd, done.fn("slow"))
	var data bytes.Buffer
	for i := 0; data.Len() < 12*4096; i++ {
		data.WriteString("line " + strconv.Itoa(i) + " " + strings.Repeat("x", 90) + "\n")
	}
	all := data.Bytes()
	for off := 0; off < len(all); off += 4096 {
		block := all[off:min(off+4096, len(all))]
		_, err := w.Write(block)
		require.NoError(t, err)
		whole := all[:off+bytes.LastIndexByte(block, '\n')+1]
		last := whole[bytes.LastIndexByte(whole[:len(whole)-1], '\n')+1:]
		want := "slow.1 | " + string(last)
		require.Eventually(t, func() bool { return strings.HasSuffix(out.String(), want) },
			10*time.Second, time.Millisecond, "%q out", want)
	}
	assert.Zero(t, m.handoffs.Load(), "pipes handed to a goroutine of their own")
	w.Close()
	assert.NoError(t, done.wait(t, 10*time.Second)["slow"])
	require.NoError(t, m.Close())
	assert.Equal(t, strings.Count(string(all), "\n"), strings.Count(out.String(), "slow.1 | line "), "lines")
}

// TestAbortPipesWritesPartialLines: a partial line held when AbortPipes
// closes a pipe is written, as at the end of the pipe.
func TestAbortPipesWritesPartialLines(t *testing.T) {
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true})
	fd, w := newLoopPipe(t)
	defer w.Close()
	var done pipeDone
	m.CopyPipe("web.1", Stdout, fd, done.fn("web"))
	_, err := w.WriteString("whole\nhalf a line")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "| whole\n") },
		10*time.Second, time.Millisecond, "the whole line out")
	m.AbortPipes()
	assert.ErrorIs(t, done.wait(t, 10*time.Second)["web"], os.ErrClosed)
	require.NoError(t, m.Close())
	assert.Equal(t, "web.1  | whole\nweb.1  | half a line\n", out.String())
}

// TestAbortPipesBeforeFirstCopyPipe: pipes given after AbortPipes are
// closed at once, even when no pipe was given before it.
func TestAbortPipesBeforeFirstCopyPipe(t *testing.T) {
	m := New(&syncbuf.Buffer{}, Options{NoTimestamp: true})
	m.AbortPipes()
	fd, w := newLoopPipe(t)
	defer w.Close()
	var done pipeDone
	m.CopyPipe("web.1", Stdout, fd, done.fn("web"))
	assert.ErrorIs(t, done.wait(t, 10*time.Second)["web"], os.ErrClosed)
	require.NoError(t, m.Close())
	_, err := w.Write([]byte("x\n"))
	assert.ErrorIs(t, err, unix.EPIPE, "the read end is closed")
}

// TestAbortPipesAfterClose writes nothing into the descriptor that had
// the loop's number for its wakeups, which a later open may reuse.
func TestAbortPipesAfterClose(t *testing.T) {
	m := New(&syncbuf.Buffer{}, Options{NoTimestamp: true})
	fd, w := newLoopPipe(t)
	var done pipeDone
	m.CopyPipe("web.1", Stdout, fd, done.fn("web"))
	w.Close()
	require.NoError(t, done.wait(t, 10*time.Second)["web"])
	wake := m.loop.Load().wake
	require.NoError(t, m.Close())
	// The lowest free number is taken first: wake's, or one below it.
	var ends []int
	defer func() {
		for _, e := range ends {
			unix.Close(e)
		}
	}()
	reused := -1
	for reused < 0 && len(ends) < 64 {
		var p [2]int
		require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK))
		ends = append(ends, p[0], p[1])
		if p[0] == wake || p[1] == wake {
			reused = p[0] // the read end of the pipe that took the number
		}
	}
	if reused < 0 {
		t.Skipf("descriptor %d was not reused", wake)
	}
	m.AbortPipes()
	var b [16]byte
	n, err := unix.Read(reused, b[:])
	assert.Equal(t, unix.EAGAIN, err, "read %d bytes %x from the pipe that has the old number", n, b[:max(n, 0)])
}

// TestHandedOffQuietPipeHoldsNoBuffer: a fast child handed to a goroutine
// of its own that goes quiet waits for its pipe without a read buffer, as
// a Copy does: its goroutine is parked in readyWaiter.wait, not in Read.
func TestHandedOffQuietPipeHoldsNoBuffer(t *testing.T) {
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true})
	fd, w := newLoopPipe(t)
	defer w.Close()
	// Twice the loop's buffer, in the pipe before the loop reads it: the
	// first read fills the buffer, and the goroutine it goes to drains the
	// rest at once.
	line := strings.Repeat("x", 79) + "\n"
	chunk := []byte(strings.Repeat(line, 2*startBuf/len(line)))
	_, err := w.Write(chunk)
	require.NoError(t, err)
	var done pipeDone
	m.CopyPipe("fast.1", Stdout, fd, done.fn("fast"))
	want := bytes.Count(chunk, []byte("\n"))
	var where string
	deadline := time.Now().Add(10 * time.Second)
	for where == "" {
		require.True(t, time.Now().Before(deadline), "the handed-off pipe's goroutine did not wait (lines out: %d of %d)", strings.Count(out.String(), "\n"), want)
		time.Sleep(time.Millisecond)
		if m.handoffs.Load() != 1 || strings.Count(out.String(), "\n") != want {
			continue
		}
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if !strings.Contains(g, "output.(*copyLoop).follow") {
				continue
			}
			switch {
			case strings.Contains(g, "output.(*readyWaiter).wait"):
				where = "readyWaiter.wait"
			case strings.Contains(g, "os.(*File).Read"):
				where = "File.Read"
			}
		}
	}
	assert.Equal(t, "readyWaiter.wait", where, "where the quiet handed-off pipe waits")
	w.Close()
	assert.NoError(t, done.wait(t, 10*time.Second)["fast"])
	require.NoError(t, m.Close())
}
