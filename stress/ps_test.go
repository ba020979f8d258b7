package stress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proctor-run/proctor/control"
)

// psCheck compares what `proctor ps --json` says with the processes that
// really run, as /proc shows them. A process may start or end while ps is
// answered, so /proc is read before and after ps, and a pid that ps gives
// but /proc no longer has is only a problem if the next check still gives
// it.
type psCheck struct {
	s         *stack
	suspects  map[string]int // name → pid ps gave that was not running
	checks    int
	problems  []string
	latencies []time.Duration // of each ps
}

func newPsCheck(s *stack) *psCheck { return &psCheck{s: s, suspects: map[string]int{}} }

func (c *psCheck) problem(format string, args ...any) {
	if len(c.problems) < 20 {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// instanceChildren returns proctor's live children with the PS of each
// (the guardian, which has no environment, is left out).
func instanceChildren(proctor int) map[int]string {
	out := map[int]string{}
	for _, pid := range childrenOf(proctor) {
		if name, ok := envOf(pid, "PS"); ok {
			out[pid] = name
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if !bytes.Contains(cmdline, []byte("proctor-guardian")) && len(cmdline) > 0 {
			out[pid] = "?"
		}
	}
	return out
}

// ps runs `proctor ps --json` and decodes it.
func (s *stack) ps(t *testing.T) []control.Process {
	t.Helper()
	stdout, stderr, code := s.cli(t, "ps", "--json")
	if code != 0 {
		t.Fatalf("proctor ps --json: exit %d: %s", code, stderr)
	}
	var procs []control.Process
	if err := json.Unmarshal([]byte(stdout), &procs); err != nil {
		t.Fatalf("proctor ps --json: %v\n%s", err, stdout)
	}
	return procs
}

// check takes one ps and compares it with /proc; it returns the ps.
func (c *psCheck) check(t *testing.T) []control.Process {
	t.Helper()
	c.checks++
	before := instanceChildren(c.s.pid())
	t0 := time.Now()
	procs := c.s.ps(t)
	took := time.Since(t0)
	c.latencies = append(c.latencies, took)
	after := instanceChildren(c.s.pid())
	listed := map[int]string{}
	suspects := map[string]int{}
	for _, p := range procs {
		running := p.State == "running" || p.State == "stopping"
		if (p.PID != 0) != running {
			c.problem("%s is %s with pid %d", p.Name, p.State, p.PID)
		}
		if p.PID == 0 {
			continue
		}
		listed[p.PID] = p.Name
		// "?" is a process whose environment is gone: it is exiting.
		name, ok := after[p.PID]
		if !ok || name == "?" {
			name, ok = before[p.PID]
		}
		if name == "?" {
			ok = false
		}
		switch {
		case ok && name != p.Name:
			c.problem("ps gives %s pid %d, which is %s", p.Name, p.PID, name)
		case !ok && c.suspects[p.Name] == p.PID:
			state, _, _, _ := procStat(p.PID)
			var hist []string
			for _, nt := range c.s.timedNotes() {
				if strings.Contains(nt.line, p.Name+" ") || strings.HasPrefix(nt.line, p.Name+" ") {
					hist = append(hist, nt.at.Format("15:04:05.000")+" "+nt.line)
				}
			}
			c.problem("%s: ps (%v, %v before) still gives %s pid %d, which is not running (state %q)\n%s", time.Now().Format("15:04:05.000"), took, c.latencies[len(c.latencies)-2], p.Name, p.PID, state, strings.Join(hist[max(0, len(hist)-6):], "\n"))
		case !ok:
			suspects[p.Name] = p.PID // it may have ended during ps
		}
	}
	c.suspects = suspects
	for pid, name := range before {
		if after[pid] == name && listed[pid] != name {
			c.problem("%s (pid %d) runs as a child of proctor, ps does not list it (ps: %+v)", name, pid, procs)
		}
	}
	return procs
}

// report fails the test if any check found a problem.
func (c *psCheck) report(t *testing.T) {
	t.Helper()
	if len(c.problems) > 0 {
		t.Errorf("ps disagrees with /proc (%d checks):\n%s", c.checks, joinLines(c.problems))
	}
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
