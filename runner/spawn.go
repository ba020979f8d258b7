package runner

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// spawnSpec is one process to start.
type spawnSpec struct {
	command string
	dir     string
	env     []string
	// files become the child's fds 0, 1 and 2.
	files [3]*os.File
	// tty starts the child as the leader of a new session with files[0] as
	// its controlling terminal; otherwise it leads a new process group.
	tty bool
	// argv, when set, is executed directly instead of `/bin/sh -c command`,
	// and without a parent-death signal: the guardian must outlive proctor.
	argv []string
}

type spawnReq struct {
	spec  spawnSpec
	reply chan<- spawnResult
}

type spawnResult struct {
	pid int
	err error
}

// spawner forks every child from one goroutine locked to one OS thread for
// its whole life. The Linux parent-death signal fires when the *thread* that
// forked a child exits, and Go retires idle threads; a thread that never
// unlocks lives as long as the spawner, which lives until the runner is done.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

func startSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	defer close(s.done)
	// Never unlocked: when loop returns the thread exits with it, and by
	// then every child has been reaped.
	runtime.LockOSThread()
	for req := range s.reqs {
		pid, err := forkExec(req.spec)
		req.reply <- spawnResult{pid, err}
	}
}

// spawn starts spec and returns the child's pid. It is called only by the
// supervisor goroutine.
func (s *spawner) spawn(spec spawnSpec) (int, error) {
	reply := make(chan spawnResult, 1)
	s.reqs <- spawnReq{spec, reply}
	r := <-reply
	return r.pid, r.err
}

// stop ends the spawner and waits for its goroutine.
func (s *spawner) stop() {
	close(s.reqs)
	<-s.done
}

func forkExec(spec spawnSpec) (int, error) {
	attr := &syscall.ProcAttr{
		Dir:   spec.dir,
		Env:   spec.env,
		Files: []uintptr{spec.files[0].Fd(), spec.files[1].Fd(), spec.files[2].Fd()},
		Sys:   sysProcAttr(spec.tty),
	}
	if spec.argv != nil {
		attr.Sys = &syscall.SysProcAttr{Setpgid: true}
		pid, err := syscall.ForkExec(spec.argv[0], spec.argv, attr)
		if err != nil {
			return 0, fmt.Errorf("start %s: %w", spec.argv[0], err)
		}
		return pid, nil
	}
	pid, err := syscall.ForkExec(shellPath, []string{shellPath, "-c", spec.command}, attr)
	if err != nil {
		return 0, fmt.Errorf("start %s -c %q: %w", shellPath, spec.command, err)
	}
	return pid, nil
}

// shellPath runs every Procfile command, as in foreman.
const shellPath = "/bin/sh"
