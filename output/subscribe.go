package output

import (
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// subscriber is a second destination of the lines: a live `proctor logs`
// client. Its queue drops instead of waiting, so it never slows the main
// output.
type subscriber struct {
	q      *queue
	filter func(name string) bool
	color  bool
	raw    bool // bare lines, no system lines: a log file (LogTo)
}

// Subscribe attaches a second destination, w, which gets the text format
// of the lines whose instance name passes filter (nil passes all) and of
// every system line, colored if color is set, with timestamps unless
// Options.NoTimestamp, always prefixed. Lines that arrived before Subscribe
// are not repeated.
//
// A slow subscriber never slows or blocks the main output: it has its own
// writer goroutine and a bounded queue, and lines it cannot take are
// dropped, counted and reported to it with a system line once its Write
// returns. A Write error ends the subscription's output silently; the
// caller owns w and notices its failure itself.
//
// cancel detaches the subscriber and returns once nothing more will be
// written to w, after writing what was queued; if a Write to w stays
// blocked, cancel gives up after the stall timeout, and the goroutine in
// that Write exits when it returns, writing nothing more. cancel may be
// called more than once. Close cancels every subscriber. Subscribe is safe
// for concurrent use; after Close it attaches nothing.
func (m *Mux) Subscribe(w io.Writer, filter func(name string) bool, color bool) (cancel func()) {
	s := &subscriber{filter: filter, color: color}
	opts := m.opts
	opts.Format, opts.NoPrefix, opts.Color = Text, false, color
	s.q = newQueue(w, subSize, m.stall, false, func(dst []byte, dropped int64) []byte {
		msg := strconv.FormatInt(dropped, 10) + " lines dropped: this client reads too slowly"
		return m.appendSystem(dst, msg, &opts)
	})
	return m.attach(s)
}

// LogTo attaches a log file, w: it gets the bare lines (no time, name or
// color: what the child wrote) of the instances whose name passes filter,
// and none of proctor's own lines (system lines, or those it writes under
// an instance's name, such as "started with pid"). Like a subscriber it never slows the main output;
// lines it cannot take in time are dropped and counted in a line
// "--- proctor: N lines dropped ---". The first Write error ends its output
// and is passed to failed (once, on another goroutine), which may report it;
// the main output goes on. cancel detaches it as Subscribe's does.
func (m *Mux) LogTo(w io.Writer, filter func(name string) bool, failed func(error)) (cancel func()) {
	s := &subscriber{filter: filter, raw: true}
	s.q = newQueue(w, subSize, m.stall, false, func(dst []byte, dropped int64) []byte {
		return append(dst, "--- proctor: "+strconv.FormatInt(dropped, 10)+" lines dropped: the file was written too slowly ---\n"...)
	})
	if failed != nil {
		go func() {
			<-s.q.done // its writer has ended: closed, or failed
			select {
			case <-s.q.failed:
				failed(s.q.error())
			default:
			}
		}()
	}
	return m.attach(s)
}

// attach starts s's writer and adds it to the subscribers.
func (m *Mux) attach(s *subscriber) (cancel func()) {
	m.subMu.Lock()
	if m.closed.Load() {
		m.subMu.Unlock()
		return func() {}
	}
	go s.q.run()
	var subs []*subscriber
	if p := m.subs.Load(); p != nil {
		subs = slices.Clone(*p)
	}
	subs = append(subs, s)
	m.subs.Store(&subs)
	m.subMu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			m.subMu.Lock()
			if p := m.subs.Load(); p != nil {
				subs := slices.DeleteFunc(slices.Clone(*p), func(x *subscriber) bool { return x == s })
				m.subs.Store(&subs)
			}
			m.subMu.Unlock()
			s.q.beginClose()
			s.q.finishClose(time.Now().Add(m.stall))
		})
	}
}
