package control

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxRequest is the largest request line, newline included, that a server
// reads; a longer one gets a "bad_request" answer and the connection is
// closed.
const MaxRequest = 64 << 10

// maxResponse bounds a response line on the client side (a status of many
// instances stays far below it).
const maxResponse = 16 << 20

// MaxFrame is the largest payload of an attach frame.
const MaxFrame = 64 << 10

// RequestTimeout is how long a server waits for the request line of a new
// connection.
const RequestTimeout = 10 * time.Second

// Commands of the protocol.
const (
	CmdInfo    = "info"
	CmdStatus  = "status"
	CmdRestart = "restart"
	CmdStop    = "stop"
	CmdScale   = "scale"
	CmdLogs    = "logs"
	CmdAttach  = "attach"
	CmdStats   = "stats"
	CmdWait    = "wait"
	// CmdShutdown stops the whole stack, as Ctrl-C does (proctor down).
	CmdShutdown = "shutdown"
)

// Error codes of a response.
const (
	CodeForbidden    = "forbidden"
	CodeBadRequest   = "bad_request"
	CodeVersion      = "version"
	CodeUnknownName  = "unknown_name"
	CodeNotTTY       = "not_tty"
	CodeNotAlive     = "not_alive"
	CodeShuttingDown = "shutting_down"
	CodeNotRunning   = "not_running"
	CodeFailed       = "failed"
)

// Frame kinds of an attach stream.
const (
	FrameInput  byte = 'i' // client → server: keystrokes
	FrameResize byte = 'w' // client → server: rows, cols (uint16 big-endian each)
	FrameOutput byte = 'o' // server → client: raw terminal output
	FrameEnd    byte = 'x' // server → client: the terminal closed; payload says why
)

// Request is one request line.
type Request struct {
	// Version is the protocol version of the client: Version.
	Version int `json:"version"`
	// Command is one of the Cmd constants.
	Command string `json:"command"`
	// Name is the instance or type of restart, stop and attach.
	Name string `json:"name,omitempty"`
	// Names filters logs (instances or types; none means all), and names
	// the types wait waits for (none: see Backend.Wait).
	Names []string `json:"names,omitempty"`
	// Formation is what scale sets.
	Formation []procfile.TypeCount `json:"formation,omitempty"`
	// Color asks logs for colored lines.
	Color bool `json:"color,omitempty"`
	// Rows and Cols are the window size of an attaching terminal; zero
	// when unknown.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
}

// Response is one response line.
type Response struct {
	// Version is the protocol version of the server: Version.
	Version int `json:"version"`
	// OK reports whether the request succeeded.
	OK bool `json:"ok"`
	// Code and Error describe a failure (OK false).
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	// PID is proctor's process id (info).
	PID int `json:"pid,omitempty"`
	// Types are the Procfile's process types in order (info, status).
	Types []string `json:"types,omitempty"`
	// Processes are the instances of the stack (status).
	Processes []Process `json:"processes,omitempty"`
	// Stats are figures of the proctor process (stats).
	Stats *Stats `json:"stats,omitempty"`
}

// Process is the state of one instance, as `proctor ps` shows it; its
// JSON form is also what ps prints as JSON.
type Process struct {
	Name          string  `json:"name"`
	Type          string  `json:"type"`
	PID           int     `json:"pid"` // 0 when no process runs
	State         string  `json:"state"`
	UptimeSeconds float64 `json:"uptime_seconds"` // 0 when no process runs
	Restarts      int     `json:"restarts"`
	Port          int     `json:"port"` // 0 when it has none
	Ready         bool    `json:"ready"`
}

// Error is a failure reported by the server.
type Error struct {
	Code    string // one of the Code constants
	Message string
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// decodeRequest parses a request line and checks it: the version, a known
// command, and the fields that command needs (a name for restart, stop
// and attach, a formation for scale). A request it returns can be
// served; otherwise the *Error is the answer to give.
func decodeRequest(line []byte) (Request, *Error) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Request{}, &Error{CodeBadRequest, "malformed request: " + err.Error()}
	}
	if req.Version != Version {
		return Request{}, &Error{CodeVersion, fmt.Sprintf("this proctor speaks control protocol version %d, the client version %d: use the same proctor for start and the control commands", Version, req.Version)}
	}
	switch req.Command {
	case CmdInfo, CmdStatus, CmdStats, CmdLogs, CmdWait, CmdShutdown:
	case CmdRestart, CmdStop, CmdAttach:
		if req.Name == "" {
			return Request{}, &Error{CodeBadRequest, req.Command + ": missing name"}
		}
	case CmdScale:
		if len(req.Formation) == 0 {
			return Request{}, &Error{CodeBadRequest, "scale: no formation given"}
		}
	default:
		return Request{}, &Error{CodeBadRequest, fmt.Sprintf("unknown command %q", req.Command)}
	}
	return req, nil
}

// errTooLong is returned by readLine for a line longer than its limit.
var errTooLong = errors.New("line too long")

// readLine reads one line of at most max bytes (newline included) and
// returns it without the newline. It never buffers more than max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// writeJSON writes v as one line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// appendFrame appends a frame of kind holding p to dst.
func appendFrame(dst []byte, kind byte, p []byte) []byte {
	dst = append(dst, kind)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}

// errFrameTooLarge is returned by readFrame for a payload over MaxFrame.
var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one frame into buf (which must hold MaxFrame bytes) and
// returns its kind and payload, a slice of buf.
func readFrame(br *bufio.Reader, buf []byte) (kind byte, payload []byte, err error) {
	var head [5]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("truncated frame header: %w", err)
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: %d bytes (at most %d)", errFrameTooLarge, n, MaxFrame)
	}
	if _, err := io.ReadFull(br, buf[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("truncated frame: %w", err)
	}
	return head[0], buf[:n], nil
}

// resizePayload encodes a window size.
func resizePayload(rows, cols uint16) []byte {
	var p [4]byte
	binary.BigEndian.PutUint16(p[0:], rows)
	binary.BigEndian.PutUint16(p[2:], cols)
	return p[:]
}

// parseResize decodes a window size; ok is false for a malformed payload.
func parseResize(p []byte) (rows, cols uint16, ok bool) {
	if len(p) != 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:]), binary.BigEndian.Uint16(p[2:]), true
}
