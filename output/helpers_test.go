package output

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTime is the fixed clock of the golden tests.
var testTime = time.Date(2024, 5, 1, 14, 3, 7, 123456789, time.UTC)

func fixedClock() time.Time { return testTime }

// waitFor fails the test unless ch is closed within d.
func waitFor(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// goDone runs f in a goroutine and returns a channel closed when it returns.
func goDone(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	return done
}

// refLines splits data into output lines the way the Mux must: "\n" or
// "\r\n" end a line, a last line without one counts, and lines longer than
// maxLine are cut into maxLine pieces. It is the slow, obvious model the
// fuzz and concurrency tests compare against.
func refLines(data []byte, maxLine int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
			line = bytes.TrimSuffix(line, []byte("\r"))
		} else {
			line, data = data, nil
		}
		if len(line) == 0 {
			out = append(out, line)
		}
		for len(line) > 0 {
			n := min(maxLine, len(line))
			out = append(out, line[:n])
			line = line[n:]
		}
	}
	return out
}

// chunkReader returns data in reads of the given sizes (cycled; 0 counts
// as 1), so tests can check that the chunking of a pipe changes nothing.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = max(1, r.sizes[r.i%len(r.sizes)])
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// lineSource generates n lines of lineLen bytes (the last one '\n')
// without holding them all: it repeats a pattern block.
type lineSource struct {
	block []byte // whole lines
	off   int
	left  int64 // bytes still to return
}

func newLineSource(n, lineLen int) *lineSource {
	per := max(1, (64<<10)/lineLen)
	block := make([]byte, 0, per*lineLen)
	for i := range per {
		line := bytes.Repeat([]byte{'a' + byte(i%26)}, lineLen-1)
		block = append(append(block, line...), '\n')
	}
	return &lineSource{block: block, left: int64(n) * int64(lineLen)}
}

func (s *lineSource) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	m := len(p)
	if int64(m) > s.left {
		m = int(s.left)
	}
	n := 0
	for n < m {
		c := copy(p[n:m], s.block[s.off:])
		n += c
		s.off = (s.off + c) % len(s.block)
	}
	s.left -= int64(n)
	return n, nil
}

// gateWriter blocks every Write until open is closed, then writes to w.
// entered is closed at the first Write.
type gateWriter struct {
	w         io.Writer
	open      chan struct{}
	entered   chan struct{}
	enterOnce sync.Once
}

func newGateWriter(w io.Writer) *gateWriter {
	return &gateWriter{w: w, open: make(chan struct{}), entered: make(chan struct{})}
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.enterOnce.Do(func() { close(g.entered) })
	<-g.open
	return g.w.Write(p)
}
