package runner

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/proctor-run/proctor/output"
	"github.com/proctor-run/proctor/procfile"
)

// BenchmarkStartStop100 is the runner's part of SPEC 14's startup and
// shutdown targets: 100 instances that each print a line and then sleep
// are started until the 100th line is written by an output.Mux, then
// stopped with SIGTERM until Run returns. It leaves out what bench/run.sh
// also measures: proctor's own start and exit, and the guardian. One op is
// one start and stop of the 100; ms-start and ms-stop are their means.
func BenchmarkStartStop100(b *testing.B) {
	const n = 100
	entries := []procfile.Entry{{Name: "s", Command: `echo "up $PS"; exec sleep 1000`, Line: 1}}
	var start, stop time.Duration
	for b.Loop() {
		lc := &lineCounter{want: n, all: make(chan struct{})}
		out := output.New(lc, output.Options{NoPrefix: true})
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
		case <-lc.all:
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
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(start.Microseconds())/1000/float64(b.N), "ms-start")
	b.ReportMetric(float64(stop.Microseconds())/1000/float64(b.N), "ms-stop")
}

// lineCounter is the Mux's writer: it counts the lines starting with "up "
// and closes all once it has seen want of them. A Mux writes whole lines,
// from one goroutine.
type lineCounter struct {
	want int
	seen int
	all  chan struct{}
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		if bytes.HasPrefix(line, []byte("up ")) {
			c.seen++
			if c.seen == c.want {
				close(c.all)
			}
		}
	}
	return len(p), nil
}
