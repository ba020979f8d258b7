package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourceData builds the bytes one test child writes: numbered lines of
// varied lengths, some of them MaxLine or longer, some ended by "\r\n",
// and no final line end when partial is set.
func sourceData(name string, rng *rand.Rand, lines int, partial bool) []byte {
	var b bytes.Buffer
	lengths := []int{0, 1, 79, 80, 4095, 4096, 70000}
	for i := range lines {
		n := lengths[rng.IntN(len(lengths))]
		switch i {
		case lines / 3:
			n = MaxLine // exactly the longest whole line
		case 2 * lines / 3:
			n = MaxLine + MaxLine/2 // written in two pieces
		}
		fmt.Fprintf(&b, "%s#%d:", name, i)
		b.Write(alphabet[i%26 : i%26+n])
		if i == lines-1 && partial {
			break
		}
		if rng.IntN(4) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// alphabet is the filler of the test lines: a window of it at offset
// i%26 is a line of any length up to 2*MaxLine.
var alphabet = bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 2*MaxLine/26+2)

// TestConcurrentCopiesKeepLinesWhole runs many Copy calls at once, from OS
// pipes and io.Pipes, and checks that every line (and every piece of an
// over-long line) arrives whole, exactly once, in order, with its own
// prefix, never interleaved with another.
func TestConcurrentCopiesKeepLinesWhole(t *testing.T) {
	const sources = 6
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	names := make([]string, sources)
	data := make([][]byte, sources)
	total := 0
	for i := range sources {
		names[i] = "src" + strings.Repeat("x", i) + "." + strconv.Itoa(i+1)
		data[i] = sourceData(names[i], rng, 40, i%2 == 0)
		total += 2 * len(data[i])
	}
	// The buffer never grows during the test: growing a big buffer under
	// the race detector on a busy machine can take seconds, and a Write
	// that slow would rightly make the Mux drop lines. The stall timeout is
	// raised for the same reason: this test is about lines, not drops.
	var out bytes.Buffer
	out.Grow(total)
	m := New(&out, Options{NoTimestamp: true, StallTimeout: time.Minute})
	for i := range sources {
		m.Register(names[i], i)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*sources)
	for i := range sources {
		var r io.Reader
		var w io.WriteCloser
		if i%2 == 0 {
			pr, pw, err := os.Pipe()
			require.NoError(t, err)
			r, w = pr, pw
			defer pr.Close()
		} else {
			r, w = io.Pipe()
		}
		wg.Go(func() { errs <- m.Copy(names[i], Stream(i%2), r) })
		wg.Go(func() {
			// Write in random-sized pieces so lines straddle reads.
			d := data[i]
			wr := rand.New(rand.NewPCG(uint64(i), 2))
			for len(d) > 0 {
				n := min(len(d), 1+wr.IntN(100000))
				if _, err := w.Write(d[:n]); err != nil {
					errs <- err
					return
				}
				d = d[n:]
			}
			errs <- w.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, m.Close())

	width := len(names[sources-1])
	got := map[string][][]byte{}
	rest := out.Bytes()
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		require.GreaterOrEqual(t, i, 0, "output ends without a line end")
		line := rest[:i]
		rest = rest[i+1:]
		require.Greater(t, len(line), width+3, "line too short for a prefix: %.80q", line)
		name := strings.TrimRight(string(line[:width]), " ")
		require.Equal(t, " | ", string(line[width:width+3]), "bad separator in %.80q", line)
		got[name] = append(got[name], line[width+3:])
	}
	for _, l := range got["system"] {
		t.Errorf("system line: %q", l)
	}
	for i, name := range names {
		want := refLines(data[i], MaxLine)
		require.Equal(t, len(want), len(got[name]), "%s: number of lines", name)
		for j := range want {
			if !bytes.Equal(want[j], got[name][j]) {
				t.Fatalf("%s: line %d: got %d bytes %.60q, want %d bytes %.60q",
					name, j, len(got[name][j]), got[name][j], len(want[j]), want[j])
			}
		}
	}
}

// TestChunkingDoesNotMatter feeds the same bytes in different read sizes,
// with a small line limit so pieces and "\r\n" straddling reads are common.
func TestChunkingDoesNotMatter(t *testing.T) {
	inputs := []string{
		"",
		"a",
		"\n",
		"\r\n",
		"abc\r",
		"abcdefgh\r\n",
		"abcdefg\r\nx",
		"abcdefgh\rx\n",
		"0123456789abcdefghij\n\n\r\nxyz",
		"abcdefghijklmnop\r\n",
		"abcdefgh\r\r\n",
	}
	for _, in := range inputs {
		want := render(refLines([]byte(in), 8))
		for _, sizes := range [][]int{nil, {1}, {2}, {3, 1}, {7}, {8}, {9}, {10}, {100}} {
			got := copyChunked(t, []byte(in), sizes, 8)
			assert.Equal(t, want, got, "input %q read in %v", in, sizes)
		}
	}
}

// render formats lines as the Mux does with NoTimestamp for name "t.1".
func render(lines [][]byte) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("t.1    | ")
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func copyChunked(t testing.TB, data []byte, sizes []int, maxLine int) string {
	var buf bytes.Buffer
	m := New(&buf, Options{NoTimestamp: true})
	m.maxLine = maxLine
	if err := m.Copy("t.1", Stdout, &chunkReader{data: data, sizes: sizes}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestLongLines(t *testing.T) {
	tests := []struct {
		name   string
		data   func() io.Reader
		pieces []int // content lengths of the output lines
	}{
		{"exactly MaxLine", func() io.Reader { return lineOf(MaxLine, "\n") }, []int{MaxLine}},
		{"exactly MaxLine with crlf", func() io.Reader { return lineOf(MaxLine, "\r\n") }, []int{MaxLine}},
		{"exactly MaxLine at EOF", func() io.Reader { return lineOf(MaxLine, "") }, []int{MaxLine}},
		{"MaxLine plus one", func() io.Reader { return lineOf(MaxLine+1, "\n") }, []int{MaxLine, 1}},
		{"MaxLine plus cr at EOF", func() io.Reader { return lineOf(MaxLine, "\r") }, []int{MaxLine, 1}},
		{"two and a half MaxLine", func() io.Reader { return lineOf(2*MaxLine+MaxLine/2, "\n") }, []int{MaxLine, MaxLine, MaxLine / 2}},
		{"twice MaxLine", func() io.Reader { return lineOf(2*MaxLine, "\r\n") }, []int{MaxLine, MaxLine}},
		{"past 64 KiB", func() io.Reader { return lineOf(200000, "\n") }, []int{200000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := New(&buf, Options{NoTimestamp: true, StallTimeout: time.Minute})
			require.NoError(t, m.Copy("web.1", Stdout, tt.data()))
			require.NoError(t, m.Close())
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			require.Len(t, lines, len(tt.pieces))
			for i, l := range lines {
				require.True(t, strings.HasPrefix(l, "web.1  | "), "line %d prefix: %.20q", i, l)
				assert.Len(t, l, len("web.1  | ")+tt.pieces[i], "line %d", i)
			}
		})
	}
}

// lineOf returns a reader of n bytes 'x' followed by end.
func lineOf(n int, end string) io.Reader {
	return io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{'x'}, n)), strings.NewReader(end))
}

// endless yields n bytes of 'x' and no line end, without holding them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(int64(len(p)), e.n)], xs)
	e.n -= int64(k)
	return k, nil
}

var xs = bytes.Repeat([]byte{'x'}, 256<<10)

// liveHeap collects garbage and returns the bytes of the heap still in use.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// pieceCounter checks output lines of the same length and counts them,
// holding none, and samples the live heap (from inside Write, while the
// Mux holds the most: a batch in flight and full buffers).
type pieceCounter struct {
	want, lines, bad int
	maxHeap          uint64
	partial          int // bytes of the current line seen so far
}

func (c *pieceCounter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial += len(p)
			break
		}
		if c.partial+i != c.want {
			c.bad++
		}
		c.lines++
		c.partial = 0
		p = p[i+1:]
		if c.lines%32 == 0 {
			c.maxHeap = max(c.maxHeap, liveHeap())
		}
	}
	return n, nil
}

// TestGigabyteWithoutNewlineBoundedMemory: a child writing 1 GiB without a
// line end comes out as 1024 prefixed pieces of 1 MiB, and proctor never
// holds more than a few MiB of it. (128 MiB under the race detector, which
// makes each byte copied cost far more.)
func TestGigabyteWithoutNewlineBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB of output")
	}
	size := int64(1 << 30)
	if raceEnabled {
		size = 128 << 20
	}
	before := liveHeap()
	c := &pieceCounter{want: len("web.1  | ") + MaxLine}
	m := New(c, Options{NoTimestamp: true, StallTimeout: time.Minute})
	require.NoError(t, m.Copy("web.1", Stdout, &endless{n: size}))
	require.NoError(t, m.Close())
	assert.EqualValues(t, size/MaxLine, c.lines, "pieces")
	assert.Zero(t, c.bad, "pieces of the wrong length")
	assert.Zero(t, c.partial, "unterminated output")
	grown := int64(c.maxHeap) - int64(before)
	assert.Less(t, grown, int64(16<<20), "live heap growth while copying %d MiB", size>>20)
	t.Logf("live heap %.1f MiB before, at most %.1f MiB while copying %d MiB",
		float64(before)/(1<<20), float64(c.maxHeap)/(1<<20), size>>20)
}

// errWriter fails every Write with err after ok successful ones.
type errWriter struct {
	ok     int
	err    error
	writes atomic.Int64
}

func (w *errWriter) Write(p []byte) (int, error) {
	if int(w.writes.Add(1)) > w.ok {
		return 0, w.err
	}
	return len(p), nil
}

func TestWriteErrorFailsAndKeepsDraining(t *testing.T) {
	w := &errWriter{err: syscall.EPIPE}
	m := New(w, Options{})
	pr, pw := io.Pipe()
	copied := goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, pr)) })

	// Far more than the queue holds: the child must never block.
	src := newLineSource(200000, 80)
	n, err := io.Copy(pw, src)
	require.NoError(t, err)
	require.Equal(t, int64(200000*80), n)
	require.NoError(t, pw.Close())

	waitFor(t, copied, 10*time.Second, "Copy to return")
	waitFor(t, m.Failed(), 10*time.Second, "Failed")
	assert.ErrorIs(t, m.Err(), syscall.EPIPE)
	m.System("after the failure") // discarded, must not block
	assert.ErrorIs(t, m.Close(), syscall.EPIPE)
	assert.EqualValues(t, 1, w.writes.Load(), "writes after the failure")
}

func TestShortWriteIsAnError(t *testing.T) {
	m := New(writerFunc(func(p []byte) (int, error) { return len(p) - 1, nil }), Options{})
	m.System("x")
	waitFor(t, m.Failed(), 5*time.Second, "Failed")
	assert.ErrorIs(t, m.Err(), io.ErrShortWrite)
	assert.ErrorIs(t, m.Close(), io.ErrShortWrite)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var droppedNote = regexp.MustCompile(`^system \| (\d+) lines dropped: output was blocked for more than 200ms$`)

// TestBlockedWriterDropsAndReports: a Write that blocks makes readers wait
// (backpressure) for the stall timeout, then drop lines instead; once the
// Write returns, the number of dropped lines is written.
func TestBlockedWriterDropsAndReports(t *testing.T) {
	var out syncbuf.Buffer
	g := newGateWriter(&out)
	m := New(g, Options{NoTimestamp: true, StallTimeout: 200 * time.Millisecond})

	const total = 100000
	copied := goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, newLineSource(total, 80))) })
	waitFor(t, g.entered, 5*time.Second, "the first Write")
	// The reader must finish (dropping) while the Write is still blocked.
	waitFor(t, copied, 10*time.Second, "Copy to drain its reader")
	close(g.open)
	require.NoError(t, m.Close())

	written, dropped := 0, 0
	for line := range strings.SplitSeq(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if s := droppedNote.FindStringSubmatch(line); s != nil {
			n, _ := strconv.Atoi(s[1])
			dropped += n
			continue
		}
		require.True(t, strings.HasPrefix(line, "web.1  | "), "line %.40q", line)
		require.Len(t, line, len("web.1  | ")+79)
		written++
	}
	assert.Positive(t, dropped, "dropped lines reported")
	assert.Positive(t, written, "lines queued before the stall written")
	assert.Equal(t, total, written+dropped, "written + reported dropped")
}

// TestCloseGivesUpOnBlockedWrite: a Write that never returns does not keep
// Close (or the readers) waiting past the stall timeout.
func TestCloseGivesUpOnBlockedWrite(t *testing.T) {
	g := newGateWriter(io.Discard)
	const stall = 300 * time.Millisecond
	m := New(g, Options{StallTimeout: stall})
	copied := goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, newLineSource(50000, 80))) })
	waitFor(t, g.entered, 5*time.Second, "the first Write")
	waitFor(t, copied, 10*time.Second, "Copy to drain its reader")

	start := time.Now()
	err := m.Close()
	took := time.Since(start)
	assert.ErrorIs(t, err, ErrBlocked)
	assert.Regexp(t, `gave up after 300ms, \d+ lines not written`, err.Error())
	assert.Less(t, took, stall+time.Second, "Close took too long")
	assert.Equal(t, err, m.Close(), "second Close")

	// Release the abandoned Write; its goroutine must then end at once,
	// writing nothing more.
	close(g.open)
	waitFor(t, m.q.done, 5*time.Second, "the abandoned writer to exit")
}

func TestCopyReturnsReadError(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Options{NoTimestamp: true})
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\npartial"), &failingReader{boom})
	assert.ErrorIs(t, m.Copy("web.1", Stdout, r), boom)
	require.NoError(t, m.Close())
	assert.Equal(t, "web.1  | a\nweb.1  | partial\n", buf.String())
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestAfterCloseLinesAreDiscarded(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Options{NoTimestamp: true})
	m.System("before")
	require.NoError(t, m.Close())
	m.System("after")
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("after\n")))
	cancel := m.Subscribe(io.Discard, nil, false)
	cancel()
	assert.Equal(t, "system | before\n", buf.String())
}

// TestRegisterWhileCopying: scaling registers names while lines flow; every
// line keeps one whole prefix of some width.
func TestRegisterWhileCopying(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, Options{NoTimestamp: true, Color: true, StallTimeout: time.Minute})
	m.Register("web.1", 0)
	done := goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, newLineSource(20000, 40))) })
	for i := range 50 {
		m.Register("worker."+strings.Repeat("1", i+1), 1)
		m.System("scaled")
	}
	<-done
	require.NoError(t, m.Close())
	prefix := regexp.MustCompile(`^(\x1b\[36mweb\.1 *\|\x1b\[0m [a-z]{39}|system *\| scaled)$`)
	n := 0
	for line := range strings.SplitSeq(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		require.Regexp(t, prefix, line)
		n++
	}
	assert.Equal(t, 20050, n)
}

// TestRegisterManyNamesOnce: registering the instances of a big formation
// one by one builds their labels once, not once per name (which made
// garbage growing with the square of the count).
func TestRegisterManyNamesOnce(t *testing.T) {
	m := New(io.Discard, Options{Color: true})
	defer m.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 400 {
		m.Register("web."+strconv.Itoa(i+1), 0)
	}
	m.currentLabels() // as the first line after them does
	runtime.ReadMemStats(&after)
	perName := (after.TotalAlloc - before.TotalAlloc) / 400
	t.Logf("%d bytes allocated per name", perName)
	assert.Less(t, perName, uint64(2048), "bytes allocated per registered name, for 400 names")
	assert.Len(t, m.currentLabels().byName, 400, "labels")
}

// lineReads returns n copies of line, one per Read, as a terminal-speed
// child does.
type lineReads struct {
	line []byte
	n    int
}

func (r *lineReads) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	r.n--
	return copy(p, r.line), nil
}

// TestNoAllocationPerLine: formatting and queueing a line allocates nothing,
// in text and JSON, whether lines come one per read or many per read; only
// Copy's own setup allocates.
func TestNoAllocationPerLine(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers on purpose")
	}
	for _, format := range []Format{Text, JSON} {
		m := New(io.Discard, Options{Format: format, Color: true})
		m.Register("web.1", 0)
		line := []byte(strings.Repeat("x", 79) + "\n")
		// Warm up the pool and the queue buffers.
		require.NoError(t, m.Copy("web.1", Stdout, &lineReads{line: line, n: 1000}))
		require.NoError(t, m.Copy("web.1", Stdout, newLineSource(100000, 80)))
		const lines = 10000
		perRead := testing.AllocsPerRun(5, func() {
			require.NoError(t, m.Copy("web.1", Stdout, &lineReads{line: line, n: lines}))
		})
		src := newLineSource(lines, 80)
		batched := testing.AllocsPerRun(5, func() {
			src.off, src.left = 0, lines*80
			require.NoError(t, m.Copy("web.1", Stdout, src))
		})
		require.NoError(t, m.Close())
		// Copy's setup (buffers, formatter) allocates a few times, and so
		// does each wait for queue room (a channel, a timer): the lines
		// outrun io.Discard's writer about once per queueSize, 5 times for
		// 10,000 JSON lines. A line must not: that would be 10,000.
		assert.Less(t, perRead, 50.0, "format %d, one line per read: allocations per %d lines", format, lines)
		assert.Less(t, batched, 50.0, "format %d, many lines per read: allocations per %d lines", format, lines)
		t.Logf("format %d: %.0f allocations per %d lines read one by one, %.0f in batches", format, perRead, lines, batched)
	}
}
