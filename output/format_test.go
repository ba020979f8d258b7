package output

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one action of a golden test, run in order on the test goroutine.
type step struct {
	register string // Register(register, color)
	color    int
	name     string // Copy(name, stream, data)
	stream   Stream
	data     string
	system   string // System(system) when isSys
	isSys    bool
}

func reg(name string, color int) step { return step{register: name, color: color} }
func out(name, data string) step      { return step{name: name, data: data} }
func errOut(name, data string) step   { return step{name: name, stream: Stderr, data: data} }
func sys(line string) step            { return step{system: line, isSys: true} }
func runSteps(t *testing.T, opts Options, steps []step) string {
	t.Helper()
	var buf bytes.Buffer
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	m := New(&buf, opts)
	for _, s := range steps {
		switch {
		case s.register != "":
			m.Register(s.register, s.color)
		case s.isSys:
			m.System(s.system)
		default:
			require.NoError(t, m.Copy(s.name, s.stream, strings.NewReader(s.data)))
		}
	}
	require.NoError(t, m.Close())
	return buf.String()
}

func TestTextFormat(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		steps []step
		want  string
	}{
		{
			name:  "timestamp and padding to six",
			steps: []step{reg("web.1", 0), out("web.1", "hello\nworld\n")},
			want:  "14:03:07 web.1  | hello\n14:03:07 web.1  | world\n",
		},
		{
			name:  "padding to the longest name",
			steps: []step{reg("web.1", 0), reg("worker.10", 1), out("web.1", "a\n"), out("worker.10", "b\n")},
			want:  "14:03:07 web.1     | a\n14:03:07 worker.10 | b\n",
		},
		{
			name: "width grows when a longer name is registered",
			steps: []step{
				reg("web.1", 0), out("web.1", "a\n"), sys("scaling"),
				reg("background.12", 1), out("web.1", "b\n"), sys("scaled"),
			},
			want: "14:03:07 web.1  | a\n14:03:07 system | scaling\n" +
				"14:03:07 web.1         | b\n14:03:07 system        | scaled\n",
		},
		{
			name:  "unregistered name widens the column",
			steps: []step{out("a-long-name.1", "x\n"), sys("s")},
			want:  "14:03:07 a-long-name.1 | x\n14:03:07 system        | s\n",
		},
		{
			name:  "no timestamp",
			opts:  Options{NoTimestamp: true},
			steps: []step{reg("web.1", 0), out("web.1", "hello\n"), sys("started")},
			want:  "web.1  | hello\nsystem | started\n",
		},
		{
			name:  "no prefix writes bare lines, system lines too",
			opts:  Options{NoPrefix: true, Color: true},
			steps: []step{reg("web.1", 0), out("web.1", "hello\r\nworld"), sys("web.1 exited with code 0")},
			want:  "hello\nworld\nweb.1 exited with code 0\n",
		},
		{
			name:  "stderr is prefixed the same",
			opts:  Options{NoTimestamp: true},
			steps: []step{reg("web.1", 0), errOut("web.1", "oops\n")},
			want:  "web.1  | oops\n",
		},
		{
			name:  "crlf is one line end, lone cr stays",
			opts:  Options{NoTimestamp: true},
			steps: []step{out("web.1", "a\r\nb\rc\r\n\r\n\n")},
			want:  "web.1  | a\nweb.1  | b\rc\nweb.1  | \nweb.1  | \n",
		},
		{
			name:  "partial last line gets a newline",
			opts:  Options{NoTimestamp: true},
			steps: []step{out("web.1", "one\ntwo")},
			want:  "web.1  | one\nweb.1  | two\n",
		},
		{
			name:  "empty input writes nothing",
			steps: []step{out("web.1", "")},
			want:  "",
		},
		{
			name:  "invalid utf-8 and child ansi pass through",
			opts:  Options{NoTimestamp: true, Color: true},
			steps: []step{reg("web.1", 0), out("web.1", "\xff\xfe ok \x1b[31mred\x1b[0m\n")},
			want:  "\x1b[36mweb.1  |\x1b[0m \xff\xfe ok \x1b[31mred\x1b[0m\n",
		},
		{
			name: "colors cycle through twelve, system is plain",
			opts: Options{Color: true},
			steps: []step{
				reg("a.1", 0), reg("b.1", 1), reg("c.1", 2), reg("d.1", 3), reg("e.1", 4), reg("f.1", 5),
				reg("g.1", 6), reg("h.1", 11), reg("i.1", 12), reg("j.1", -1),
				out("a.1", "x\n"), out("b.1", "x\n"), out("c.1", "x\n"), out("d.1", "x\n"),
				out("e.1", "x\n"), out("f.1", "x\n"), out("g.1", "x\n"), out("h.1", "x\n"),
				out("i.1", "x\n"), out("j.1", "x\n"), sys("hi"),
			},
			want: "14:03:07 \x1b[36ma.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[33mb.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[32mc.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[35md.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[31me.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[34mf.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[96mg.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[94mh.1    |\x1b[0m x\n" +
				"14:03:07 \x1b[36mi.1    |\x1b[0m x\n" +
				"14:03:07 j.1    | x\n" +
				"14:03:07 system | hi\n",
		},
		{
			name:  "color recomputed when the width changes",
			opts:  Options{Color: true, NoTimestamp: true},
			steps: []step{reg("web.1", 0), out("web.1", "a\n"), reg("worker.1", 1), out("web.1", "b\n"), out("worker.1", "c\n")},
			want:  "\x1b[36mweb.1  |\x1b[0m a\n\x1b[36mweb.1    |\x1b[0m b\n\x1b[33mworker.1 |\x1b[0m c\n",
		},
		{
			name:  "system line with newlines is several prefixed lines",
			opts:  Options{NoTimestamp: true},
			steps: []step{sys("one\ntwo\n")},
			want:  "system | one\nsystem | two\n",
		},
		{
			name:  "empty system line",
			opts:  Options{NoTimestamp: true},
			steps: []step{sys("")},
			want:  "system | \n",
		},
		{
			name:  "timestamp in the clock's location",
			opts:  Options{Now: func() time.Time { return testTime.In(time.FixedZone("X", -5*3600)) }},
			steps: []step{out("web.1", "x\n")},
			want:  "09:03:07 web.1  | x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runSteps(t, tt.opts, tt.steps)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestJSONFormat(t *testing.T) {
	const head = `{"time":"2024-05-01T14:03:07.123456789Z","process":`
	tests := []struct {
		name  string
		opts  Options
		steps []step
		want  string
	}{
		{
			name:  "stdout, stderr and system",
			steps: []step{reg("web.1", 0), out("web.1", "hello\n"), errOut("web.1", "oops\r\n"), sys("started")},
			want: head + `"web.1","stream":"stdout","line":"hello"}` + "\n" +
				head + `"web.1","stream":"stderr","line":"oops"}` + "\n" +
				head + `"system","stream":"system","line":"started"}` + "\n",
		},
		{
			name:  "escaping",
			steps: []step{out("w.1", "q\"b\\t\tc\x01\x1b[31m\x7f<&>\b\f\r.\n")},
			want:  head + `"w.1","stream":"stdout","line":"q\"b\\t\tc\u0001\u001b[31m` + "\x7f" + `<&>\b\f\r."}` + "\n",
		},
		{
			name:  "invalid utf-8 becomes one U+FFFD per byte",
			steps: []step{out("w.1", "a\xffb\xe2\x82c\xed\xa0\x80é\n")},
			want:  head + `"w.1","stream":"stdout","line":"a\ufffdb\ufffd\ufffdc\ufffd\ufffd\ufffdé"}` + "\n",
		},
		{
			name:  "line and paragraph separators",
			steps: []step{out("w.1", "a\u2028b\u2029c\n")},
			want:  head + `"w.1","stream":"stdout","line":"a\u2028b\u2029c"}` + "\n",
		},
		{
			name:  "empty line and partial last line",
			steps: []step{out("w.1", "\nend")},
			want: head + `"w.1","stream":"stdout","line":""}` + "\n" +
				head + `"w.1","stream":"stdout","line":"end"}` + "\n",
		},
		{
			name:  "color, no timestamp and no prefix do not apply",
			opts:  Options{Format: JSON, Color: true, NoTimestamp: true, NoPrefix: true},
			steps: []step{reg("w.1", 0), out("w.1", "x\n")},
			want:  head + `"w.1","stream":"stdout","line":"x"}` + "\n",
		},
		{
			name: "fraction trimmed, zone kept",
			opts: Options{Format: JSON, Now: func() time.Time {
				return time.Date(2024, 5, 1, 16, 3, 7, 120000000, time.FixedZone("", 2*3600))
			}},
			steps: []step{out("w.1", "x\n")},
			want:  `{"time":"2024-05-01T16:03:07.12+02:00","process":"w.1","stream":"stdout","line":"x"}` + "\n",
		},
		{
			name: "whole second has no fraction",
			opts: Options{Format: JSON, Now: func() time.Time {
				return time.Date(2024, 5, 1, 14, 3, 7, 0, time.UTC)
			}},
			steps: []step{out("w.1", "x\n")},
			want:  `{"time":"2024-05-01T14:03:07Z","process":"w.1","stream":"stdout","line":"x"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Format = JSON
			got := runSteps(t, tt.opts, tt.steps)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTimeTextMatchesTimeFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", -(3*3600 + 30*60)), time.FixedZone("", 14*3600)}
	nanos := []int{0, 1, 10, 100000000, 123456789, 999999999, 500, 120000000}
	for _, z := range zones {
		for _, ns := range nanos {
			now := time.Date(2031, 12, 31, 23, 59, 58, ns, z)
			f := newFormatter(&Options{Format: JSON}, "w.1", Stdout)
			f.update(now, buildLabels(map[string]int{"w.1": 0}))
			want := `{"time":"` + now.Format(time.RFC3339Nano) + `","process":"w.1","stream":"stdout","line":"`
			assert.Equal(t, want, string(f.head), "time %v", now)
		}
	}
}

func TestTimestampRefreshesEachSecond(t *testing.T) {
	now := testTime
	var buf bytes.Buffer
	m := New(&buf, Options{Now: func() time.Time { return now }})
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("a\n")))
	now = now.Add(999 * time.Millisecond) // 14:03:08.12...
	require.NoError(t, m.Copy("web.1", Stdout, strings.NewReader("b\n")))
	now = now.Add(time.Hour)
	m.System("c")
	require.NoError(t, m.Close())
	assert.Equal(t, "14:03:07 web.1  | a\n14:03:08 web.1  | b\n15:03:08 system | c\n", buf.String())
}

func TestStreamString(t *testing.T) {
	assert.Equal(t, "stdout", Stdout.String())
	assert.Equal(t, "stderr", Stderr.String())
	assert.Equal(t, "system", System.String())
	assert.Equal(t, "stream(7)", Stream(7).String())
}

func TestPlain8(t *testing.T) {
	plain := func(w []byte) bool {
		for _, b := range w {
			if b < 0x20 || b == '"' || b == '\\' || b >= 0x80 {
				return false
			}
		}
		return true
	}
	check := func(w []byte) {
		got := plain8(binary.LittleEndian.Uint64(w))
		if got && !plain(w) {
			t.Fatalf("plain8(%q) = true", w)
		}
		if !got && plain(w) {
			t.Errorf("plain8(%q) = false for plain bytes (allowed, but not expected here)", w)
		}
	}
	for pos := range 8 {
		for b := range 256 {
			for _, fill := range []byte{'a', ' ', '~', 0x7f, '!', '#', '[', ']'} {
				w := bytes.Repeat([]byte{fill}, 8)
				w[pos] = byte(b)
				check(w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 16 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		check(w[:])
	}
}
