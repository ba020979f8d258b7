package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// Backend is the running stack a Server controls; proctor's command line
// adapts a runner and an output.Mux to it. Its methods are called from
// many goroutines at once. Calls in progress must return once the stack
// has ended, since Server.Close waits for them. An error that wraps one of
// the Err values below is answered with its code; any other with "failed".
type Backend interface {
	// Status returns a snapshot of every instance.
	Status() ([]Status, error)
	// Types returns the Procfile's process types, in order.
	Types() []string
	// Restart restarts an instance or every instance of a type.
	Restart(name string) error
	// Stop stops an instance or every instance of a type.
	Stop(name string) error
	// Scale sets the instance count of the types named.
	Scale(counts []procfile.TypeCount) error
	// Attach connects out to the terminal of a running instance.
	Attach(name string, out io.Writer) (Attachment, error)
	// Shutdown begins the graceful stop of the whole stack, as Ctrl-C
	// does, and returns at once.
	Shutdown() error
	// Wait returns once every instance of the types is ready (no types:
	// those whose readiness the app defines), or fails once the stack
	// stops first.
	Wait(types []string) error
	// Logs copies the stack's output lines, those of instances passing
	// filter and every system line, to w until cancel is called; it must
	// never wait for a slow w.
	Logs(w io.Writer, filter func(name string) bool, color bool) (cancel func())
}

// Errors a Backend wraps to give a failure its response code.
var (
	// ErrUnknownName: a name is neither an instance nor a type
	// ("unknown_name").
	ErrUnknownName = errors.New("no such process")
	// ErrNotTTY: the instance to attach to has no terminal ("not_tty").
	ErrNotTTY = errors.New("not running in a terminal")
	// ErrNotAlive: the instance to attach to has no process ("not_alive").
	ErrNotAlive = errors.New("not running")
	// ErrShuttingDown: the stack is shutting down ("shutting_down").
	ErrShuttingDown = errors.New("proctor is shutting down")
	// ErrNotRunning: the stack is not running ("not_running").
	ErrNotRunning = errors.New("proctor is not running")
)

// Status is a snapshot of one instance, as a Backend reports it; the
// server sends it to clients as a Process.
type Status struct {
	Name     string
	Type     string
	PID      int // 0 when no process runs
	State    string
	Uptime   time.Duration // since the current process started; 0 when none runs
	Restarts int
	Port     int // 0 when it has none
	Ready    bool
}

// WindowSize is a terminal size in character cells.
type WindowSize struct {
	Rows, Cols uint16
}

// Attachment is a terminal connection to one instance. Write sends
// keystrokes; it must return once the instance has ended.
type Attachment interface {
	io.Writer
	// Resize sets the instance's window size.
	Resize(size WindowSize) error
	// Done is closed when the instance's terminal has closed and all its
	// output has been written to the Attach writer.
	Done() <-chan struct{}
	// Close detaches and returns once nothing more will be written to the
	// Attach writer.
	Close() error
}

// writeTimeout bounds the write of one answer.
const writeTimeout = 10 * time.Second

// flushGrace is how long Close lets a logs client take the lines already
// queued for it.
const flushGrace = 250 * time.Millisecond

// Server serves the control protocol on a Unix socket. Create it with
// Listen, run Serve in a goroutine, and end it with Close.
type Server struct {
	backend Backend
	path    string
	l       *net.UnixListener
	ident   os.FileInfo     // the socket file Listen created
	tmpGone <-chan struct{} // closed once the directory of the bind is removed
	uid     int             // the only user id served
	pid     int             // reported by info
	// requestTimeout is RequestTimeout; tests shorten it.
	requestTimeout time.Duration

	mu      sync.Mutex
	closed  bool
	serving bool
	conns   map[*serverConn]struct{}
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// serverConn is one connection being served.
type serverConn struct {
	c *net.UnixConn
	// shutdown cuts the connection's reads and writes short; Close calls
	// it with s.mu held.
	shutdown func()
}

// Listen creates the control socket at path (see the package doc for how
// it stays private, and how a stale socket is replaced) and returns a
// Server that will serve b on it. It returns an *InUseError when a live
// proctor serves the socket already, and an error matching
// *PathTooLongError, ErrNotSocket or ErrOtherUsersSocket when the path
// cannot be used: the caller says how to choose another.
func Listen(path string, b Backend) (*Server, error) {
	l, ident, tmpRemoved, err := listen(path)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return nil, err
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return &Server{
		backend: b,
		path:    path,
		l:       l,
		ident:   ident,
		tmpGone: tmpRemoved,
		uid:     os.Getuid(),
		pid:     os.Getpid(),

		requestTimeout: RequestTimeout,
		conns:          map[*serverConn]struct{}{},
		done:           make(chan struct{}),
	}, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Serve accepts connections, each served by its own goroutine, until
// Close. It returns nil after Close, and an error when called twice.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.serving || s.closed {
		s.mu.Unlock()
		return errors.New("control: Serve called twice or after Close")
	}
	s.serving = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	var backoff time.Duration
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors or the like: try again later.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				continue
			case <-s.done:
				t.Stop()
				return nil
			}
		}
		backoff = 0
		// Before the connection is known to Close, which may shorten it.
		c.SetReadDeadline(time.Now().Add(s.requestTimeout))
		sc := &serverConn{c: c}
		sc.shutdown = func() { c.SetDeadline(time.Unix(1, 0)) }
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[sc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(sc)
	}
}

// Close stops accepting, cuts every connection short (a logs client gets
// flushGrace to take what is queued for it), waits until every goroutine
// of the server has ended, and removes the socket file if it is still the
// one Listen created. Further calls wait for the same and return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		<-s.tmpGone
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.l.Close()
	for sc := range s.conns {
		sc.shutdown()
	}
	s.mu.Unlock()
	s.wg.Wait()
	<-s.tmpGone
	if now, lerr := os.Lstat(s.path); lerr == nil && os.SameFile(s.ident, now) {
		if rerr := os.Remove(s.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// arm runs set (deadline changes) and installs shutdown as what Close
// does to sc, unless the server is closing; then it reports false and the
// connection must end.
func (s *Server) arm(sc *serverConn, set func(c *net.UnixConn), shutdown func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	set(sc.c)
	if shutdown != nil {
		sc.shutdown = shutdown
	}
	return true
}

func (s *Server) handle(sc *serverConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
		sc.c.Close()
	}()
	c := sc.c
	if !s.arm(sc, func(c *net.UnixConn) { c.SetWriteDeadline(time.Now().Add(writeTimeout)) }, nil) {
		return
	}
	// Nothing is read from a connection before its peer is known.
	uid, err := peerUID(c)
	if err != nil {
		s.fail(c, CodeForbidden, "cannot tell which user connected: "+err.Error())
		return
	}
	if uid != s.uid {
		s.fail(c, CodeForbidden, fmt.Sprintf("connection refused: user id %d is not the user id of this proctor (%d)", uid, s.uid))
		return
	}
	br := bufio.NewReaderSize(c, 4096)
	line, err := readLine(br, MaxRequest)
	switch {
	case errors.Is(err, errTooLong):
		s.fail(c, CodeBadRequest, fmt.Sprintf("request too large (more than %d bytes)", MaxRequest))
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.fail(c, CodeBadRequest, fmt.Sprintf("no request within %v", s.requestTimeout))
		return
	case err != nil:
		return // the client went away
	}
	req, rerr := decodeRequest(line)
	if rerr != nil {
		s.fail(c, rerr.Code, rerr.Message)
		return
	}
	switch req.Command {
	case CmdInfo:
		s.answer(sc, &Response{PID: s.pid, Types: s.backend.Types()})
	case CmdStatus:
		s.status(sc)
	case CmdStats:
		st := processStats()
		s.answer(sc, &Response{PID: s.pid, Stats: &st})
	case CmdRestart, CmdStop:
		op := s.backend.Restart
		if req.Command == CmdStop {
			op = s.backend.Stop
		}
		s.result(sc, op(req.Name))
	case CmdScale:
		s.scale(sc, req.Formation)
	case CmdWait:
		s.result(sc, s.backend.Wait(req.Names))
	case CmdShutdown:
		s.result(sc, s.backend.Shutdown())
	case CmdLogs:
		s.logs(sc, br, req)
	case CmdAttach:
		s.attach(sc, br, req)
	}
}

// answer writes an ok response, with a fresh write deadline.
func (s *Server) answer(sc *serverConn, resp *Response) error {
	if !s.arm(sc, func(c *net.UnixConn) { c.SetWriteDeadline(time.Now().Add(writeTimeout)) }, nil) {
		return net.ErrClosed
	}
	resp.Version, resp.OK = Version, true
	return writeJSON(sc.c, resp)
}

// fail writes an error response.
func (s *Server) fail(c *net.UnixConn, code, msg string) {
	writeJSON(c, &Response{Version: Version, Code: code, Error: msg})
}

// result answers with err: ok when nil.
func (s *Server) result(sc *serverConn, err error) {
	if err != nil {
		if s.arm(sc, func(c *net.UnixConn) { c.SetWriteDeadline(time.Now().Add(writeTimeout)) }, nil) {
			s.fail(sc.c, codeOf(err), err.Error())
		}
		return
	}
	s.answer(sc, &Response{})
}

// codeOf maps a backend error to a response code.
func codeOf(err error) string {
	switch {
	case errors.Is(err, ErrUnknownName):
		return CodeUnknownName
	case errors.Is(err, ErrNotTTY):
		return CodeNotTTY
	case errors.Is(err, ErrNotAlive):
		return CodeNotAlive
	case errors.Is(err, ErrShuttingDown):
		return CodeShuttingDown
	case errors.Is(err, ErrNotRunning):
		return CodeNotRunning
	}
	return CodeFailed
}

func (s *Server) status(sc *serverConn) {
	all, err := s.backend.Status()
	if err != nil {
		s.result(sc, err)
		return
	}
	procs := make([]Process, 0, len(all))
	for _, st := range all {
		procs = append(procs, Process{
			Name:          st.Name,
			Type:          st.Type,
			PID:           st.PID,
			State:         st.State,
			UptimeSeconds: math.Round(st.Uptime.Seconds()*1000) / 1000,
			Restarts:      st.Restarts,
			Port:          st.Port,
			Ready:         st.Ready,
		})
	}
	s.answer(sc, &Response{Processes: procs, Types: s.backend.Types()})
}

func (s *Server) scale(sc *serverConn, formation []procfile.TypeCount) {
	s.result(sc, s.backend.Scale(formation))
}

// logsFilter builds the filter of a logs request: names are instances or
// types of the stack; none means every line.
func (s *Server) logsFilter(names []string) (func(string) bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	all, err := s.backend.Status()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	var running []string
	for _, st := range all {
		known[st.Name] = true
		running = append(running, st.Name)
	}
	for _, t := range s.backend.Types() {
		known[t] = true
	}
	want := map[string]bool{}
	for _, n := range names {
		if !known[n] {
			return nil, fmt.Errorf("%w %q (running: %s)", ErrUnknownName, n, strings.Join(running, ", "))
		}
		want[n] = true
	}
	return func(name string) bool {
		if want[name] {
			return true
		}
		typ, _, _ := strings.Cut(name, ".") // type names hold no dot
		return want[typ]
	}, nil
}

func (s *Server) logs(sc *serverConn, br *bufio.Reader, req Request) {
	filter, err := s.logsFilter(req.Names)
	if err != nil {
		s.result(sc, err)
		return
	}
	if s.answer(sc, &Response{}) != nil {
		return
	}
	c := sc.c
	// From now on the client only closes; the lines must never time out
	// (a slow client loses lines instead, in the subscription). Close
	// ends the wait for the client and gives the last lines a moment.
	if !s.arm(sc, func(c *net.UnixConn) { c.SetDeadline(time.Time{}) }, func() {
		c.SetReadDeadline(time.Unix(1, 0))
		c.SetWriteDeadline(time.Now().Add(flushGrace))
	}) {
		return
	}
	cancel := s.backend.Logs(c, filter, req.Color)
	io.Copy(io.Discard, br) // until the client closes, or Close
	cancel()
}

// frameWriter writes what an attachment copies out as output frames, once
// the ok answer has been written.
type frameWriter struct {
	c      net.Conn
	ready  chan struct{} // closed when frames may be written
	failed bool          // set before ready closes: write nothing
	mu     sync.Mutex
	buf    []byte
}

var errDetached = errors.New("detached")

func (f *frameWriter) Write(p []byte) (int, error) {
	<-f.ready
	if f.failed {
		return 0, errDetached
	}
	return len(p), f.write(FrameOutput, p)
}

// write sends p as frames of kind, split at MaxFrame.
func (f *frameWriter) write(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for first := true; first || len(p) > 0; first = false {
		chunk := p[:min(len(p), MaxFrame)]
		f.buf = appendFrame(f.buf[:0], kind, chunk)
		if _, err := f.c.Write(f.buf); err != nil {
			return err
		}
		p = p[len(chunk):]
	}
	return nil
}

func (s *Server) attach(sc *serverConn, br *bufio.Reader, req Request) {
	c := sc.c
	out := &frameWriter{c: c, ready: make(chan struct{})}
	a, err := s.backend.Attach(req.Name, out)
	if err != nil {
		s.result(sc, err)
		return
	}
	if req.Rows > 0 && req.Cols > 0 {
		a.Resize(WindowSize{Rows: req.Rows, Cols: req.Cols})
	}
	err = s.answer(sc, &Response{})
	if err == nil && !s.arm(sc, func(c *net.UnixConn) { c.SetDeadline(time.Time{}) }, nil) {
		err = net.ErrClosed
	}
	if err != nil {
		out.failed = true
		close(out.ready)
		a.Close()
		return
	}
	close(out.ready)

	input := make(chan struct{})
	go func() {
		defer close(input)
		pumpInput(br, a)
	}()
	select {
	case <-a.Done():
		// Everything the instance wrote has been sent: say why it ends.
		if s.arm(sc, func(c *net.UnixConn) { c.SetWriteDeadline(time.Now().Add(writeTimeout)) }, nil) {
			out.write(FrameEnd, []byte(req.Name+" exited (its terminal closed)"))
		}
	case <-input:
		// The client detached (or broke the protocol, or Close cut the
		// connection): a write to it in progress must not hold us.
		c.SetWriteDeadline(time.Unix(1, 0))
	}
	a.Close()
	c.SetReadDeadline(time.Unix(1, 0))
	<-input
}

// pumpInput passes the client's frames to a until the connection ends or
// breaks the protocol.
func pumpInput(br *bufio.Reader, a Attachment) {
	buf := make([]byte, MaxFrame)
	for {
		kind, p, err := readFrame(br, buf)
		if err != nil {
			return
		}
		switch kind {
		case FrameInput:
			if _, err := a.Write(p); err != nil {
				return
			}
		case FrameResize:
			if rows, cols, ok := parseResize(p); ok && rows > 0 && cols > 0 {
				a.Resize(WindowSize{Rows: rows, Cols: cols})
			}
		}
	}
}
