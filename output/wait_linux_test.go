package output

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuietChildrenHoldNoReadBuffers: Copy calls reading pipes whose
// children have printed a line and gone quiet hold no read buffer, so 200
// of them cost far less heap than 200 buffers of startBuf bytes.
func TestQuietChildrenHoldNoReadBuffers(t *testing.T) {
	const streams = 200
	out := &syncBuffer{}
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
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "the other half\n") < streams {
		require.True(t, time.Now().Before(deadline), "timed out waiting for %d lines:\n%s", streams, out.String())
		time.Sleep(5 * time.Millisecond)
	}
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
		out := &syncBuffer{}
		m := New(out, Options{NoTimestamp: true})
		waitFor(t, goDone(func() { assert.NoError(t, m.Copy("web.1", Stdout, pr)) }), 10*time.Second, "Copy of a closed pipe holding "+strconv.Quote(data))
		require.NoError(t, m.Close())
		pr.Close()
		if data != "" {
			assert.Equal(t, "web.1  | "+strings.TrimSuffix(data, "\n")+"\n", out.String(), "output for %q", data)
		}
	}
}
