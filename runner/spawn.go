package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
)

// spawnSpec is one process to start.
type spawnSpec struct {
	command string
	dir     string
	env     []string
	// files become the child's fds 0, 1 and 2: descriptors of proctor's,
	// open until the fork.
	files [3]int
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
	specs []spawnSpec
	reply chan<- []spawnResult
}

type spawnResult struct {
	pid int
	err error
}

// spawner forks every child from goroutines locked to their OS threads for
// their whole life. The Linux parent-death signal fires when the *thread*
// that forked a child exits, and Go retires idle threads; a thread that
// never unlocks lives as long as the spawner, which lives until the runner
// is done.
//
// There are two such threads. Go forks with vfork: the forking thread
// waits until the child has executed its program, so one thread forks at
// most one child at a time, and while the kernel loads one program the
// other core sat idle. Two threads fork two children at once.
type spawner struct {
	workers [spawnThreads]chan spawnReq
	tids    [spawnThreads]int // the threads' ids, which every child has as parent
	done    chan struct{}
}

// spawnThreads is the number of forking threads.
const spawnThreads = 2

func startSpawner() *spawner {
	s := &spawner{done: make(chan struct{})}
	var wg, started sync.WaitGroup
	for i := range s.workers {
		s.workers[i] = make(chan spawnReq)
		started.Add(1)
		wg.Go(func() {
			// Never unlocked: when work returns the thread exits with
			// it. By then no instance is left; the guardian, forked
			// without a parent-death signal, may still be exiting.
			runtime.LockOSThread()
			s.tids[i] = threadID()
			started.Done()
			work(s.workers[i])
		})
	}
	started.Wait()
	go func() {
		wg.Wait()
		close(s.done)
	}()
	return s
}

// work forks what reqs asks for until it is closed, on a thread locked
// to its goroutine.
func work(reqs <-chan spawnReq) {
	for req := range reqs {
		results := make([]spawnResult, len(req.specs))
		for i, spec := range req.specs {
			results[i].pid, results[i].err = forkExec(spec)
		}
		req.reply <- results
	}
}

// spawn starts spec and returns the child's pid. It is called only by the
// supervisor goroutine.
func (s *spawner) spawn(spec spawnSpec) (int, error) {
	r := s.spawnAll([]spawnSpec{spec})[0]
	return r.pid, r.err
}

// spawnAll starts specs and returns their outcomes in the same order, the
// threads taking every other one. One request for many children also
// spares each the two hand-offs between the supervisor and a spawner
// thread. It is called only by the supervisor goroutine.
func (s *spawner) spawnAll(specs []spawnSpec) []spawnResult {
	n := min(len(specs), spawnThreads)
	var replies [spawnThreads]chan []spawnResult
	for w := range n {
		var mine []spawnSpec
		for i := w; i < len(specs); i += n {
			mine = append(mine, specs[i])
		}
		replies[w] = make(chan []spawnResult, 1)
		s.workers[w] <- spawnReq{mine, replies[w]}
	}
	results := make([]spawnResult, len(specs))
	for w := range n {
		for j, r := range <-replies[w] {
			results[w+j*n] = r
		}
	}
	return results
}

// threads returns the ids of the spawner's threads.
func (s *spawner) threads() []int { return s.tids[:] }

// stop ends the spawner and waits for its threads.
func (s *spawner) stop() {
	for _, w := range s.workers {
		close(w)
	}
	<-s.done
}

func forkExec(spec spawnSpec) (int, error) {
	attr := &syscall.ProcAttr{
		Dir:   spec.dir,
		Env:   spec.env,
		Files: []uintptr{uintptr(spec.files[0]), uintptr(spec.files[1]), uintptr(spec.files[2])},
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
		if path, err := FindProgram(spec.direct[0], spec.env, spec.dir); err == nil {
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

// Errors of FindProgram.
var (
	// ErrNoSuchFile: a name with a slash names no file.
	ErrNoSuchFile = errors.New("no such file")
	// ErrNotExecutable: a name with a slash names a directory, or a file
	// without an execute bit.
	ErrNotExecutable = errors.New("permission denied")
	// ErrCommandNotFound: no directory of PATH holds an executable name.
	ErrCommandNotFound = errors.New("command not found")
)

// defaultPath is the search path when the environment has no PATH, as a
// POSIX shell has it.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// FindProgram finds the program name as a shell would for a process with
// environment env running in dir: a name with a slash as it is (relative to
// dir), any other in env's PATH (relative entries relative to dir). It
// returns the path to execute, or one of the errors above.
func FindProgram(name string, env []string, dir string) (string, error) {
	inDir := func(p string) string {
		if filepath.IsAbs(p) || dir == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	if strings.Contains(name, "/") {
		path := inDir(name)
		info, err := os.Stat(path)
		switch {
		case err != nil:
			return "", ErrNoSuchFile
		case info.IsDir() || info.Mode()&0o111 == 0:
			return "", ErrNotExecutable
		}
		return path, nil
	}
	pathVar := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
			break
		}
	}
	for _, d := range filepath.SplitList(pathVar) {
		if d == "" {
			d = "."
		}
		path := filepath.Join(inDir(d), name)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", ErrCommandNotFound
}

// shellPath runs every Procfile command, as in foreman.
const shellPath = "/bin/sh"
