package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FuzzServer sends arbitrary bytes to a server: whatever they are (a
// request, garbage, a request followed by attach frames), the server
// answers or closes, never panics, and keeps serving.
func FuzzServer(f *testing.F) {
	req := func(s string) []byte { return []byte(s + "\n") }
	f.Add(req(`{"version":1,"command":"status"}`))
	f.Add(req(`{"version":1,"command":"info"}`))
	f.Add(req(`{"version":1,"command":"restart","name":"web"}`))
	f.Add(req(`{"version":1,"command":"scale","formation":[{"type":"web","count":-3}]}`))
	f.Add(req(`{"version":1,"command":"logs","names":["web","nope"]}`))
	f.Add(req(`{"version":1,"command":"logs","color":true}`))
	attach := req(`{"version":1,"command":"attach","name":"web.1","rows":24,"cols":80}`)
	attach = appendFrame(attach, FrameInput, []byte("keys"))
	attach = appendFrame(attach, FrameResize, resizePayload(0, 0))
	attach = appendFrame(attach, FrameResize, []byte{1})
	attach = appendFrame(attach, 'z', []byte("unknown kind"))
	f.Add(attach)
	f.Add(append(req(`{"version":1,"command":"attach","name":"web.1"}`), 'i', 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte("{\"version\":1,\"command\":\"status\"}")) // no newline
	f.Add([]byte("\xff\xfe\x00garbage\n"))

	_, c := serve(f, newFakeBackend(f))
	f.Fuzz(func(t *testing.T, input []byte) {
		conn, err := net.Dial("unix", c.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			conn.Write(input)
			conn.(*net.UnixConn).CloseWrite() // the end of the input
		}()
		out, err := io.ReadAll(bufio.NewReader(conn))
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read: %v (got %q)", err, out)
		}
		if bytes.HasPrefix(out, []byte("{")) && !bytes.Contains(out, []byte(`"version":1`)) {
			t.Fatalf("answer without the version: %q", out)
		}
	})
}

// FuzzDecodeRequest: a request line is either refused with a code the
// client understands, or accepted as a request that can be served (right
// version, known command, the fields it needs); an accepted request
// encodes back to a line that decodes to the same request.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"command":"status"}`,
		`{"version":1,"command":"stats"}`,
		`{"version":1,"command":"restart","name":"web"}`,
		`{"version":1,"command":"stop","name":"web.2"}`,
		`{"version":1,"command":"scale","formation":[{"type":"web","count":3},{"type":"worker","count":0}]}`,
		`{"version":1,"command":"logs","names":["web","worker.1"],"color":true}`,
		`{"version":1,"command":"attach","name":"web.1","rows":24,"cols":80}`,
		`{"version":2,"command":"status"}`,
		`{"version":1,"command":"scale","formation":[]}`,
		`{"version":1,"command":"restart","name":""}`,
		`{"version":1.0,"command":"info","extra":{"a":[1,2,3]}}`,
		`{"version":1,"command":"logs","names":[]}`,
		`[1,2]`, `null`, `{"version":"1"}`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{CodeBadRequest: true, CodeVersion: true}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, rerr := decodeRequest(line)
		if rerr != nil {
			if !codes[rerr.Code] || rerr.Message == "" {
				t.Fatalf("decodeRequest(%q): error %+v", line, rerr)
			}
			return
		}
		if req.Version != Version {
			t.Fatalf("decodeRequest(%q) accepted version %d", line, req.Version)
		}
		switch req.Command {
		case CmdInfo, CmdStatus, CmdStats, CmdLogs:
		case CmdRestart, CmdStop, CmdAttach:
			if req.Name == "" {
				t.Fatalf("decodeRequest(%q) accepted %s without a name", line, req.Command)
			}
		case CmdScale:
			if len(req.Formation) == 0 {
				t.Fatalf("decodeRequest(%q) accepted scale without a formation", line)
			}
		default:
			t.Fatalf("decodeRequest(%q) accepted command %q", line, req.Command)
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode %+v: %v", req, err)
		}
		again, rerr := decodeRequest(enc)
		if rerr != nil {
			t.Fatalf("decodeRequest(%q) = %+v, but its encoding %s is refused: %v", line, req, enc, rerr)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("decodeRequest(%q): %s decodes to %s", line, enc, enc2)
		}
	})
}

// FuzzReadFrame: a byte stream read as attach frames gives frames of at
// most MaxFrame bytes that encode back to the bytes they came from, and
// ends with an error, never a panic or an over-long read.
func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(appendFrame(nil, FrameInput, []byte("keys")), FrameResize, resizePayload(24, 80)))
	f.Add(appendFrame(nil, FrameOutput, bytes.Repeat([]byte("x"), 300)))
	f.Add([]byte{'i', 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{'w', 0, 0, 0, 4, 0, 1})
	f.Add([]byte{'x', 0, 0})
	f.Add(appendFrame(nil, 'z', nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		buf := make([]byte, MaxFrame)
		var again []byte
		for {
			kind, p, err := readFrame(br, buf)
			if err != nil {
				if errors.Is(err, io.EOF) && len(again) != len(data) {
					t.Fatalf("clean end of %q after %d bytes", data, len(again))
				}
				break
			}
			if len(p) > MaxFrame {
				t.Fatalf("a frame of %d bytes", len(p))
			}
			if kind == FrameResize {
				_, _, ok := parseResize(p)
				if ok != (len(p) == 4) {
					t.Fatalf("parseResize(%q) ok=%v", p, ok)
				}
			}
			again = appendFrame(again, kind, p)
		}
		if !bytes.HasPrefix(data, again) {
			t.Fatalf("frames of %q encode to %q", data, again)
		}
	})
}

// FuzzClient: whatever a server answers (garbage, a huge line, an error
// without a message, half a line), each client call returns a result or an
// error, never panics, and an ok answer to logs is followed by exactly the
// bytes the server sent after it.
func FuzzClient(f *testing.F) {
	f.Add(uint8(0), []byte(`{"version":1,"ok":true,"processes":[{"name":"web.1","pid":3}],"types":["web"]}`+"\n"))
	f.Add(uint8(1), []byte(`{"version":1,"ok":true,"pid":7,"stats":{"goroutines":3,"fds":9,"heap_bytes":100}}`+"\n"))
	f.Add(uint8(1), []byte(`{"version":1,"ok":true}`+"\n"))
	f.Add(uint8(2), []byte(`{"version":1,"ok":false,"code":"unknown_name"}`+"\n"))
	f.Add(uint8(3), []byte(`{"version":1,"ok":true}`+"\n12:00:00 web.1 | hello\n"))
	f.Add(uint8(4), []byte(`{"version":1,"ok":true}`+"\n"+string(appendFrame(nil, FrameEnd, []byte("bye")))))
	f.Add(uint8(0), []byte("{\"version\":1,\"ok\":tr"))
	f.Add(uint8(0), []byte("\n"))

	path := filepath.Join(f.TempDir(), "c.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	c := &Client{Path: path}
	f.Fuzz(func(t *testing.T, call uint8, answer []byte) {
		served := make(chan error, 1)
		go func() {
			conn, err := l.Accept()
			if err != nil {
				served <- err
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := bufio.NewReader(conn).ReadSlice('\n'); err != nil {
				served <- err
				return
			}
			conn.Write(answer) // the client may stop reading early
			served <- nil
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		switch call % 5 {
		case 0:
			st, err := c.Status(ctx)
			if err == nil && st.Processes == nil {
				t.Fatalf("Status of %q: nil processes without an error", answer)
			}
		case 1:
			c.Stats(ctx)
		case 2:
			c.Restart(ctx, "web")
		case 3:
			var out bytes.Buffer
			err := c.Logs(ctx, nil, false, &out)
			if err == nil {
				_, rest, _ := bytes.Cut(answer, []byte("\n"))
				if !bytes.Equal(out.Bytes(), rest) {
					t.Fatalf("Logs of %q wrote %q", answer, out.Bytes())
				}
			}
		case 4:
			if a, err := c.Attach(ctx, "web.1", 24, 80); err == nil {
				a.ReadOutput(io.Discard)
				a.Close()
			}
		}
		if err := <-served; err != nil {
			t.Fatalf("server: %v", err)
		}
	})
}
