package runner

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLineMatcher(t *testing.T) {
	re := regexp.MustCompile(`^ready to accept connections$`)
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a whole line", "starting\nready to accept connections\n", true},
		{"a CRLF line", "ready to accept connections\r\n", true},
		{"not before its end", "ready to accept connections", false},
		{"part of a line is not the line", "not ready to accept connections\n", false},
		{"a line longer than what is kept", strings.Repeat("x", maxMatchLine+10) + "\nready to accept connections\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reports atomic.Int32
			m := &lineMatcher{r: iotest.OneByteReader(strings.NewReader(tt.in)), re: re, matched: &atomic.Bool{}, report: func() { reports.Add(1) }}
			out, err := io.ReadAll(m)
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(out), "the bytes pass through unchanged")
			assert.Equal(t, tt.want, reports.Load() == 1)
			assert.LessOrEqual(t, reports.Load(), int32(1), "reported once at most")
		})
	}
	t.Run("two streams share one report", func(t *testing.T) {
		var reports atomic.Int32
		matched := &atomic.Bool{}
		for range 2 {
			m := &lineMatcher{r: strings.NewReader("ready to accept connections\n"), re: re, matched: matched, report: func() { reports.Add(1) }}
			_, err := io.ReadAll(m)
			require.NoError(t, err)
		}
		assert.Equal(t, int32(1), reports.Load())
	})
}

func TestHTTPOK(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(http.StatusNoContent)
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := l.Addr().String()
	assert.True(t, httpOK(ctx, addr, "/health"), "204")
	assert.True(t, httpOK(ctx, addr, "/moved"), "a redirect is below 400")
	assert.False(t, httpOK(ctx, addr, "/down"), "503")
	srv.Close()
	assert.False(t, httpOK(ctx, addr, "/health"), "nothing listens")
}
