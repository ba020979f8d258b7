package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// ErrNoProctor is matched (errors.Is) by the error a Client returns when no
// proctor serves its socket: there is no socket file, or the one there was
// left by a proctor that is gone (the error then also matches
// syscall.ECONNREFUSED).
var ErrNoProctor = errors.New("no proctor is running here")

// noProctorError explains ErrNoProctor for one socket path.
type noProctorError struct {
	path string
	err  error
}

func (e *noProctorError) Error() string {
	if errors.Is(e.err, fs.ErrNotExist) {
		return fmt.Sprintf("%v (no socket at %s)", ErrNoProctor, e.path)
	}
	return fmt.Sprintf("%v (the socket at %s was left by a proctor that is gone)", ErrNoProctor, e.path)
}

func (e *noProctorError) Is(target error) bool { return target == ErrNoProctor }

func (e *noProctorError) Unwrap() error { return e.err }

// Client talks to the proctor serving a socket. Each call opens its own
// connection, so a Client is safe for concurrent use. Every call stops
// waiting when its context is done, returning context.Cause.
type Client struct {
	// Path is the socket's path.
	Path string
}

// Info is what the info command reports.
type Info struct {
	PID   int      // proctor's process id
	Types []string // the Procfile's process types, in order
}

// Stack is what the status command reports.
type Stack struct {
	Processes []Process // every instance, in Procfile order and by number
	Types     []string  // the Procfile's process types, in order
}

// clientConn is one open connection after an ok answer.
type clientConn struct {
	c    *net.UnixConn
	br   *bufio.Reader
	stop func() bool // unregisters the context's deadline hook
	ctx  context.Context
}

func (cc *clientConn) close() {
	cc.stop()
	cc.c.Close()
}

// readErr turns a read error after ctx ended into ctx's cause.
func (cc *clientConn) readErr(err error) error {
	if cc.ctx.Err() != nil {
		return context.Cause(cc.ctx)
	}
	return err
}

// dial connects to the socket and checks that it is served by this user.
func (c *Client) dial(ctx context.Context) (*net.UnixConn, error) {
	if len(c.Path) > maxSocketPath {
		return nil, fmt.Errorf("cannot connect to %s: the path is too long for a socket (at most %d bytes)", c.Path, maxSocketPath)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
			return nil, &noProctorError{c.Path, err}
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("cannot connect to %s: permission denied (it belongs to another user)", c.Path)
		}
		inner := errors.Unwrap(err) // without net's "dial unix PATH:"
		if inner == nil {
			inner = err
		}
		return nil, fmt.Errorf("cannot connect to %s: %w", c.Path, inner)
	}
	uc := nc.(*net.UnixConn)
	uid, err := peerUID(uc)
	switch {
	case err != nil:
		uc.Close()
		return nil, fmt.Errorf("cannot tell who serves %s: %w", c.Path, err)
	case uid != os.Getuid():
		uc.Close()
		return nil, fmt.Errorf("%s is served by user id %d, not by you (%d): refusing to talk to it", c.Path, uid, os.Getuid())
	}
	return uc, nil
}

// open sends req and reads the answer; on an ok answer the connection
// stays open for the caller, who must close it.
func (c *Client) open(ctx context.Context, req Request) (*clientConn, *Response, error) {
	uc, err := c.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	// A done context cuts every read and write on the connection short.
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Unix(1, 0)) })
	cc := &clientConn{c: uc, br: bufio.NewReader(uc), stop: stop, ctx: ctx}
	req.Version = Version
	// A server that refuses the connection has answered already and may
	// have closed it: a failed write still leaves the answer to read.
	werr := writeJSON(uc, req)
	line, err := readLine(cc.br, maxResponse)
	if err != nil {
		cc.close()
		err = cc.readErr(err)
		switch {
		case werr != nil && ctx.Err() == nil:
			return nil, nil, fmt.Errorf("send request to %s: %w", c.Path, werr)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, fmt.Errorf("proctor at %s closed the connection without answering", c.Path)
		case errors.Is(err, errTooLong):
			return nil, nil, fmt.Errorf("proctor at %s sent an answer over %d bytes", c.Path, maxResponse)
		}
		return nil, nil, err
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		cc.close()
		return nil, nil, fmt.Errorf("proctor at %s sent a malformed answer: %w", c.Path, err)
	}
	if !resp.OK {
		cc.close()
		if resp.Error == "" {
			resp.Error = "request failed (" + resp.Code + ")"
		}
		return nil, nil, &Error{Code: resp.Code, Message: resp.Error}
	}
	return cc, &resp, nil
}

// call sends req, reads the answer and closes the connection.
func (c *Client) call(ctx context.Context, req Request) (*Response, error) {
	cc, resp, err := c.open(ctx, req)
	if err != nil {
		return nil, err
	}
	cc.close()
	return resp, nil
}

// Info asks proctor for its pid and process types.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.call(ctx, Request{Command: CmdInfo})
	if err != nil {
		return Info{}, err
	}
	return Info{PID: resp.PID, Types: resp.Types}, nil
}

// Status asks for the state of every instance.
func (c *Client) Status(ctx context.Context) (Stack, error) {
	resp, err := c.call(ctx, Request{Command: CmdStatus})
	if err != nil {
		return Stack{}, err
	}
	procs := resp.Processes
	if procs == nil {
		procs = []Process{}
	}
	return Stack{Processes: procs, Types: resp.Types}, nil
}

// Stats asks for figures of the proctor process itself (goroutines, file
// descriptors, heap) and its pid. It does not involve the stack.
func (c *Client) Stats(ctx context.Context) (pid int, st Stats, err error) {
	resp, err := c.call(ctx, Request{Command: CmdStats})
	if err != nil {
		return 0, Stats{}, err
	}
	if resp.Stats == nil {
		return 0, Stats{}, fmt.Errorf("proctor at %s sent no stats", c.Path)
	}
	return resp.PID, *resp.Stats, nil
}

// Restart restarts an instance, or every instance of a type one after
// another, and returns once the last has started again.
func (c *Client) Restart(ctx context.Context, name string) error {
	_, err := c.call(ctx, Request{Command: CmdRestart, Name: name})
	return err
}

// Stop stops an instance, or every instance of a type, and returns once
// they have exited. The rest of the stack keeps running.
func (c *Client) Stop(ctx context.Context, name string) error {
	_, err := c.call(ctx, Request{Command: CmdStop, Name: name})
	return err
}

// Shutdown asks proctor to stop the whole stack, as Ctrl-C does; it
// returns once the stop has begun (see Info's pid to wait for the end).
func (c *Client) Shutdown(ctx context.Context) error {
	_, err := c.call(ctx, Request{Command: CmdShutdown})
	return err
}

// Wait returns once every instance of the types is ready (none: the types
// whose readiness the app defines), or with an error once the stack stops
// first or ctx is done.
func (c *Client) Wait(ctx context.Context, types []string) error {
	_, err := c.call(ctx, Request{Command: CmdWait, Names: types})
	return err
}

// Scale sets the number of instances of each type named, and returns once
// new instances have started and surplus ones have exited.
func (c *Client) Scale(ctx context.Context, counts []procfile.TypeCount) error {
	_, err := c.call(ctx, Request{Command: CmdScale, Formation: counts})
	return err
}

// Logs copies the stack's output (only the lines of the instances or types
// in names, plus proctor's own lines, when names is not empty) to w until
// the stack ends (nil) or ctx is done (its cause). An error writing to w is
// returned wrapped in a *WriteError.
func (c *Client) Logs(ctx context.Context, names []string, color bool, w io.Writer) error {
	cc, _, err := c.open(ctx, Request{Command: CmdLogs, Names: names, Color: color})
	if err != nil {
		return err
	}
	defer cc.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := cc.br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return &WriteError{werr}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return cc.readErr(fmt.Errorf("connection to proctor lost: %w", err))
		}
	}
}

// WriteError is an error writing a stream to the caller's writer.
type WriteError struct{ Err error }

// Error says that the write failed and why.
func (e *WriteError) Error() string { return "write: " + e.Err.Error() }

// Unwrap returns the write's error.
func (e *WriteError) Unwrap() error { return e.Err }

// Attach connects to the terminal of a running instance of a stack started
// with a terminal per instance. rows and cols are the caller's window size (0 when unknown).
func (c *Client) Attach(ctx context.Context, name string, rows, cols uint16) (*Attached, error) {
	cc, _, err := c.open(ctx, Request{Command: CmdAttach, Name: name, Rows: rows, Cols: cols})
	if err != nil {
		return nil, err
	}
	return &Attached{cc: cc}, nil
}

// Attached is a terminal connection to an instance. Write, Resize and
// ReadOutput may be called from different goroutines; Close ends it.
type Attached struct {
	cc   *clientConn
	mu   sync.Mutex // serialises frames
	wbuf []byte
}

// Write sends keystrokes to the instance.
func (a *Attached) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), MaxFrame)]
		a.wbuf = appendFrame(a.wbuf[:0], FrameInput, chunk)
		if _, err := a.cc.c.Write(a.wbuf); err != nil {
			return n, a.cc.readErr(err)
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// Resize tells the instance the new window size; it gets SIGWINCH.
func (a *Attached) Resize(rows, cols uint16) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wbuf = appendFrame(a.wbuf[:0], FrameResize, resizePayload(rows, cols))
	_, err := a.cc.c.Write(a.wbuf)
	return a.cc.readErr(err)
}

// ErrConnectionLost is returned by ReadOutput when the connection ends
// without proctor saying that the instance's terminal closed.
var ErrConnectionLost = errors.New("connection to proctor lost")

// ReadOutput copies the instance's terminal output to w until the terminal
// closes, and returns proctor's message saying so. It returns
// ErrConnectionLost (wrapped) when the connection ends first, a
// *WriteError when writing to w fails, and the context's cause when the
// context of Attach is done.
func (a *Attached) ReadOutput(w io.Writer) (string, error) {
	buf := make([]byte, MaxFrame)
	for {
		kind, p, err := readFrame(a.cc.br, buf)
		if err != nil {
			return "", a.cc.readErr(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		}
		switch kind {
		case FrameOutput:
			if _, err := w.Write(p); err != nil {
				return "", &WriteError{err}
			}
		case FrameEnd:
			return string(p), nil
		}
	}
}

// Close detaches: the connection closes and the instance keeps running. A
// ReadOutput in progress returns.
func (a *Attached) Close() error {
	a.cc.close()
	return nil
}
