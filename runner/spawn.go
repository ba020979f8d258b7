package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	// direct, when set, is the command as words, executed without a shell
	// once its program is found in the PATH of env (a command without
	// shell syntax: procfile.Argv); when it is not found, /bin/sh -c
	// command runs instead, and says so as a shell would.
	direct []string
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
	if spec.direct != nil {
		if path, ok := findProgram(spec.direct[0], spec.env, spec.dir); ok {
			if pid, err := syscall.ForkExec(path, spec.direct, attr); err == nil {
				return pid, nil
			}
			// Not executable after all (a script without #!, ...): the
			// shell gives the error its usual words and exit code.
		}
	}
	pid, err := syscall.ForkExec(shellPath, []string{shellPath, "-c", spec.command}, attr)
	if err != nil {
		return 0, fmt.Errorf("start %s -c %q: %w", shellPath, spec.command, err)
	}
	return pid, nil
}

// findProgram finds name as a shell would: a name with a slash as it is
// (relative to dir), any other in the PATH of env; ok only for a regular
// file with an execute bit.
func findProgram(name string, env []string, dir string) (string, bool) {
	executable := func(p string) bool {
		full := p
		if !filepath.IsAbs(full) && dir != "" {
			full = filepath.Join(dir, full)
		}
		info, err := os.Stat(full)
		return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
	}
	if strings.Contains(name, "/") {
		return name, executable(name)
	}
	path := "/usr/local/bin:/usr/bin:/bin" // a shell's default
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
			break
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if p := filepath.Join(d, name); executable(p) {
			return p, true
		}
	}
	return "", false
}

// shellPath runs every Procfile command, as in foreman.
const shellPath = "/bin/sh"
