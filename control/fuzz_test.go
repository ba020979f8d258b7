package control

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
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
