package output

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

const fuzzHead = `{"time":"2024-05-01T14:03:07.123456789Z","process":"f.1","stream":"stdout","line":"`

// FuzzJSONLine: whatever bytes a child writes, every JSON output line is
// valid JSON with exactly the four keys in order, its line field is
// escaped exactly as encoding/json escapes the same string (without HTML
// escaping), and for valid UTF-8 it decodes back to the line itself.
func FuzzJSONLine(f *testing.F) {
	for _, s := range []string{
		"", "hello", "a\"b\\c", "\x00\x01\x1f\x7f", "\b\f\t\r", "\xff\xfe\xfd",
		"é\u2028\u2029", "\xed\xa0\x80", "\xe2\x82", "a\r\nb\n\nc", "\x1b[31mred\x1b[0m",
		"<script>&amp;</script>", "\U0001F600 emoji", "\xf4\x90\x80\x80",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, maxLine := range []int{MaxLine, 7} {
			var buf bytes.Buffer
			m := New(&buf, Options{Format: JSON, Now: fixedClock})
			m.maxLine = maxLine
			if err := m.Copy("f.1", Stdout, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			want := refLines(data, maxLine)
			got := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'})
			if len(want) == 0 {
				if buf.Len() != 0 {
					t.Fatalf("input %q: output %q, want none", data, buf.Bytes())
				}
				continue
			}
			if len(got) != len(want) {
				t.Fatalf("input %q (max %d): %d lines, want %d:\n%s", data, maxLine, len(got), len(want), buf.Bytes())
			}
			for i, g := range got {
				checkJSONLine(t, g, want[i])
			}
		}
	})
}

func checkJSONLine(t *testing.T, got, line []byte) {
	t.Helper()
	var v struct{ Time, Process, Stream, Line string }
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || dec.More() {
		t.Fatalf("line %q: output %q is not one JSON object: %v", line, got, err)
	}
	if !bytes.HasPrefix(got, []byte(fuzzHead)) || !bytes.HasSuffix(got, []byte(`"}`)) {
		t.Fatalf("line %q: output %q lacks the keys in order", line, got)
	}
	body := got[len(fuzzHead) : len(got)-2]
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(string(line)); err != nil {
		t.Fatal(err)
	}
	if want := bytes.TrimSuffix(enc.Bytes(), []byte("\n")); !bytes.Equal([]byte(`"`+string(body)+`"`), want) {
		t.Fatalf("line %q: escaped as %s, encoding/json writes %s", line, body, want)
	}
	if utf8.Valid(line) && v.Line != string(line) {
		t.Fatalf("line %q decodes to %q", line, v.Line)
	}
}

// FuzzSplit: however the input is cut into reads, and whatever the line
// limit, the output lines are those of the obvious model (refLines).
func FuzzSplit(f *testing.F) {
	f.Add([]byte("a\nbc\r\ndef"), []byte{1, 2, 3}, uint8(2))
	f.Add([]byte("0123456789abcdefghij\n\n\r\nxyz"), []byte{7}, uint8(7))
	f.Add([]byte("abcdefgh\r\r\n"), []byte{8, 1}, uint8(7))
	f.Add([]byte("abcdefg\r"), []byte{}, uint8(6))
	f.Add([]byte("\r\n\r\n\n\r"), []byte{0, 5}, uint8(0))
	f.Fuzz(func(t *testing.T, data, chunks []byte, limit uint8) {
		maxLine := int(limit%16) + 1
		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c)
		}
		got := copyChunked(t, data, sizes, maxLine)
		if want := render(refLines(data, maxLine)); got != want {
			t.Fatalf("input %q in reads %v, max %d:\ngot  %q\nwant %q", data, sizes, maxLine, got, want)
		}
	})
}

// FuzzJSONString checks the escaper alone, fast, against encoding/json:
// the same bytes for any input, valid UTF-8 or not.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text!", "\"\\\x00\x1f", "\xff", "é\u2028\u2029x", "0123456\"", "01234567\xe2\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		if err := e.Encode(string(s)); err != nil {
			t.Fatal(err)
		}
		want := enc.Bytes()
		want = want[1 : len(want)-2] // drop the quotes and the newline
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// stallReader returns data in reads of the given sizes, as chunkReader
// does, and errWouldBlock instead of a read wherever stalls says so (its
// bits, cycled), never twice in a row: a non-blocking pipe that the writer
// has not filled yet.
type stallReader struct {
	chunkReader
	stalls  []byte
	n       int
	stalled bool
}

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.stalls) > 0 {
		b := r.stalls[(r.n/8)%len(r.stalls)] & (1 << (r.n % 8))
		r.n++
		if b != 0 && !r.stalled {
			r.stalled = true
			return 0, errWouldBlock
		}
	}
	r.stalled = false
	return r.chunkReader.Read(p)
}

// copyPolled copies data as the pipe loop does: run once per wakeup,
// with a buffer of size bytes, until the end, or until a read fills the
// buffer and the pipe goes on in follow.
func copyPolled(t testing.TB, data []byte, sizes []int, stalls []byte, maxLine, size int) string {
	var buf bytes.Buffer
	m := New(&buf, Options{NoTimestamp: true})
	m.maxLine = maxLine
	c := copier{m: m, name: "t.1", f: newFormatter(&m.opts, "t.1", Stdout)}
	r := &stallReader{chunkReader: chunkReader{data: data, sizes: sizes}, stalls: stalls}
	l := copyLoop{c: &c, r: r, polled: true, size: size}
	for wakeups := 0; ; wakeups++ {
		if wakeups > 10*len(data)+100 {
			t.Fatalf("no end after %d wakeups", wakeups)
		}
		more, err := l.run()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			l.release()
			break
		}
		if l.fast {
			if err := l.follow(r); err != nil {
				t.Fatal(err)
			}
			break
		}
		if l.bp != nil && l.end == l.start {
			t.Fatalf("a drained pipe holds a buffer between wakeups")
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// FuzzPolled: the pipe loop's way of reading (one read per wakeup, reads
// that would block, a partial line kept between wakeups, a fast pipe
// handed to follow mid-line) gives the lines of the obvious model.
func FuzzPolled(f *testing.F) {
	f.Add([]byte("a\nbc\r\ndef"), []byte{1, 2, 3}, []byte{0x55}, uint8(2), uint8(0))
	f.Add([]byte("0123456789abcdefghij\n\n\r\nxyz"), []byte{7}, []byte{0x0f}, uint8(7), uint8(3))
	f.Add([]byte("abcdefgh\r\r\nij\nk"), []byte{8, 1}, []byte{}, uint8(7), uint8(5))
	f.Add([]byte("long line without end, read in pieces"), []byte{4}, []byte{0xaa}, uint8(15), uint8(60))
	f.Fuzz(func(t *testing.T, data, chunks, stalls []byte, limit, bufSize uint8) {
		maxLine := int(limit%16) + 1
		size := int(bufSize%64) + 1 // small: reads fill it, and the pipe is handed off
		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c)
		}
		got := copyPolled(t, data, sizes, stalls, maxLine, size)
		if want := render(refLines(data, maxLine)); got != want {
			t.Fatalf("input %q in reads %v, stalls %x, max %d, buffer %d:\ngot  %q\nwant %q", data, sizes, stalls, maxLine, size, got, want)
		}
	})
}
