package output

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proctor-run/proctor/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestQuietChildrenHoldNoReadBuffers: Copy calls reading pipes whose
// children have printed a line and gone quiet hold no read buffer, so 200
// of them cost far less heap than 200 buffers of startBuf bytes.
func TestQuietChildrenHoldNoReadBuffers(t *testing.T) {
	const streams = 200
	out := &syncbuf.Buffer{}
	m := New(out, Options{NoTimestamp: true})
	for i := range streams {
		m.Register("web."+strconv.Itoa(i+1), i) // as the runner does, before starting
	}
	before := liveHeap()

	var wg sync.WaitGroup
	writers := make([]*os.File, streams)
	for i := range streams {
		pr, pw, err := os.Pipe()
		require.NoError(t, err)
		writers[i] = pw
		name := "web." + strconv.Itoa(i+1)
		wg.Go(func() {
			defer pr.Close()
			assert.NoError(t, m.Copy(name, Stdout, pr))
		})
		_, err = pw.WriteString("half a line, ")
		require.NoError(t, err)
		_, err = pw.WriteString("the other half\n")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return strings.Count(out.String(), "the other half\n") == streams },
		10*time.Second, time.Millisecond, "%d lines", streams)
	liveHeap() // the pool's buffers survive one collection
	grown := int64(liveHeap()) - int64(before)
	t.Logf("%d quiet Copy calls: heap grew by %d KiB", streams, grown>>10)
	assert.Less(t, grown, int64(streams*startBuf/4), "heap growth for %d quiet streams", streams)

	for _, w := range writers {
		w.Close()
	}
	wg.Wait()
	require.NoError(t, m.Close())
	assert.Equal(t, streams, strings.Count(out.String(), "| half a line, the other half\n"), "whole lines")
}

// TestCopyPipeClosedBeforeRead: Copy returns at once for a pipe whose
// writer is gone before Copy first waits, with or without a last line.
func TestCopyPipeClosedBeforeRead(t *testing.T) {
	for _, data := range []string{"", "last\n", "no line end"} {
		pr, pw, err := os.Pipe()
		require.NoError(t, err)
		_, err = pw.WriteString(data)
		require.NoError(t, err)
		require.NoError(t, pw.Close())
		out := &syncbuf.Buffer{}
		m := New(out, Options{NoTimestamp: true})
		waitFor(t, goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, pr)) }), 10*time.Second, "Copy of a closed pipe holding "+strconv.Quote(data))
		require.NoError(t, m.Close())
		pr.Close()
		if data != "" {
			assert.Equal(t, "web.1  | "+strings.TrimSuffix(data, "\n")+"\n", out.String(), "output for %q", data)
		}
	}
}

// TestFastPipesEnlarged: the pipes of fast children get a 1 MiB capacity,
// at most pipeBudget in all, and the budget is given back when their Copy
// calls end.
func TestFastPipesEnlarged(t *testing.T) {
	const streams = pipeBudget/fastPipe + 4
	m := New(io.Discard, Options{NoTimestamp: true})
	var readers, writers []*os.File
	var wg sync.WaitGroup
	for i := range streams {
		pr, pw, err := os.Pipe()
		require.NoError(t, err)
		readers, writers = append(readers, pr), append(writers, pw)
		wg.Go(func() { assert.NoError(t, m.Copy("web."+strconv.Itoa(i+1), Stdout, pr)) })
	}
	// Fill each pipe before Copy can drain it: its first read fills the
	// small buffer, so the child is fast.
	line := strings.Repeat("x", 79) + "\n"
	chunk := strings.Repeat(line, 2*startBuf/len(line))
	for _, pw := range writers {
		for range 4 {
			_, err := pw.WriteString(chunk)
			require.NoError(t, err)
		}
	}
	enlarged := 0
	for _, pr := range readers {
		size, err := unix.FcntlInt(pr.Fd(), unix.F_GETPIPE_SZ, 0)
		require.NoError(t, err)
		if size == fastPipe {
			enlarged++
		}
	}
	for _, pw := range writers {
		pw.Close()
	}
	wg.Wait()
	for _, pr := range readers {
		pr.Close()
	}
	require.NoError(t, m.Close())
	if enlarged == 0 {
		t.Skip("F_SETPIPE_SZ to 1 MiB refused here (fs.pipe-max-size or the user's pipe limit)")
	}
	assert.Equal(t, pipeBudget/fastPipe, enlarged, "pipes enlarged among %d fast children", streams)
	assert.Zero(t, m.pipeBytes.Load(), "budget in use once every Copy returned")
}
