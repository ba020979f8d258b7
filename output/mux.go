package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Format selects how a Mux writes lines.
type Format int

const (
	// Text writes "HH:MM:SS name.N | line".
	Text Format = iota
	// JSON writes one object per line:
	// {"time":"RFC3339Nano","process":"web.1","stream":"stdout|stderr|system","line":"..."}.
	JSON
)

// Stream tells which output of a child a line comes from.
type Stream uint8

const (
	// Stdout is a child's standard output.
	Stdout Stream = iota
	// Stderr is a child's standard error.
	Stderr
	// System marks proctor's own lines.
	System
)

// String returns the stream's name as JSON output writes it: "stdout",
// "stderr" or "system".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	case System:
		return "system"
	}
	return "stream(" + strconv.Itoa(int(s)) + ")"
}

// DefaultStallTimeout is the StallTimeout used when Options leaves it zero.
const DefaultStallTimeout = 5 * time.Second

// MaxLine is the longest line written whole; a longer line is written in
// pieces of MaxLine bytes, each with its own prefix.
const MaxLine = 1 << 20

// ErrBlocked is wrapped by the error Close returns when it gave up waiting
// for a Write that did not return.
var ErrBlocked = errors.New("output blocked")

// Sizes of the reader buffers and queues. A reader starts small, grows to
// fastBuf when reads fill its buffer (a fast child) and beyond only for a
// line longer than that, up to MaxLine and some room to read into. Reading
// from a pipe or pty, it holds no buffer at all while the child is quiet
// (see readyWaiter).
const (
	startBuf = 16 << 10
	fastBuf  = 64 << 10
	// queueSize is the main output's: bytes queued before readers wait.
	// The queue and the batch being written are two buffers of this size
	// (and an eighth) that every byte passes through; at 256 KiB both stay
	// in the CPU's cache, where at 1 MiB each chunk was copied into memory
	// the last batch had pushed out: 4 children writing 1,000,000 lines
	// cost proctor 137 ms of CPU instead of 156 ms (median of 25 alternating
	// runs), and 1,000 page faults instead of 1,500. A write to the output
	// takes about 256 KiB at most: still few system calls.
	queueSize = 256 << 10
	subSize   = 256 << 10 // a subscriber: bytes queued before lines are dropped

	// fastPipe is the capacity asked for the pipe of a fast child (Linux:
	// the largest an unprivileged process may set by default), and
	// pipeBudget bounds what one Mux asks for in all. Pipe pages count
	// against a per-user limit (64 MiB by default) beyond which the user's
	// new pipes get a single page, so only the first 16 fast children get
	// a big pipe.
	fastPipe   = 1 << 20
	pipeBudget = 16 * fastPipe

	// gatherWait is how long the reader of a fast child with an enlarged
	// pipe lets output gather after a read that did not fill its buffer.
	// Read at once, a fast child's pipe is nearly empty each time: each
	// of its 4 KiB writes wakes proctor, and proctor reads a few of them
	// at a time. After the pause one read takes up to fastBuf, and the
	// child's writes into a pipe that is not empty wake nobody. For 4
	// children writing 1,000,000 lines this cuts proctor's reads from
	// about 7,300 to 3,000 and the CPU of everything by 5-10%
	// (bench/run.sh -s throughput). The pipe holds fastPipe,
	// about 10 ms of output of a child writing 100 MB/s, so the child does
	// not block; a line waits at most this long, so it may come out after
	// a later line of the child's other stream, or after the line saying
	// that the child exited.
	gatherWait = time.Millisecond

	// subCloseWait is how long Close waits for subscribers once the main
	// output is written: enough for a live client, not enough for a
	// stopped one (a suspended `proctor logs`) to delay shutdown.
	subCloseWait = 500 * time.Millisecond
)

// Options configure a Mux. The zero value writes text without color, with
// timestamps and name prefixes, using time.Now and DefaultStallTimeout.
type Options struct {
	// Format is Text (the zero value) or JSON.
	Format Format
	// Color colors the name prefixes (text only; JSON ignores it).
	Color bool
	// NoTimestamp drops "HH:MM:SS " from text lines. JSON lines always
	// carry their time.
	NoTimestamp bool
	// NoPrefix writes bare child lines in text: no time, name or " | ".
	// proctor's own lines are written bare too; they say what they are
	// about ("web.1 exited with code 3"). JSON ignores it.
	NoPrefix bool
	// Now is the clock of the timestamps; nil means time.Now. The time
	// text follows the location of the times it returns.
	Now func() time.Time
	// StallTimeout is how long one Write may stay blocked before readers
	// stop waiting for it and drop lines, and how long Close waits for the
	// queue to be written. Zero means DefaultStallTimeout.
	StallTimeout time.Duration
}

// Mux merges lines from many readers into one io.Writer, each line whole
// and prefixed with its instance name. All its methods are safe for
// concurrent use. A Mux must be made with New and released with Close.
type Mux struct {
	opts    Options
	now     func() time.Time
	stall   time.Duration
	maxLine int // MaxLine; tests lower it
	q       *queue

	regMu  sync.Mutex
	names  map[string]int         // name → color index, owned by regMu
	labels atomic.Pointer[labels] // nil after a change, until currentLabels builds them

	subMu sync.Mutex
	subs  atomic.Pointer[[]*subscriber] // copy on write under subMu

	bufs sync.Pool // *[]byte, formatted chunks on their way to a queue

	// Read buffers of startBuf and fastBuf bytes (*[]byte). A Copy holds
	// one only while its child has output to read or a partial line.
	smallBufs, fastBufs sync.Pool

	pipeBytes atomic.Int64 // pipe capacity asked for fast children, at most pipeBudget

	// The pipes of CopyPipe: the loop that reads them (started by the
	// first), and those read by goroutines.
	loopOnce  sync.Once
	loop      atomic.Pointer[pipeLoop]
	pipeFiles pipeFiles
	handoffs  atomic.Int64 // fast children the loop gave a goroutine, for tests

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// New returns a Mux writing to w. It starts one writer goroutine, which
// Close ends. Only that goroutine calls w.Write.
func New(w io.Writer, opts Options) *Mux {
	m := &Mux{
		opts:    opts,
		now:     opts.Now,
		stall:   opts.StallTimeout,
		maxLine: MaxLine,
		names:   map[string]int{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.stall <= 0 {
		m.stall = DefaultStallTimeout
	}
	m.labels.Store(buildLabels(m.names))
	m.bufs.New = func() any { return new([]byte) } // grown to what the chunks need
	m.smallBufs.New = func() any { b := make([]byte, startBuf); return &b }
	m.fastBufs.New = func() any { b := make([]byte, fastBuf); return &b }
	m.q = newQueue(w, queueSize, m.stall, true, m.blockedNote)
	go m.q.run()
	return m
}

// Register declares an instance name ("web.1") and its color index, the
// 0-based Procfile position of its type; a negative index means no color.
// The name column is as wide as the longest name registered so far, and at
// least 6. Registering a name again changes its color. Register is safe to
// call at any time from any goroutine.
func (m *Mux) Register(name string, colorIndex int) {
	m.regMu.Lock()
	defer m.regMu.Unlock()
	if ci, ok := m.names[name]; ok && ci == colorIndex {
		return
	}
	m.names[name] = colorIndex
	m.labels.Store(nil) // built again on first use: once for many Register calls
}

// currentLabels returns the labels of the registered names, building them
// if a Register call changed the names since they were last built.
func (m *Mux) currentLabels() *labels {
	if ls := m.labels.Load(); ls != nil {
		return ls
	}
	m.regMu.Lock()
	defer m.regMu.Unlock()
	ls := m.labels.Load()
	if ls == nil {
		ls = buildLabels(m.names)
		m.labels.Store(ls)
	}
	return ls
}

// ensure registers name without color unless it is registered.
func (m *Mux) ensure(name string) {
	if m.currentLabels().byName[name] != nil {
		return
	}
	m.regMu.Lock()
	defer m.regMu.Unlock()
	if _, ok := m.names[name]; !ok {
		m.names[name] = -1
		m.labels.Store(nil)
	}
}

// Copy reads r until EOF and writes every line of it, whole, prefixed with
// name; a name not registered yet is registered without color. A line
// ends at "\n" or "\r\n"; a last line without one is written with "\n"
// added at EOF. A line longer than MaxLine is written in MaxLine pieces,
// each prefixed; memory stays bounded whatever r holds.
//
// Copy returns nil at EOF, or the first other read error after writing
// what was read. It never stops reading because of the output: after a
// write error, after Close or while output is blocked past the stall
// timeout, lines are discarded instead. Many Copy calls may run at once.
func (m *Mux) Copy(name string, stream Stream, r io.Reader) error {
	m.ensure(name)
	c := copier{m: m, name: name, f: newFormatter(&m.opts, name, stream)}
	defer c.stopTimer()
	return c.copy(r)
}

// stopTimer stops the timer of waits for queue room, if there is one.
func (c *copier) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

// copier is the state of one Copy call.
type copier struct {
	m     *Mux
	name  string
	f     *formatter
	timer *time.Timer // reused while waiting for queue room
}

func (c *copier) copy(r io.Reader) error {
	l := &copyLoop{c: c, r: r, wait: newReadyWaiter(r), size: min(startBuf, c.m.maxLine+2)}
	defer l.release()
	if l.wait == nil {
		_, err := l.run()
		return err
	}
	// This goroutine only waits; each burst of reads runs on a goroutine
	// of its own that ends when the pipe is drained. Formatting and
	// queueing a line grow a goroutine's stack to 8 KiB, and a stack never
	// shrinks while its goroutine waits, so a waiting Copy that had done
	// the work itself would keep 4 to 8 KiB, where this one needs 2 KiB:
	// 0.4 MiB for 100 quiet instances (two streams each). A fast child's
	// burst goroutine waits itself (see run): a hand-off per wakeup would
	// cost its reads 15% more CPU.
	var (
		more bool
		err  error
		done = make(chan struct{})
	)
	for {
		l.wait.wait() // an error is the Read's to report
		l.fresh = true
		go func() {
			more, err = l.run()
			done <- struct{}{}
		}()
		<-done
		if !more {
			return err
		}
	}
}

// flush writes the partial line held, if any, as a line.
func (l *copyLoop) flush() {
	if l.bp != nil && l.end > l.start {
		l.c.emit(nil, l.buf[l.start:l.end])
		l.start = l.end
	}
}

// dropBuf gives back the buffer of a drained pipe (no partial line held).
func (l *copyLoop) dropBuf() {
	l.c.m.freeReadBuf(l.bp)
	l.bp, l.buf, l.start, l.end = nil, nil, 0, 0
}

// release gives back the buffer and the pipe capacity l holds.
func (l *copyLoop) release() {
	l.c.m.pipeBytes.Add(-l.enlarged)
	l.enlarged = 0
	l.dropBuf()
}

// enlargePipe gives a fast child's pipe fastPipe bytes, within the Mux's
// budget.
func (l *copyLoop) enlargePipe() {
	m := l.c.m
	if l.wait == nil || l.enlarged != 0 {
		return
	}
	if m.pipeBytes.Add(fastPipe) <= pipeBudget && l.wait.enlarge(fastPipe) {
		l.enlarged = fastPipe
	} else {
		m.pipeBytes.Add(-fastPipe)
	}
}

// follow goes on reading a fast child's pipe, r, that leaves the pipe loop,
// from where the loop left l, until the end.
func (l *copyLoop) follow(r io.Reader) error {
	defer l.c.stopTimer()
	defer l.release()
	l.r, l.polled, l.wait, l.size = r, false, newReadyWaiter(r), fastBuf
	if l.bp != nil && len(l.buf) < fastBuf {
		l.take(fastBuf)
	}
	l.enlargePipe()
	for {
		more, err := l.run()
		if !more {
			return err
		}
		l.wait.wait()
		l.fresh = true
	}
}

// copyLoop is the state of a Copy between bursts of reads.
type copyLoop struct {
	c        *copier
	r        io.Reader
	wait     *readyWaiter // nil: r is not a pollable descriptor
	polled   bool         // r is a non-blocking pipe of the pipe loop: see run
	fast     bool         // polled, and a read filled the buffer
	fresh    bool         // wait has just returned: read before waiting again
	size     int          // what an empty buffer is: startBuf, or fastBuf for a fast child
	enlarged int64        // pipe capacity taken from the Mux's budget
	bp       *[]byte      // the buffer, nil while none is held
	buf      []byte       // *bp
	start    int          // buf[start:end] holds a partial line
	end      int
}

// take replaces the buffer by one of n bytes, keeping the partial line.
func (l *copyLoop) take(n int) {
	nbp := l.c.m.readBuf(n)
	l.end = copy(*nbp, l.buf[l.start:l.end])
	l.start = 0
	l.c.m.freeReadBuf(l.bp)
	l.bp, l.buf = nbp, *nbp
}

// run reads and writes lines until the pipe is drained with no partial
// line held (more: wait, then run again) or reading fails (err, nil at
// EOF). Without a waiter it reads until then.
//
// For the pipe loop (polled), run reads once and returns more: the loop's
// epoll is level-triggered and tells when there is more. A read that
// fills the buffer, and half of it or more, marks a fast child, which the
// loop hands to a goroutine of its own (follow); a partial line that
// fills it grows it at the next wakeup, as in Copy.
func (l *copyLoop) run() (more bool, err error) {
	c, m := l.c, l.c.m
	maxLine := m.maxLine
	for {
		if l.bp == nil {
			if l.wait != nil {
				switch {
				case l.fresh:
				case l.size == fastBuf:
					// A fast child: wait here, and spare the reads
					// the hand-off between goroutines.
					l.wait.wait()
				default:
					return true, nil
				}
				l.fresh = false
			}
			l.take(l.size)
		}
		if l.polled && l.start > 0 {
			// Keep a partial line at the front: a slow child writing 4 KiB
			// blocks that end mid-line would otherwise fill the buffer in
			// four wakeups, and look fast.
			l.end = copy(l.buf, l.buf[l.start:l.end])
			l.start = 0
		}
		if l.end == len(l.buf) {
			if l.start > 0 {
				l.end = copy(l.buf, l.buf[l.start:l.end])
				l.start = 0
			}
			if l.end == len(l.buf) {
				// A partial line fills the buffer: grow it (up to what a
				// maxLine line and its "\r\n" need, plus room to read).
				l.take(min(2*len(l.buf), maxLine+max(fastBuf, 2)))
			}
		}
		buf := l.buf
		n, err := l.r.Read(buf[l.end:])
		if err == errWouldBlock {
			err = nil // polled, a spurious wakeup: wait again
		}
		gather, full := false, false
		if n > 0 {
			scan := l.end // the partial line before this read holds no '\n'
			full = l.end+n == len(buf)
			gather = !full && l.enlarged > 0
			end := l.end + n
			start := l.start
			lines := start
			i := bytes.LastIndexByte(buf[scan:end], '\n')
			if i >= 0 {
				lines = scan + i + 1
			}
			// Split off maxLine pieces of a partial line once it is sure
			// to be longer than maxLine even without its line end.
			p := lines
			for end-p >= maxLine+2 || (end-p == maxLine+1 && buf[p+maxLine] != '\r') {
				p += maxLine
			}
			if p > start {
				c.emit(buf[start:lines], buf[lines:p])
			}
			start = p
			if start == end {
				start, end = 0, 0
			}
			l.start, l.end = start, end
			switch {
			case i >= 0 && len(buf) > fastBuf && end-start <= fastBuf/2:
				// A long line has ended: give back its memory.
				l.take(fastBuf)
			case full && len(buf) < fastBuf && !l.polled:
				// Reads fill the small buffer: a fast child, read more at once,
				// and give it a bigger pipe so that it blocks less often and
				// proctor wakes up less often (-20% of proctor's CPU time for
				// 4 children writing 1,000,000 lines).
				l.size = fastBuf
				l.take(fastBuf)
				l.enlargePipe()
			case l.wait != nil && end == start && !full && err == nil:
				// The pipe is drained and no partial line is held: wait
				// for more without a buffer, so that an idle child costs
				// no memory.
				l.dropBuf()
			}
		}
		if l.polled && err == nil {
			switch {
			case full && n >= len(buf)/2:
				l.fast = true // handed to a goroutine of its own
			case l.end == l.start:
				// Drained, no partial line held: no buffer while quiet.
				l.dropBuf()
			}
			return true, nil
		}
		if gather && err == nil {
			time.Sleep(gatherWait)
		}
		if err != nil {
			l.flush()
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
	}
}

// readBuf returns a read buffer of n bytes, from a pool for the two usual
// sizes.
func (m *Mux) readBuf(n int) *[]byte {
	switch n {
	case startBuf:
		return m.smallBufs.Get().(*[]byte)
	case fastBuf:
		return m.fastBufs.Get().(*[]byte)
	}
	b := make([]byte, n)
	return &b
}

// freeReadBuf gives a buffer from readBuf back; nil is ignored.
func (m *Mux) freeReadBuf(bp *[]byte) {
	if bp == nil {
		return
	}
	switch len(*bp) {
	case startBuf:
		m.smallBufs.Put(bp)
	case fastBuf:
		m.fastBufs.Put(bp)
	}
}

// emit formats complete lines and line pieces read together and hands them
// to the main output and the subscribers, one put each.
func (c *copier) emit(lines, pieces []byte) {
	m := c.m
	subs := m.subs.Load()
	mainOn := !m.q.stopped.Load()
	if !mainOn && (subs == nil || len(*subs) == 0) {
		return
	}
	c.f.update(m.now(), m.currentLabels())
	bp := m.bufs.Get().(*[]byte)
	if mainOn {
		out, n := c.f.appendMain((*bp)[:0], lines, pieces, m.maxLine)
		m.q.put(out, n, &c.timer)
		*bp = out
	}
	if subs != nil {
		for _, s := range *subs {
			if s.raw && c.f.stream == System {
				continue // a log file holds no line of proctor's own
			}
			if s.filter != nil && c.f.name != "" && !s.filter(c.name) { // system lines pass
				continue
			}
			var head []byte
			if !s.raw {
				head = c.f.subHead(s.color)
			}
			out, n := appendTextLines((*bp)[:0], head, lines, pieces, m.maxLine)
			s.q.put(out, n, &c.timer)
			*bp = out
		}
	}
	m.putBuf(bp)
}

// putBuf returns a chunk buffer to the pool unless a long line made it huge.
func (m *Mux) putBuf(bp *[]byte) {
	if cap(*bp) <= 4*MaxLine {
		*bp = (*bp)[:0]
		m.bufs.Put(bp)
	}
}

// System writes one of proctor's own lines, named "system" and never
// colored, to the output and to every subscriber. A line holding "\n" is
// written as several lines, each prefixed. System is safe for concurrent
// use; it does not wait for the output (it queues like Copy).
func (m *Mux) System(line string) {
	data := make([]byte, 0, len(line)+1)
	data = append(data, line...)
	if len(data) == 0 || data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	c := copier{m: m, name: systemName, f: newFormatter(&m.opts, "", System)}
	c.emit(data, nil)
	c.stopTimer()
}

// appendSystem appends msg as a system line in format f's settings.
func (m *Mux) appendSystem(dst []byte, msg string, opts *Options) []byte {
	f := newFormatter(opts, "", System)
	f.update(m.now(), m.currentLabels())
	dst, _ = f.appendMain(dst, []byte(msg+"\n"), nil, m.maxLine)
	return dst
}

// blockedNote reports lines the main output dropped while a Write was blocked.
func (m *Mux) blockedNote(dst []byte, dropped int64) []byte {
	msg := strconv.FormatInt(dropped, 10) + " lines dropped: output was blocked for more than " + m.stall.String()
	return m.appendSystem(dst, msg, &m.opts)
}

// Failed returns a channel that is closed when writing to the output
// failed (EPIPE when stdout was closed, ENOSPC, ...). From then on the Mux
// discards output but keeps draining its readers, so children never block;
// the caller is expected to shut down. Failed is safe for concurrent use.
func (m *Mux) Failed() <-chan struct{} { return m.q.failed }

// Err returns the first write error, or nil. It is safe for concurrent use.
func (m *Mux) Err() error { return m.q.error() }

// Close writes what is queued, detaches every subscriber and stops the
// writer goroutines and the pipe loop. Lines from Copy or System calls that
// run after Close started are discarded: call it once every Copy has
// returned and every CopyPipe has called its done.
//
// Close waits at most the stall timeout (Options.StallTimeout) in all, and
// for subscribers at most 500 ms more than the main output needed. If a
// Write is still blocked then (nobody reads the pipe), Close gives up:
// the goroutine inside that Write is abandoned, exits when the Write
// returns and writes nothing more, and Close returns an error wrapping
// ErrBlocked that counts the lines not written. Otherwise Close returns
// the first write error, or nil. Further calls return the same.
func (m *Mux) Close() error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		deadline := time.Now().Add(m.stall)
		m.subMu.Lock()
		var subs []*subscriber
		if p := m.subs.Load(); p != nil {
			subs = *p
		}
		m.subs.Store(nil)
		m.subMu.Unlock()

		m.q.beginClose()
		for _, s := range subs {
			s.q.beginClose()
		}
		m.loopOnce.Do(func() {}) // no loop starts from now on
		if l := m.loop.Load(); l != nil {
			l.stop()
		}
		lost, timedOut := m.q.finishClose(deadline)
		subDeadline := time.Now().Add(subCloseWait)
		if deadline.Before(subDeadline) {
			subDeadline = deadline
		}
		for _, s := range subs {
			s.q.finishClose(subDeadline)
		}
		if timedOut {
			m.closeErr = fmt.Errorf("output: %w: gave up after %v, %d lines not written", ErrBlocked, m.stall, lost)
			return
		}
		m.closeErr = m.q.error()
	})
	return m.closeErr
}
