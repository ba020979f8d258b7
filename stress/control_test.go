package stress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/procfile"
)

// abuse is one kind of malformed use of the control socket.
type abuse struct {
	name string
	// send misbehaves on a new connection.
	send func(c *net.UnixConn)
	// hangUp: the abuser closes the connection at once, expecting nothing.
	hangUp bool
}

// run connects, misbehaves, and returns what the server did that it must
// not: nil when it answered with an error or closed the connection, an
// error when it answered ok or left the connection hanging.
func (a abuse) run(path string) error {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	a.send(c.(*net.UnixConn))
	if a.hangUp {
		return nil
	}
	return expectRefusal(c.(*net.UnixConn), 15*time.Second)
}

// expectRefusal reads the server's reaction until it closes the
// connection, and checks that it gave no ok answer.
func expectRefusal(c *net.UnixConn, within time.Duration) error {
	c.SetReadDeadline(time.Now().Add(within))
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("no answer and no close within %v (got %q)", within, got.Bytes())
		}
		if err != nil { // EOF, or a reset: the server closed it
			break
		}
	}
	if bytes.Contains(got.Bytes(), []byte(`"ok":true`)) {
		return fmt.Errorf("an ok answer to a malformed request: %q", got.Bytes())
	}
	return nil
}

// abuses are the malformed uses: garbage, JSON of the wrong shape, a
// request far over the size limit, a half-closed connection with half a
// request, and connect-then-close.
var abuses = []abuse{
	{name: "garbage", send: func(c *net.UnixConn) {
		junk := make([]byte, 1+rand.IntN(2000))
		for i := range junk {
			junk[i] = byte(rand.IntN(256))
		}
		c.Write(append(bytes.ReplaceAll(junk, []byte("\n"), nil), '\n'))
	}},
	{name: "json of the wrong shape", send: func(c *net.UnixConn) {
		reqs := []string{`[1,2,3]`, `{"version":1}`, `{"version":99,"command":"ps"}`, `{"version":1,"command":"restart"}`,
			`{"version":1,"command":"scale","formation":[{"type":"web","count":-5}]}`, `"` + strings.Repeat(`\u0000`, 100) + `"`}
		c.Write([]byte(reqs[rand.IntN(len(reqs))] + "\n"))
	}},
	{name: "10 MiB line", send: func(c *net.UnixConn) {
		// The server answers once it has read MaxRequest bytes; the rest
		// of the write fails when it closes.
		go func() {
			big := bytes.Repeat([]byte(`{"version":1,"command":"status","x":"`), (10<<20)/38)
			c.SetWriteDeadline(time.Now().Add(15 * time.Second))
			c.Write(append(big, '\n'))
		}()
	}},
	{name: "half-closed", send: func(c *net.UnixConn) {
		c.Write([]byte(`{"version":1,"comm`))
		c.CloseWrite()
	}},
	{name: "connect and close", send: func(*net.UnixConn) {}, hangUp: true},
}

// TestControlUnderLoad: many clients use the control socket at once
// (ps, restart of instances and types, scale) while others abuse it
// (garbage, a 10 MiB line, half-closed and idle connections). The abusers
// get an error or are dropped; the stack is never blocked or slowed: a
// ticking process's lines keep coming, ps keeps answering, and at the end
// ps agrees with the real processes, and proctor holds the goroutines and
// descriptors it held before.
//
// Full: 50 clients for 20 s, 200 idle connections held until the server
// drops them (RequestTimeout). Short: 10 clients for 3 s, 20 idle
// connections closed by the test.
func TestControlUnderLoad(t *testing.T) {
	clients := size(10, 50)
	run := size(3*time.Second, 20*time.Second)
	idle := size(20, 200)
	const tickRate = 10
	var ticks, lastTick atomic.Int64 // the ticking process's lines, and when the last came
	s := startStack(t, stackOpts{
		procfile: "web: exec sleep 1000\nworker: exec sleep 1000\n" +
			fmt.Sprintf("tick: exec %s chatty %d 0\n", childBin, tickRate),
		args: []string{"-m", "web=2,worker=2,tick=1", "-p", "22000", "-t", "5"},
		onLine: func(name, _ []byte) {
			if string(name) == "tick.1" {
				ticks.Add(1)
				lastTick.Store(time.Now().UnixNano())
			}
		},
	})
	s.await(30*time.Second, "the stack to start", func(notes []string) bool {
		return count(notes, "| started with pid") == 5
	})
	path := filepath.Join(s.dir, ".proctor.sock")
	cl := s.client()
	// Warm up the server's goroutines before counting them.
	s.ps(t)
	before := s.stats(t)

	// Baseline ps latency on the quiet stack.
	var quiet []time.Duration
	for range 20 {
		t0 := time.Now()
		if _, err := cl.Status(context.Background()); err != nil {
			t.Fatalf("status: %v", err)
		}
		quiet = append(quiet, time.Since(t0))
	}

	// Idle connections: open, say nothing.
	var idleConns []*net.UnixConn
	for range idle {
		c, err := net.DialTimeout("unix", path, 5*time.Second)
		if err != nil {
			t.Fatalf("idle connection: %v", err)
		}
		idleConns = append(idleConns, c.(*net.UnixConn))
	}
	defer func() {
		for _, c := range idleConns {
			c.Close()
		}
	}()

	ticks0 := ticks.Load()
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ops      = map[string]int{}
		codes    = map[string]int{}
		bad      []string
		psLat    []time.Duration
		abuseN   atomic.Int64
		abuseErr []string
	)
	record := func(op string, err error, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		ops[op]++
		if op == "ps" {
			psLat = append(psLat, took)
		}
		if err == nil {
			codes["ok"]++
			return
		}
		var ce *control.Error
		if errors.As(err, &ce) {
			codes[ce.Code]++
			// A restart of an instance the scaling just removed is the
			// one refusal a well-formed request can get here.
			if ce.Code == control.CodeUnknownName && op == "restart" {
				return
			}
		} else {
			codes["transport"]++
		}
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf("%s: %v", op, err))
		}
	}
	for i := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				// Each call has its own deadline, past the end of the run:
				// a call the run's end interrupts is not a failure.
				cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
				t0 := time.Now()
				var op string
				var err error
				switch k := r.IntN(10); {
				case k < 5:
					op = "ps"
					_, err = cl.Status(cctx)
				case k < 8:
					op = "restart"
					names := []string{"web", "worker", "web.1", "web.2", "web.3", "worker.1", "worker.2", "worker.3"}
					err = cl.Restart(cctx, names[r.IntN(len(names))])
				default:
					op = "scale"
					err = cl.Scale(cctx, []procfile.TypeCount{{Type: "web", Count: r.IntN(4)}, {Type: "worker", Count: r.IntN(4)}})
				}
				record(op, err, time.Since(t0))
				ccancel()
			}
		})
	}
	for range max(2, clients/10) {
		wg.Go(func() {
			for ctx.Err() == nil {
				a := abuses[rand.IntN(len(abuses))]
				abuseN.Add(1)
				if err := a.run(path); err != nil {
					mu.Lock()
					if len(abuseErr) < 20 {
						abuseErr = append(abuseErr, a.name+": "+err.Error())
					}
					mu.Unlock()
				}
			}
		})
	}
	// The ticking process must keep being heard: the longest silence in
	// its output during the load.
	var longestGap time.Duration
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			<-tick.C
			if gap := time.Since(time.Unix(0, lastTick.Load())); gap > longestGap {
				longestGap = gap
			}
		}
	})
	wg.Wait()
	ticked := ticks.Load() - ticks0

	for _, p := range abuseErr {
		t.Errorf("abuse: %s", p)
	}
	if len(bad) > 0 {
		t.Errorf("%d requests failed; the first:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	// chatty with a rate writes once a second: a gap of over 3 s means the
	// stack's output stalled.
	if longestGap > 3*time.Second {
		t.Errorf("the ticking process went unheard for %v during the load", longestGap)
	}
	if want := int64(run.Seconds() * tickRate / 2); ticked < want {
		t.Errorf("%d lines during the %v load, want at least %d", ticked, run, want)
	}

	// The idle connections: in the full run the server drops them after
	// RequestTimeout; in the short one the test closes them.
	if full {
		for _, c := range idleConns {
			if err := expectRefusal(c, control.RequestTimeout+10*time.Second); err != nil {
				t.Errorf("idle connection: %v", err)
				break
			}
		}
	}
	for _, c := range idleConns {
		c.Close()
	}
	idleConns = nil

	// Settle on a known formation, then ps must match /proc exactly.
	if err := cl.Scale(context.Background(), []procfile.TypeCount{{Type: "web", Count: 3}, {Type: "worker", Count: 1}}); err != nil {
		t.Fatalf("scale web=3,worker=1: %v", err)
	}
	var procs []control.Process
	waitUntil(t, 30*time.Second, "ps to show web=3,worker=1,tick=1 running, as /proc does", func() bool {
		procs = s.ps(t)
		kids := instanceChildren(s.pid())
		var running []string
		for _, p := range procs {
			if p.State != "running" {
				return false
			}
			if kids[p.PID] != p.Name {
				return false
			}
			running = append(running, p.Name)
		}
		slices.Sort(running)
		return len(kids) == 5 && slices.Equal(running, []string{"tick.1", "web.1", "web.2", "web.3", "worker.1"})
	})
	// The server closes a connection once its client has: the goroutines
	// of the abusers' and idle connections go away.
	var after control.Stats
	waitUntil(t, 30*time.Second, "proctor's goroutines and descriptors to come back to their count before the load", func() bool {
		after = s.stats(t)
		// As many instances as before: web=3,worker=1 for web=2,worker=2.
		return after.Goroutines <= before.Goroutines+2 && after.FDs <= before.FDs+1
	})

	shutdown := s.stop(t, 30*time.Second)
	sort.Slice(psLat, func(i, j int) bool { return psLat[i] < psLat[j] })
	slices.Sort(quiet)
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond)
	}
	var opsList []string
	for _, k := range []string{"ps", "restart", "scale"} {
		opsList = append(opsList, k+" "+strconv.Itoa(ops[k]))
	}
	var codeList []string
	for k, v := range codes {
		codeList = append(codeList, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(codeList)
	t.Logf("%d clients for %v: %s (answers: %s); %d abuses (garbage, wrong JSON, 10 MiB line, half-closed, connect-close) and %d idle connections; "+
		"ps latency quiet median %v, under load median %v p99 %v max %v; ticking process: %d lines, longest silence %v; "+
		"goroutines %d before, %d after; fds %d before, %d after; shutdown %v",
		clients, run, strings.Join(opsList, ", "), strings.Join(codeList, ", "), abuseN.Load(), idle,
		pct(quiet, 0.5), pct(psLat, 0.5), pct(psLat, 0.99), pct(psLat, 1), ticked, longestGap.Round(time.Millisecond),
		before.Goroutines, after.Goroutines, before.FDs, after.FDs, shutdown.Round(time.Millisecond))
}
