package runner

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// exitEvent is a child reaped by the reaper. noChildren is set instead when
// wait4 reported that proctor has no children left at all.
type exitEvent struct {
	pid        int
	status     syscall.WaitStatus
	noChildren bool
}

// reaper is the only code in proctor that waits for children. It loops on
// wait4(-1) whenever SIGCHLD arrives (or when poked), queues each status
// for the supervisor, and so also reaps descendants adopted as a subreaper
// and, as PID 1, every zombie. Nothing else may call wait while it runs:
// two waiters steal each other's statuses. (Once it has stopped, the shell
// reaps the guardian itself: see awaitGuardian.)
//
// A status is queued as soon as wait4 returns it, so the supervisor, which
// takes the queue before anything else, never serves a request with a
// process that is already reaped. The queue has no bound and the reaper
// never waits for the supervisor: reaping a child costs the kernel 25 to
// 50 µs (it frees the child's /proc entries), and at shutdown the
// supervisor is busy signalling 100 groups while they exit. Through a
// channel of 64 the reaper stopped at the 64th and reaped the rest one by
// one after the signalling, up to 1.8 ms after the last instance had
// exited.
type reaper struct {
	sigchld chan os.Signal
	poke    chan struct{}
	stopCh  chan struct{}
	done    chan struct{}
	// ready has a value when queue may have gained events.
	ready chan struct{}
	mu    sync.Mutex
	queue []exitEvent
}

func startReaper() *reaper {
	r := &reaper{
		sigchld: make(chan os.Signal, 1),
		poke:    make(chan struct{}, 1),
		stopCh:  make(chan struct{}),
		done:    make(chan struct{}),
		ready:   make(chan struct{}, 1),
	}
	signal.Notify(r.sigchld, syscall.SIGCHLD)
	go r.loop()
	return r
}

func (r *reaper) loop() {
	defer close(r.done)
	for {
		r.reapAll()
		select {
		case <-r.sigchld:
		case <-r.poke:
		case <-r.stopCh:
			return
		}
	}
}

// reapAll reaps every child that has exited, then queues a noChildren
// event if wait4 found no child at all.
func (r *reaper) reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD):
			r.put(exitEvent{noChildren: true})
			return
		case err != nil || pid <= 0:
			return // children exist, none has exited yet
		}
		r.put(exitEvent{pid: pid, status: ws})
	}
}

// put queues ev; a noChildren event right after another is dropped.
func (r *reaper) put(ev exitEvent) {
	r.mu.Lock()
	if n := len(r.queue); !ev.noChildren || n == 0 || !r.queue[n-1].noChildren {
		r.queue = append(r.queue, ev)
	}
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// take returns the queued events, oldest first, and empties the queue.
func (r *reaper) take() []exitEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.queue
	r.queue = nil
	return evs
}

// check asks for a pass even though no SIGCHLD came, e.g. to learn whether
// any children are left.
func (r *reaper) check() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

func (r *reaper) stop() {
	signal.Stop(r.sigchld)
	close(r.stopCh)
	<-r.done
}
