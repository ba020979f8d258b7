package output

import (
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// queue is a bounded byte queue in front of one io.Writer, drained by one
// writer goroutine (run) with group commit: each Write takes everything
// that queued up while the previous Write ran.
//
// Producers (put) append whole formatted chunks under mu, so lines never
// interleave. When the queue is over its limit a producer either waits for
// the writer (wait == true: backpressure, for the main output) or drops the
// chunk at once (subscribers). Either way, once one Write has been blocked
// for stall, chunks are dropped, counted, and reported with a note when the
// Write returns.
type queue struct {
	w     io.Writer
	limit int           // queued bytes above which put waits or drops
	stall time.Duration // how long one Write may block before put drops
	wait  bool          // put waits for room instead of dropping at once
	note  func(dst []byte, dropped int64) []byte

	stopped atomic.Bool // err set or closing: put discards, callers may skip formatting

	mu           sync.Mutex
	buf          []byte // queued output, whole lines
	bufLines     int
	spare        []byte // the previous batch, reused for buf
	idle         bool   // run waits on wake
	writing      bool   // run is inside w.Write
	writeStart   time.Time
	writingLines int
	dropping     bool  // drop every chunk until the current Write returns
	dropped      int64 // dropped lines not yet reported by a note
	room         chan struct{}
	closing      bool
	gaveUp       bool // close stopped waiting; run must not write again
	err          error

	wake   chan struct{} // capacity 1; sent to only when idle was true
	done   chan struct{} // closed when run returns
	failed chan struct{} // closed on the first write error
}

func newQueue(w io.Writer, limit int, stall time.Duration, wait bool, note func([]byte, int64) []byte) *queue {
	return &queue{
		w: w, limit: limit, stall: stall, wait: wait, note: note,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		failed: make(chan struct{}),
	}
}

// put queues p, which holds lines whole lines. tm is the caller's reusable
// timer for waiting (created on first need).
func (q *queue) put(p []byte, lines int, tm **time.Timer) {
	q.mu.Lock()
	for {
		if q.err != nil || q.closing {
			q.mu.Unlock()
			return
		}
		if q.dropping {
			q.dropped += int64(lines)
			q.mu.Unlock()
			return
		}
		if len(q.buf) == 0 || len(q.buf)+len(p) <= q.limit {
			if len(q.buf)+len(p) > cap(q.buf) {
				q.grow(len(p))
			}
			q.buf = append(q.buf, p...)
			q.bufLines += lines
			q.wakeLocked()
			q.mu.Unlock()
			return
		}
		stalled := q.writing && time.Since(q.writeStart) >= q.stall
		if !q.wait || stalled {
			q.dropping = true
			q.dropped += int64(lines)
			q.mu.Unlock()
			return
		}
		// Backpressure: wait until the writer takes the queue, or until the
		// current Write has been blocked for stall.
		deadline := time.Now().Add(q.stall)
		if q.writing {
			deadline = q.writeStart.Add(q.stall)
		}
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		if *tm == nil {
			*tm = time.NewTimer(time.Until(deadline))
		} else {
			(*tm).Reset(time.Until(deadline))
		}
		select {
		case <-room:
			(*tm).Stop()
		case <-(*tm).C:
		}
		q.mu.Lock()
	}
}

// grow makes room for n more bytes in buf. Past 64 KiB it grows at once to
// the whole queue (limit and an eighth) rather than by doubling: the queue
// fills up to its limit whenever output is fast, and each reallocation on
// the way copied the queue into fresh memory whose every page faults on
// first touch (20 reallocations, 8 MB of pages for the two buffers). Small
// output, a terminal's or a quiet stack's, keeps small buffers.
func (q *queue) grow(n int) {
	need := len(q.buf) + n
	if need <= 64<<10 {
		q.buf = slices.Grow(q.buf, n)
		return
	}
	nb := make([]byte, len(q.buf), max(q.limit+q.limit/8, need))
	copy(nb, q.buf)
	q.buf = nb
}

// wakeLocked wakes run if it waits for work.
func (q *queue) wakeLocked() {
	if q.idle {
		q.idle = false
		q.wake <- struct{}{} // cannot block: run takes every token it is sent
	}
}

// roomLocked releases producers waiting in put.
func (q *queue) roomLocked() {
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
}

// run is the writer goroutine.
func (q *queue) run() {
	defer close(q.done)
	q.mu.Lock()
	for {
		for len(q.buf) == 0 && !q.closing && q.err == nil {
			q.idle = true
			q.mu.Unlock()
			<-q.wake
			q.mu.Lock()
		}
		if len(q.buf) == 0 || q.err != nil || q.gaveUp {
			q.mu.Unlock()
			return
		}
		batch, lines := q.buf, q.bufLines
		q.buf, q.bufLines, q.spare = q.spare[:0], 0, nil
		q.writing, q.writeStart, q.writingLines = true, time.Now(), lines
		q.roomLocked()
		q.mu.Unlock()

		n, err := q.w.Write(batch)
		if err == nil && n < len(batch) {
			err = io.ErrShortWrite
		}

		q.mu.Lock()
		q.writing, q.writingLines = false, 0
		q.spare = batch[:0]
		if q.gaveUp {
			q.mu.Unlock()
			return
		}
		if err != nil {
			q.err = err
			q.stopped.Store(true)
			q.buf, q.bufLines, q.spare = nil, 0, nil
			close(q.failed)
			q.roomLocked()
			q.mu.Unlock()
			return
		}
		q.dropping = false
		if q.dropped > 0 {
			q.buf = q.note(q.buf, q.dropped)
			q.bufLines++
			q.dropped = 0
		}
	}
}

// beginClose stops accepting lines and lets run write what is queued.
func (q *queue) beginClose() {
	q.mu.Lock()
	q.closing = true
	q.stopped.Store(true)
	if q.dropped > 0 && q.err == nil && !q.writing {
		q.buf = q.note(q.buf, q.dropped)
		q.bufLines++
		q.dropped = 0
	}
	q.wakeLocked()
	q.roomLocked()
	q.mu.Unlock()
}

// finishClose waits for run to write everything until deadline. If run is
// still writing then, it gives up and returns the number of lines that were
// not written (queued, in the blocked Write, or dropped and unreported);
// run then exits whenever its Write returns, without writing again.
func (q *queue) finishClose(deadline time.Time) (lost int64, timedOut bool) {
	q.mu.Lock()
	gaveUp := q.gaveUp
	q.mu.Unlock()
	if gaveUp {
		return 0, true // an earlier call gave up and counted the loss
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-q.done:
		return 0, false
	case <-t.C:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-q.done:
		return 0, false
	default:
	}
	q.gaveUp = true
	lost = int64(q.bufLines+q.writingLines) + q.dropped
	q.buf, q.bufLines, q.spare, q.dropped = nil, 0, nil, 0
	return lost, true
}

// error returns the first write error.
func (q *queue) error() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}
