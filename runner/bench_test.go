package runner

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
)

// BenchmarkStartStop100 is the runner's part of SPEC 14's startup and
// shutdown targets: 100 instances that each print a line and then sleep
// are started until the 100th line is read, then stopped with SIGTERM
// until Run returns. It leaves out what bench/run.sh also measures:
// proctor's own start and exit, the guardian, and the output formatting.
// One op is one start and stop of the 100; ms-start and ms-stop are their
// means.
func BenchmarkStartStop100(b *testing.B) {
	const n = 100
	entries := []procfile.Entry{{Name: "s", Command: `echo "up $PS"; exec sleep 1000`, Line: 1}}
	var start, stop time.Duration
	for b.Loop() {
		out := &lineCounter{want: n, all: make(chan struct{}), failed: make(chan struct{})}
		app := procfile.App{Entries: entries, Ports: procfile.Ports{Base: 41000, Step: 100}, Environ: os.Environ()}
		plan, err := app.Plan([]int{n})
		if err != nil {
			b.Fatal(err)
		}
		r, err := New(Options{App: app, Plan: plan, Dir: b.TempDir(), Output: out})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		done := make(chan error, 1)
		go func() {
			done <- r.Run(context.Background())
		}()
		select {
		case <-out.all:
		case err := <-done:
			b.Fatalf("Run returned before %d lines: %v", n, err)
		}
		start += time.Since(t0)
		t1 := time.Now()
		r.Shutdown()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		stop += time.Since(t1)
	}
	b.ReportMetric(float64(start.Microseconds())/1000/float64(b.N), "ms-start")
	b.ReportMetric(float64(stop.Microseconds())/1000/float64(b.N), "ms-stop")
}

// lineCounter is an Output that counts the lines starting with "up " and
// closes all once it has seen want of them.
type lineCounter struct {
	want   int64
	seen   atomic.Int64
	all    chan struct{}
	failed chan struct{}
}

func (c *lineCounter) Register(string, int) {}

func (c *lineCounter) Copy(_ string, _ output.Stream, r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "up ") && c.seen.Add(1) == c.want {
			close(c.all)
		}
	}
	return sc.Err()
}

func (c *lineCounter) System(string) {}

func (c *lineCounter) Failed() <-chan struct{} { return c.failed }
