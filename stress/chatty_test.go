package stress

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proctor-run/proctor/stress/internal/lines"
)

// lineCheck verifies the lines of chatty children as they come: each one
// whole, under its own instance's prefix, each number of each stream once
// and in order, every byte as the child wrote it, and at the end the
// child's own count of what it wrote.
type lineCheck struct {
	long    int                    // the children's LONG argument
	next    map[string]*[2]int     // instance → next number of each stream
	ends    map[string][2]int      // instance → its "end N" of each stream, +1
	want    []byte                 // reused for the expected line
	errs    []string               // the first problems found
	nerrs   int                    // all of them
	count   [2]int                 // lines checked per stream
	longs   int                    // long lines among them
	prefix  func(name string) bool // names whose lines are checked
	extra   int                    // lines of other names, not checked
	started int                    // "started with pid" lines
}

func newLineCheck(long int, prefix func(string) bool) *lineCheck {
	return &lineCheck{long: long, next: map[string]*[2]int{}, ends: map[string][2]int{}, prefix: prefix}
}

func (c *lineCheck) fail(format string, args ...any) {
	c.nerrs++
	if len(c.errs) < 20 {
		c.errs = append(c.errs, fmt.Sprintf(format, args...))
	}
}

// line checks one line of proctor's output; it runs on the reader
// goroutine, and the results are read once that has ended.
func (c *lineCheck) line(nameB, text []byte) {
	if !c.prefix(string(nameB)) {
		c.extra++
		return
	}
	if bytes.HasPrefix(text, []byte("started with pid ")) {
		c.started++
		return
	}
	name := string(nameB)
	// "NAME o|e SEQ PAYLOAD" or "NAME o|e end N"
	rest, ok := bytes.CutPrefix(text, append(nameB, ' '))
	if !ok || len(rest) < 3 || rest[1] != ' ' || (rest[0] != 'o' && rest[0] != 'e') {
		c.fail("%s: a line that is not its own: %.80q", name, text)
		return
	}
	s := 0
	if rest[0] == 'e' {
		s = 1
	}
	rest = rest[2:]
	next := c.next[name]
	if next == nil {
		next = &[2]int{}
		c.next[name] = next
	}
	if n, isEnd := bytes.CutPrefix(rest, []byte("end ")); isEnd {
		total, err := strconv.Atoi(string(n))
		if err != nil {
			c.fail("%s: bad end line %q", name, text)
			return
		}
		e := c.ends[name]
		if e[s] != 0 {
			c.fail("%s: a second end line %q", name, text)
		}
		e[s] = total + 1
		c.ends[name] = e
		return
	}
	numB, _, _ := bytes.Cut(rest, []byte(" "))
	seq, err := strconv.Atoi(string(numB))
	if err != nil {
		c.fail("%s: no number in %.80q", name, text)
		return
	}
	if seq != next[s] {
		c.fail("%s %c: line %d where %d was due (lost, repeated or reordered)", name, lines.StreamLetter(s), seq, next[s])
	}
	next[s] = seq + 1
	long := lines.IsLong(lines.N(s, seq), c.long)
	c.want = lines.Append(c.want[:0], name, s, seq, long)
	if !bytes.Equal(text, c.want[:len(c.want)-1]) {
		c.fail("%s %c %d: the line is not as written (%d bytes, want %d): %.80q", name, lines.StreamLetter(s), seq, len(text), len(c.want)-1, text)
	}
	c.count[s]++
	if long {
		c.longs++
	}
}

// finish checks that every instance in names ended each stream with the
// count of the lines it wrote, all of which arrived.
func (c *lineCheck) finish(t *testing.T, names []string) {
	t.Helper()
	for _, name := range names {
		next := c.next[name]
		e, ok := c.ends[name]
		if !ok || next == nil || e[0] == 0 || e[1] == 0 {
			c.fail("%s: no end line (its last lines were lost at shutdown)", name)
			continue
		}
		for s := range 2 {
			if e[s]-1 != next[s] {
				c.fail("%s %c: the child wrote %d lines, %d arrived", name, lines.StreamLetter(s), e[s]-1, next[s])
			}
		}
	}
	if c.nerrs > 0 {
		t.Errorf("%d bad lines; the first:\n%s", c.nerrs, strings.Join(c.errs, "\n"))
	}
}

// TestChatty: many chatty instances at once for a while. Every line comes
// out whole, exactly once, in order, under its own prefix and as written
// (some are 100 KiB, longer than a pipe holds), none is lost at shutdown;
// proctor's peak RSS and CPU are reported, and nothing is left running.
//
// Full: 500 instances × 100 lines/s (one line in 400 of 100 KiB+) for
// 30 s. Short: 50 × 100/s (one in 20 long) for 3 s.
func TestChatty(t *testing.T) {
	n := size(50, 500)
	run := size(3*time.Second, 30*time.Second)
	const rate = 100
	long := size(20, 400)
	check := newLineCheck(long, func(name string) bool { return strings.HasPrefix(name, "chatty.") })
	s := startStack(t, stackOpts{
		procfile: fmt.Sprintf("chatty: exec %s chatty %d %d\n", childBin, rate, long),
		args:     []string{"-m", fmt.Sprintf("chatty=%d", n), "-p", "20000", "--port-step", "1000", "-t", "10"},
		onLine:   check.line,
	})
	s.await(60*time.Second, fmt.Sprintf("%d instances to start", n), func(notes []string) bool {
		return count(notes, "| started with pid") == n
	})
	startup := time.Since(s.began)
	cpu0, lines0, t0 := cpuTime(s.pid()), s.lines.Load(), time.Now()
	time.Sleep(run) // the load runs for this long: nothing to wait for
	cpu, nlines, elapsed := cpuTime(s.pid())-cpu0, s.lines.Load()-lines0, time.Since(t0)
	hwm, rss := statusKiB(s.pid(), "VmHWM"), statusKiB(s.pid(), "VmRSS")
	st := s.stats(t)

	shutdown := s.stop(t, 60*time.Second)
	names := make([]string, n)
	for i := range names {
		names[i] = "chatty." + strconv.Itoa(i+1)
	}
	check.finish(t, names)
	if check.started != n {
		t.Errorf("%d started lines, want %d", check.started, n)
	}
	if notes := s.notable(); count(notes, "lines dropped") > 0 || count(notes, "unparsed") > 0 {
		t.Errorf("dropped or unparsed lines:\n%s", strings.Join(notes, "\n"))
	}
	lineRate := float64(nlines) / elapsed.Seconds()
	// The rate is reported, not held to a bound: on a shared machine (or
	// beside other test packages) it says more about the load than about
	// proctor, and speed is bench/run.sh's to measure. Backpressure that
	// slows the children is no failure; lost or broken lines are.
	if want := 0.8 * float64(n*rate); lineRate < want {
		t.Logf("%.0f lines/s through proctor, below the %d/s the children write (backpressure; -race: %v)", lineRate, n*rate, raceEnabled)
	}
	memLimit(t, "chatty", hwm, size(48, 80))
	t.Logf("%d instances × %d lines/s for %v: %d lines checked (%d stdout, %d stderr, %d of 100 KiB+), %.0f lines/s; "+
		"startup %v, shutdown %v; proctor: peak RSS %s (now %s), CPU %v over %v (%.0f%% of a core), %d goroutines, %d fds, heap %s",
		n, rate, run, check.count[0]+check.count[1], check.count[0], check.count[1], check.longs, lineRate,
		startup.Round(time.Millisecond), shutdown.Round(time.Millisecond), mib(hwm), mib(rss), cpu, elapsed.Round(time.Millisecond),
		100*cpu.Seconds()/elapsed.Seconds(), st.Goroutines, st.FDs, mib(int(st.HeapBytes>>10)))
}
