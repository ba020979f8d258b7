package stress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/stress/internal/lines"
)

// pidOf returns the pid proctor gave in "NAME | started with pid N".
func pidOf(t *testing.T, notes []string, name string) int {
	t.Helper()
	for _, l := range notes {
		if rest, ok := strings.CutPrefix(l, name+" | started with pid "); ok {
			pid, err := strconv.Atoi(rest)
			if err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no started line for %s in:\n%s", name, strings.Join(notes, "\n"))
	return 0
}

// TestFaultClosedStdout: a child that closes its stdout and keeps running
// is still running for proctor (closing a pipe is not exiting): its stderr
// keeps coming, ps gives it as running, and it is stopped at shutdown like
// any other.
func TestFaultClosedStdout(t *testing.T) {
	var errLines atomic.Int64
	s := startStack(t, stackOpts{
		procfile: `mute: exec >&-; i=0; while :; do echo "stderr $i" >&2; i=$((i+1)); sleep 0.05; done` + "\n",
		args:     []string{"-p", "23000", "-t", "5"},
		onLine: func(name, text []byte) {
			if string(name) == "mute.1" && bytes.HasPrefix(text, []byte("stderr ")) {
				errLines.Add(1)
			}
		},
	})
	s.await(30*time.Second, "20 stderr lines after stdout was closed", func([]string) bool { return errLines.Load() >= 20 })
	pid := pidOf(t, s.notable(), "mute.1")
	procs := s.ps(t)
	if len(procs) != 1 || procs[0].State != "running" || procs[0].PID != pid {
		t.Errorf("ps after the child closed its stdout: %+v, want mute.1 running as pid %d", procs, pid)
	}
	if n := count(s.notable(), "exited"); n > 0 {
		t.Errorf("an exit reported while the child runs:\n%s", strings.Join(s.notable(), "\n"))
	}
	shutdown := s.stop(t, 30*time.Second)
	t.Logf("child with stdout closed: %d stderr lines, ps running, shutdown %v", errLines.Load(), shutdown.Round(time.Millisecond))
}

// TestFaultBigLine: a child writes a line of BYTES without a newline.
// proctor passes it on in pieces of 1 MiB, each with its prefix, every
// byte in order, and holds no more than a few MiB while it does; the
// lines after it are whole.
//
// Full: 1 GiB. Short: 64 MiB.
func TestFaultBigLine(t *testing.T) {
	total := size[int64](64<<20, 1<<30)
	const piece = 1 << 20
	var (
		got, pieces, short int64
		bad                []string
		done               atomic.Bool
	)
	s := startStack(t, stackOpts{
		procfile: fmt.Sprintf("big: exec %s bigline %d\n", childBin, total),
		args:     []string{"-p", "23100", "-t", "5"},
		onLine: func(name, text []byte) {
			if string(name) != "big.1" || bytes.HasPrefix(text, []byte("started with pid ")) {
				return
			}
			if string(text) == "big done" {
				done.Store(true)
				return
			}
			if done.Load() {
				bad = append(bad, fmt.Sprintf("a line after the end: %.80q", text))
				return
			}
			pieces++
			if len(text) > piece {
				bad = append(bad, fmt.Sprintf("a piece of %d bytes", len(text)))
			}
			if len(text) < piece {
				short++
			}
			for i, c := range text {
				if c != lines.Big(got+int64(i)) {
					bad = append(bad, fmt.Sprintf("byte %d of the line is %q, want %q", got+int64(i), c, lines.Big(got+int64(i))))
					break
				}
			}
			got += int64(len(text))
		},
	})
	t0 := time.Now()
	s.await(10*time.Minute, "the line and \"big done\"", func([]string) bool { return done.Load() })
	took := time.Since(t0)
	hwm := statusKiB(s.pid(), "VmHWM")
	s.stop(t, 30*time.Second)
	if len(bad) > 0 {
		t.Errorf("the long line came out wrong:\n%s", strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
	if got != total {
		t.Errorf("%d bytes of the line arrived, the child wrote %d", got, total)
	}
	if short > 1 {
		t.Errorf("%d pieces shorter than 1 MiB, want at most the last", short)
	}
	memLimit(t, "one long line", hwm, 32)
	t.Logf("a %d MiB line without a newline: %d pieces, every byte in order, in %v (%.0f MiB/s); proctor's peak RSS %s",
		total>>20, pieces, took.Round(time.Millisecond), float64(total>>20)/took.Seconds(), mib(hwm))
}

// TestFaultStoppedChild: a child stopped with SIGSTOP does not hold up the
// stack (the others' lines keep coming), and shutdown wakes it (SIGCONT
// after SIGTERM) instead of waiting out the timeout for SIGKILL.
func TestFaultStoppedChild(t *testing.T) {
	var ticks atomic.Int64
	s := startStack(t, stackOpts{
		procfile: "frozen: exec sleep 1000\n" + fmt.Sprintf("tick: exec %s chatty 10 0\n", childBin),
		args:     []string{"-p", "23200", "-t", "20"},
		onLine: func(name, _ []byte) {
			if string(name) == "tick.1" {
				ticks.Add(1)
			}
		},
	})
	s.await(30*time.Second, "both to start", func(notes []string) bool { return count(notes, "| started with pid") == 2 })
	pid := pidOf(t, s.notable(), "frozen.1")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the child to be stopped", func() bool {
		state, _, _, _ := procStat(pid)
		return state == 'T'
	})
	n := ticks.Load()
	s.await(10*time.Second, "20 more lines from the other process", func([]string) bool { return ticks.Load() >= n+20 })
	shutdown := s.stop(t, 30*time.Second)
	// -t 20: a shutdown that waited for SIGKILL takes 20 s.
	if shutdown > 10*time.Second || count(s.notable(), "SIGKILL") > 0 {
		t.Errorf("shutdown took %v with a stopped child:\n%s", shutdown, strings.Join(s.notable(), "\n"))
	}
	t.Logf("a stopped child: the other kept writing; shutdown %v (timeout 20 s)", shutdown.Round(time.Millisecond))
}

// floodLine matches a line of the flood child as proctor prints it.
var floodLine = regexp.MustCompile(`^flood\.1 +\| flood (\d+) \.{60}$`)

// TestFaultBlockedStdout: proctor's stdout is a pipe nobody reads. proctor
// keeps draining its children (a child writing far more than the pipe and
// proctor's queue hold finishes), its memory stays bounded, the control
// socket still answers, and once the pipe is read again proctor says how
// many lines it dropped: the lines that arrive, whole and in order, plus
// the dropped ones are every line the child wrote.
//
// Full: 200,000 lines (16 MiB). Short: 60,000 (5 MiB), well over the pipe
// and proctor's queue.
func TestFaultBlockedStdout(t *testing.T) {
	n := size(60000, 200000)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := startStack(t, stackOpts{
		procfile: fmt.Sprintf(`flood: i=0; while [ $i -lt %d ]; do echo "flood $i %s"; i=$((i+1)); done; : > flooded; exec sleep 1000`, n, strings.Repeat(".", 60)) + "\n",
		args:     []string{"--no-timestamp", "-p", "23300", "-t", "5"},
		stdout:   w,
	})
	w.Close()
	t0 := time.Now()
	waitUntil(t, 60*time.Second, "the child to write all its lines into the blocked output", func() bool {
		if s.exited() {
			t.Fatalf("proctor exited (%d) while its stdout was blocked; stderr:\n%s", s.code, s.stderr())
		}
		_, err := os.Stat(filepath.Join(s.dir, "flooded"))
		return err == nil
	})
	flooded := time.Since(t0)
	procs := s.ps(t)
	if len(procs) != 1 || procs[0].State != "running" {
		t.Errorf("ps while stdout is blocked: %+v", procs)
	}
	hwm := statusKiB(s.pid(), "VmHWM")

	// Read again: the dropped count comes once the blocked write returns.
	br := bufio.NewReaderSize(r, 1<<20)
	var (
		arrived, next, dropped int
		problems               []string
		sawDropped             bool
	)
	dropNote := regexp.MustCompile(`^system +\| (\d+) lines dropped: output was blocked for more than 5s$`)
	readLine := func() (string, error) {
		line, err := br.ReadString('\n')
		return strings.TrimSuffix(line, "\n"), err
	}
	handle := func(line string) {
		if m := floodLine.FindStringSubmatch(line); m != nil {
			k, _ := strconv.Atoi(m[1])
			if k < next && len(problems) < 20 {
				problems = append(problems, fmt.Sprintf("line %d after line %d", k, next-1))
			}
			next = k + 1
			arrived++
		} else if m := dropNote.FindStringSubmatch(line); m != nil {
			k, _ := strconv.Atoi(m[1])
			dropped += k
			sawDropped = true
		} else if !strings.Contains(line, "| started with pid") && !strings.HasPrefix(line, "system") && len(problems) < 20 {
			problems = append(problems, fmt.Sprintf("not a whole line: %.100q", line))
		}
	}
	reading := make(chan error, 1)
	go func() {
		// Without a drop (the test is then wrong) every line arrives.
		for !sawDropped && arrived < n {
			line, err := readLine()
			if err != nil {
				reading <- err
				return
			}
			handle(line)
		}
		reading <- nil
	}()
	select {
	case err := <-reading:
		if err != nil {
			t.Fatalf("reading proctor's output: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no \"lines dropped\" line within 60s of reading again (%d lines read)", arrived)
	}
	s.signal(syscall.SIGTERM)
	go func() {
		for {
			line, err := readLine()
			if line != "" {
				handle(line)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				reading <- err
				return
			}
		}
	}()
	code := s.wait(30 * time.Second)
	if err := <-reading; err != nil {
		t.Fatal(err)
	}
	s.checkEnd(t, code, 0)
	if len(problems) > 0 {
		t.Errorf("bad output:\n%s", strings.Join(problems, "\n"))
	}
	if arrived+dropped != n {
		t.Errorf("%d lines arrived and %d were reported dropped; the child wrote %d", arrived, dropped, n)
	}
	if dropped == 0 {
		t.Errorf("no line dropped: the output was not blocked (the test is wrong)")
	}
	memLimit(t, "blocked stdout", hwm, 32)
	t.Logf("stdout blocked: the child wrote its %d lines in %v; %d arrived whole and in order, %d dropped and reported; proctor's peak RSS %s",
		n, flooded.Round(time.Millisecond), arrived, dropped, mib(hwm))
}

// TestFaultFullDisk: writing proctor's output fails (ENOSPC: stdout is
// /dev/full). proctor says so on stderr, stops the stack and exits 1,
// leaving nothing running.
func TestFaultFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	s := startStack(t, stackOpts{
		procfile: fmt.Sprintf("chatty: exec %s chatty 100 0\nquiet: exec sleep 1000\n", childBin),
		args:     []string{"-p", "23400", "-t", "5"},
		stdout:   full,
	})
	code := s.wait(30 * time.Second)
	s.checkEnd(t, code, 1)
	if !strings.Contains(s.stderr(), "no space left on device") {
		t.Errorf("stderr does not say what failed:\n%s", s.stderr())
	}
	t.Logf("stdout on /dev/full: exit %d after %v, stderr %q", code, time.Since(s.began).Round(time.Millisecond), strings.TrimSpace(s.stderr()))
}

// TestFaultKill9: proctor is killed with SIGKILL at a random moment of a
// busy stack: while starting, while children write, while one restarts
// after a crash. Every process it started dies, the shells' children in
// their groups too (the guardian's work), within the guardian's grace.
//
// Full: 20 kills up to 2 s after start. Short: 3 up to 500 ms.
func TestFaultKill9(t *testing.T) {
	rounds := size(3, 20)
	window := size(500*time.Millisecond, 2*time.Second)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PROCTOR_STRESS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("PROCTOR_STRESS_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (PROCTOR_STRESS_SEED=%d repeats these moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	var took []time.Duration
	for i := range rounds {
		delay := time.Duration(rng.Int64N(int64(window)))
		t.Run(fmt.Sprintf("%d_after_%v", i, delay.Round(time.Millisecond)), func(t *testing.T) {
			s := startStack(t, stackOpts{
				procfile: fmt.Sprintf("chatty: exec %s chatty 200 50\n", childBin) +
					"family: sleep 1000 & sleep 1000 & wait\n" +
					"stubborn: trap '' TERM; sleep 1000 & wait; wait\n" +
					"crash: sleep 0.1; exit 1\n",
				args: []string{"-m", "chatty=3,family=2,stubborn=1,crash=1", "--restart", "crash", "-p", "23500", "-t", "1"},
			})
			time.Sleep(delay) // the random moment: nothing to wait for
			if err := syscall.Kill(s.pid(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			s.wait(10 * time.Second)
			// The guardian's grace is -t (1 s), then SIGKILL.
			took = append(took, waitNoProcesses(t, s.token, 15*time.Second))
		})
	}
	t.Logf("%d kills at random moments within %v of start: nothing left each time, last process gone after (ms) %v", rounds, window, ms(took))
}

// ms lists durations in milliseconds.
func ms(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}
