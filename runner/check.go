package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/procfile"
)

// The readiness checks of .proctor other than port: the prober answers
// for ports (one kernel dump for every instance); tcp, http and exec poll
// in a goroutine of their own per run, backing off from checkFirst to
// checkMax, until they pass or the run ends; log reads the run's output as
// it is copied.
const (
	checkFirst   = 20 * time.Millisecond
	checkMax     = time.Second
	checkTimeout = 2 * time.Second // for one attempt of tcp, http or exec
)

// poll calls probe, backing off between attempts, until it passes (true)
// or ctx is done (false).
func poll(ctx context.Context, probe func(context.Context) bool) bool {
	wait := checkFirst
	for {
		attempt, cancel := context.WithTimeout(ctx, checkTimeout)
		ok := probe(attempt)
		cancel()
		if ok {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, checkMax)
	}
}

// probeFor returns the probe of check for an instance on port with
// environment env; nil for the checks polled elsewhere.
func (s *shell) probeFor(check procfile.Readiness, port int, env []string) func(context.Context) bool {
	switch check.Kind {
	case procfile.ReadyTCP:
		return func(ctx context.Context) bool {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", check.Arg)
			if err == nil {
				c.Close()
			}
			return err == nil
		}
	case procfile.ReadyHTTP:
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		return func(ctx context.Context) bool { return httpOK(ctx, addr, check.Arg) }
	case procfile.ReadyExec:
		return func(ctx context.Context) bool { return s.runProbe(ctx, check.Arg, env) }
	}
	return nil
}

// probeRun asks the shell's goroutine to start an exec check's command; its
// success is sent on result once the reaper has reaped it. The command is
// forked by the spawner and reaped by the reaper like every child, since
// the reaper waits for any child: os/exec's own wait would race it.
type probeRun struct {
	command string
	env     []string
	result  chan bool // buffered: the shell never blocks on it
}

// runProbe runs command once, through the shell's goroutine, and reports
// whether it exited 0 before ctx ended (then its group is killed).
func (s *shell) runProbe(ctx context.Context, command string, env []string) bool {
	run := probeRun{command: command, env: env, result: make(chan bool, 1)}
	select {
	case s.probeReq <- run:
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
	select {
	case ok := <-run.result:
		return ok
	case <-ctx.Done():
		select {
		case s.probeTimeout <- run.result:
		case <-s.done:
		}
		return false
	}
}

// startProbe forks run's command for runProbe, on the shell's goroutine.
func (s *shell) startProbe(run probeRun) {
	environ := run.env
	if s.guardToken != "" {
		environ = env.Set(environ, guardTokenEnv, s.guardToken)
	}
	pid, err := s.spawner.spawn(spawnSpec{command: run.command, dir: s.opts.Dir, env: environ, files: [3]int{int(s.devNull.Fd()), int(s.devNull.Fd()), int(s.devNull.Fd())}})
	if err != nil {
		run.result <- false
		return
	}
	s.childrenGone = false
	s.probes[pid] = run.result
}

// endProbe kills the group of the probe whose result channel is result,
// which took too long; its exit is then reaped as any.
func (s *shell) endProbe(result chan bool) {
	for pid, r := range s.probes {
		if r == result {
			signalGroup(pid, syscall.SIGKILL)
		}
	}
}

// probeExited reports whether pid was an exec check's command, and if so
// passes on its outcome.
func (s *shell) probeExited(pid int, status syscall.WaitStatus) bool {
	result, ok := s.probes[pid]
	if !ok {
		return false
	}
	delete(s.probes, pid)
	signalGroup(pid, syscall.SIGKILL) // what it left behind in its group
	result <- status.Exited() && status.ExitStatus() == 0
	return true
}

// httpOK sends GET path to addr and reports whether the status is below
// 400. It speaks the few lines of HTTP/1.0 it needs rather than linking
// net/http, which would weigh on every proctor process, the guardian too,
// for one request line.
func httpOK(ctx context.Context, addr, path string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		c.SetDeadline(deadline)
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: proctor\r\nConnection: close\r\n\r\n", path, addr); err != nil {
		return false
	}
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return false
	}
	// "HTTP/1.1 200 OK"
	f := strings.Fields(status)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return false
	}
	code, err := strconv.Atoi(f[1])
	return err == nil && code >= 200 && code < 400
}

// maxMatchLine bounds the part of a line a log check keeps while the line
// is incomplete; longer lines are matched on their first maxMatchLine bytes.
const maxMatchLine = 64 << 10

// lineMatcher passes reads through and reports, once, when a whole line
// read matches re. The stdout and stderr of one run share matched.
type lineMatcher struct {
	r       io.Reader
	re      *regexp.Regexp
	matched *atomic.Bool
	report  func()
	partial []byte
}

func (m *lineMatcher) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if n > 0 && !m.matched.Load() {
		m.scan(p[:n])
	}
	return n, err
}

func (m *lineMatcher) scan(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			m.partial = append(m.partial, b[:min(len(b), maxMatchLine-len(m.partial))]...)
			return
		}
		line := b[:i]
		if len(m.partial) > 0 {
			line = append(m.partial, line[:min(len(line), maxMatchLine-len(m.partial))]...)
			m.partial = m.partial[:0]
		}
		b = b[i+1:]
		if m.re.Match(bytes.TrimSuffix(line, []byte("\r"))) {
			if m.matched.CompareAndSwap(false, true) {
				m.report()
			}
			m.partial = nil
			return
		}
	}
}

// ready hands the readiness of run gen to the shell's loop, or gives up
// once the loop has ended.
func (s *shell) ready(gen uint64) {
	select {
	case s.readyCh <- gen:
	case <-s.done:
	}
}

// watch starts checking the readiness of a run, as f says.
func (s *shell) watch(f fxWatch) {
	switch f.check.Kind {
	case "", procfile.ReadyPort:
		s.prober.watch(probeTarget{gen: f.gen, pid: f.pid, port: f.port, started: f.started})
		return
	case procfile.ReadyLog:
		return // matched by the run's readers, set up at its spawn
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.checks[f.gen] = cancel
	probe := s.probeFor(f.check, f.port, f.env)
	s.checkers.Go(func() {
		if poll(ctx, probe) {
			s.ready(f.gen)
		}
	})
}

// unwatch stops checking run gen.
func (s *shell) unwatch(gen uint64) {
	s.prober.forget(gen)
	if cancel, ok := s.checks[gen]; ok {
		cancel()
		delete(s.checks, gen)
	}
}

// logCheck returns what the readers of run gen of inst go through: a
// lineMatcher shared by its streams when its type is ready on a log line,
// and the flag it sets on a match; nothing otherwise.
func (s *shell) logCheck(inst procfile.Instance, gen uint64) (func(io.Reader) io.Reader, *atomic.Bool) {
	check := s.opts.App.Rules[inst.Type].Ready
	if check.Kind != procfile.ReadyLog {
		return nil, nil
	}
	re, err := regexp.Compile(check.Arg)
	if err != nil { // procfile.ParseReadiness has compiled it
		s.out.System(fmt.Sprintf("%s: log check %q: %v", inst.Name, check.Arg, err))
		return nil, nil
	}
	matched := &atomic.Bool{}
	return func(r io.Reader) io.Reader {
		return &lineMatcher{r: r, re: re, matched: matched, report: func() { go s.ready(gen) }}
	}, matched
}
