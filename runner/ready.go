package runner

import (
	"slices"
	"time"
)

// Readiness probing backs off from probeFirst, doubling up to probeMax, and
// gives up on an instance probeLimit after it started.
const (
	probeFirst = 20 * time.Millisecond
	probeMax   = time.Second
	probeLimit = 2 * time.Minute
)

// probeTarget is an instance whose port is watched.
type probeTarget struct {
	gen     uint64 // the instance's run; a restart makes a new one
	pid     int    // the run's process, root of the tree that must listen
	port    int
	started time.Time
}

// prober watches the ports of started instances and reports each once when
// a socket held by the instance's own processes listens on it: a port that
// another program already held does not make an instance ready. One goroutine serves all instances: on Linux one
// sock_diag dump of the listening sockets per address family answers for
// every port at once (see portLister); elsewhere it connects to each. It owns its state; the supervisor talks to it only
// through channels and never blocks on it. When nothing is pending it sleeps
// without a timer, so an idle stack costs no CPU.
type prober struct {
	add    chan probeTarget
	drop   chan uint64
	events chan uint64 // the runs whose port is ready
	stopCh chan struct{}
	done   chan struct{}
	now    func() time.Time
	// listen returns the inodes of the sockets listening on each port.
	listen func(ports map[int]bool) map[int][]uint64
	// tree takes a snapshot of the processes, to tell the owner of a
	// socket.
	tree func() *procTree
}

func startProber(now func() time.Time) *prober {
	p := &prober{
		add:    make(chan probeTarget, 16),
		drop:   make(chan uint64, 16),
		events: make(chan uint64),
		stopCh: make(chan struct{}),
		done:   make(chan struct{}),
		now:    now,
		listen: (&portLister{}).listening,
		tree:   readProcTree,
	}
	go p.loop()
	return p
}

func (p *prober) loop() {
	defer close(p.done)
	var (
		pending  []probeTarget
		outbox   []uint64
		interval = probeFirst
		timer    = time.NewTimer(time.Hour)
		timerC   <-chan time.Time
		want     = map[int]bool{} // the pending ports, refilled for each probe
	)
	timer.Stop()
	defer timer.Stop()
	for {
		var send chan uint64
		var next uint64
		if len(outbox) > 0 {
			send, next = p.events, outbox[0]
		}
		select {
		case <-p.stopCh:
			return
		case t := <-p.add:
			pending = append(pending, t)
			interval = probeFirst
			timer.Reset(interval)
			timerC = timer.C
		case gen := <-p.drop:
			pending = slices.DeleteFunc(pending, func(t probeTarget) bool { return t.gen == gen })
		case send <- next:
			outbox = outbox[1:]
		case <-timerC:
			timerC = nil
			now := p.now()
			clear(want)
			for _, t := range pending {
				want[t.port] = true
			}
			up := p.listen(want)
			var tree *procTree // read once, when some port has a listener
			owned := func(t probeTarget) bool {
				inodes := up[t.port]
				if len(inodes) == 0 {
					return false
				}
				if tree == nil {
					tree = p.tree()
				}
				return tree.ownedBy(t.pid, inodes)
			}
			kept := pending[:0]
			for _, t := range pending {
				switch {
				case owned(t):
					outbox = append(outbox, t.gen)
				case now.Sub(t.started) < probeLimit:
					kept = append(kept, t)
				}
			}
			pending = kept
			if len(pending) > 0 {
				interval = min(2*interval, probeMax)
				timer.Reset(interval)
				timerC = timer.C
			}
		}
	}
}

// watch starts watching t; it never blocks the caller for long (the
// channel is buffered and the prober drains it promptly).
func (p *prober) watch(t probeTarget) {
	select {
	case p.add <- t:
	case <-p.stopCh:
	}
}

// forget stops watching the run gen (the instance exited).
func (p *prober) forget(gen uint64) {
	select {
	case p.drop <- gen:
	case <-p.stopCh:
	}
}

func (p *prober) stop() {
	close(p.stopCh)
	<-p.done
}
