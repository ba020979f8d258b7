package stress

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxRestarts is how many restarts the backoff (1 s doubling to 30 s)
// allows an instance that crashes after run within window: the k-th is
// announced at the earliest after k runs and k-1 waits.
func maxRestarts(run, window time.Duration) int {
	k := 0
	for {
		next := k + 1
		wait := 0.0
		for i := range next - 1 {
			wait += math.Min(math.Pow(2, float64(i)), 30)
		}
		if float64(next)*run.Seconds()+wait > window.Seconds() {
			return k
		}
		k = next
	}
}

func TestMaxRestarts(t *testing.T) {
	for _, tt := range []struct {
		window time.Duration
		want   int
	}{{time.Second, 1}, {1200 * time.Millisecond, 2}, {4 * time.Second, 3}, {20 * time.Second, 5}, {31 * time.Second, 5}, {32 * time.Second, 6}} {
		if got := maxRestarts(100*time.Millisecond, tt.window); got != tt.want {
			t.Errorf("maxRestarts(100ms, %v) = %d, want %d", tt.window, got, tt.want)
		}
	}
}

// TestRestartStorm: instances under --restart that crash 100 ms after each
// start. The backoff holds (each instance restarts only as often as 1 s
// doubling allows, after the announced delay), ps agrees with /proc all
// along, and once the storm is over proctor holds as many goroutines and
// file descriptors as before it; shutdown leaves nothing running.
//
// The instances first run a sleep (a file "stop" says so), for the
// figures before; a restart through the control socket starts the storm,
// and "stop" again ends it, each instance sleeping from its next restart.
//
// Full: 50 instances for 20 s. Short: 10 for 2.5 s.
func TestRestartStorm(t *testing.T) {
	n := size(10, 50)
	storm := size(2500*time.Millisecond, 20*time.Second)
	const crashAfter = 100 * time.Millisecond
	s := startStack(t, stackOpts{
		procfile: "crash: if [ -e stop ]; then exec sleep 1000; fi; sleep 0.1; exit 1\n",
		args:     []string{"-m", fmt.Sprintf("crash=%d", n), "--restart", "crash", "-p", "21000", "-t", "5"},
		files:    map[string]string{"stop": ""},
		json:     true, // to the nanosecond: the backoff is checked against proctor's own times
	})
	s.await(30*time.Second, "every instance to start", func(notes []string) bool {
		return count(notes, "| started with pid") == n
	})
	// Each shell has seen "stop" once it runs the sleep.
	waitUntil(t, 30*time.Second, "every instance to run the sleep", func() bool {
		return len(programs(s.token, "sleep")) == n
	})
	before, fdsBefore := s.stats(t), countFDs(s.pid())
	stopFile := filepath.Join(s.dir, "stop")
	if err := os.Remove(stopFile); err != nil {
		t.Fatal(err)
	}

	t0 := time.Now()
	if _, stderr, code := s.cli(t, "restart", "crash"); code != 0 {
		t.Fatalf("proctor restart crash: exit %d: %s", code, stderr)
	}
	ps := newPsCheck(s)
	tick := time.NewTicker(250 * time.Millisecond)
	for time.Since(t0) < storm {
		ps.check(t)
		<-tick.C
	}
	tick.Stop()
	if err := os.WriteFile(stopFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tStop := time.Now()
	crashes := count(s.notable(), "exited with code 1")

	// Each instance sleeps from its next restart: at most the last
	// backoff (16 s after a 20 s storm) later.
	waitCalm := func() {
		s.await(40*time.Second, "every instance to run the sleep", func([]string) bool {
			last := map[string]string{}
			for _, nt := range s.timedNotes() {
				name, rest, _ := strings.Cut(nt.line, " | ")
				if strings.HasPrefix(rest, "started with pid") {
					if nt.at.After(tStop) {
						last[name] = "sleeping"
					} else {
						last[name] = "started"
					}
				} else if name == "system" && strings.HasSuffix(rest, "exited with code 1") {
					last[strings.Fields(rest)[0]] = "exited"
				}
			}
			calm := 0
			for _, v := range last {
				if v == "sleeping" {
					calm++
				}
			}
			return calm == n
		})
	}
	waitCalm()
	procs := ps.check(t)
	after, fdsAfter := s.stats(t), countFDs(s.pid())
	ps.report(t)

	// The backoff, instance by instance.
	announced := map[string][]note{} // under --restart, not on request
	restarts := map[string]int{}
	started := map[string][]time.Time{}
	for _, nt := range s.timedNotes() {
		name, rest, _ := strings.Cut(nt.line, " | ")
		switch {
		case name == "system" && strings.HasPrefix(rest, "restarting ") && strings.Contains(rest, " on request "):
			restarts[strings.Fields(rest)[1]]++
		case name == "system" && strings.HasPrefix(rest, "restarting "):
			inst := strings.Fields(rest)[1]
			restarts[inst]++
			announced[inst] = append(announced[inst], nt)
		case strings.HasPrefix(rest, "started with pid") && nt.at.After(t0):
			started[name] = append(started[name], nt.at)
		}
	}
	limit := maxRestarts(crashAfter, storm)
	var counts []int
	for i := 1; i <= n; i++ {
		name := "crash." + strconv.Itoa(i)
		in := 0
		for k, a := range announced[name] {
			want := min(time.Second<<k, 30*time.Second)
			if !strings.Contains(a.line, " in "+want.String()+" ") {
				t.Errorf("%s: restart %d announced as %q, want a delay of %v", name, k+1, a.line, want)
			}
			// started[name][0] is the restart on request; restart k+1
			// under --restart is the next start.
			if k+1 < len(started[name]) {
				if waited := started[name][k+1].Sub(a.at); waited < want {
					t.Errorf("%s: restarted %v after announcing a delay of %v", name, waited.Round(time.Millisecond), want)
				}
			}
			if a.at.Before(t0.Add(storm)) {
				in++
			}
		}
		counts = append(counts, in)
		if in > limit || in < limit-1 {
			t.Errorf("%s: %d restarts in the %v storm; the backoff allows %d", name, in, storm, limit)
		}
	}
	for _, p := range procs {
		if p.Restarts != restarts[p.Name] {
			t.Errorf("ps: %s restarted %d times, proctor announced %d", p.Name, p.Restarts, restarts[p.Name])
		}
		if p.State != "running" {
			t.Errorf("ps: %s is %s after the storm", p.Name, p.State)
		}
	}

	// No leak: the same stack, before and after.
	if after.Goroutines > before.Goroutines+2 {
		t.Errorf("goroutines: %d before the storm, %d after", before.Goroutines, after.Goroutines)
	}
	if after.FDs > before.FDs+1 || fdsAfter > fdsBefore+1 {
		t.Errorf("file descriptors: %d before the storm, %d after (in /proc: %d, %d)", before.FDs, after.FDs, fdsBefore, fdsAfter)
	}

	shutdown := s.stop(t, 30*time.Second)
	t.Logf("%d instances crashing %v after each start, for %v: %d crashes, restarts per instance %v (the backoff allows %d); "+
		"%d ps checks against /proc; goroutines %d before, %d after; fds %d before, %d after (/proc: %d, %d); heap %s before, %s after; calm %v after the storm; shutdown %v",
		n, crashAfter, storm, crashes, counts, limit, ps.checks, before.Goroutines, after.Goroutines, before.FDs, after.FDs, fdsBefore, fdsAfter,
		mib(int(before.HeapBytes>>10)), mib(int(after.HeapBytes>>10)), time.Since(tStop).Round(time.Millisecond), shutdown.Round(time.Millisecond))
}

// countFDs counts the open file descriptors of pid in /proc.
func countFDs(pid int) int {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
