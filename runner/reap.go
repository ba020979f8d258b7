package runner

import (
	"errors"
	"os"
	"os/signal"
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
// wait4(-1) whenever SIGCHLD arrives (or when poked), hands each status to
// the supervisor, and so also reaps descendants adopted as a subreaper and,
// as PID 1, every zombie. Nothing else may call wait: two waiters steal
// each other's statuses.
type reaper struct {
	sigchld chan os.Signal
	poke    chan struct{}
	stopCh  chan struct{}
	done    chan struct{}
	events  chan exitEvent
}

func startReaper() *reaper {
	r := &reaper{
		sigchld: make(chan os.Signal, 1),
		poke:    make(chan struct{}, 1),
		stopCh:  make(chan struct{}),
		done:    make(chan struct{}),
		events:  make(chan exitEvent, 64),
	}
	signal.Notify(r.sigchld, syscall.SIGCHLD)
	go r.loop()
	return r
}

func (r *reaper) loop() {
	defer close(r.done)
	for {
		if !r.reapAll() {
			return
		}
		select {
		case <-r.sigchld:
		case <-r.poke:
		case <-r.stopCh:
			return
		}
	}
}

// reapAll reaps every child that has exited; it reports false when it was
// stopped while handing over an event.
func (r *reaper) reapAll() bool {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		var ev exitEvent
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD):
			ev = exitEvent{noChildren: true}
		case err != nil || pid <= 0:
			return true // children exist, none has exited yet
		default:
			ev = exitEvent{pid: pid, status: ws}
		}
		select {
		case r.events <- ev:
		case <-r.stopCh:
			return false
		}
		if ev.noChildren {
			return true
		}
	}
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
