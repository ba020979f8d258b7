package output

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// BenchmarkCopyPipe is BenchmarkMux/text/4src/file with real pipes: four
// writer goroutines play children writing 80-byte lines in 4 KiB writes
// (stdio's buffer), and Copy reads the pipes as proctor does. One op is one
// line.
func BenchmarkCopyPipe(b *testing.B) {
	const sources = 4
	f, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m := New(f, Options{})
	b.ReportAllocs()
	b.SetBytes(80)
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range sources {
		name := "worker." + strconv.Itoa(i+1)
		m.Register(name, i)
		pr, pw, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		n := b.N / sources
		if i == 0 {
			n += b.N % sources
		}
		wg.Go(func() {
			defer pr.Close()
			if err := m.Copy(name, Stdout, pr); err != nil {
				b.Error(err)
			}
		})
		wg.Go(func() {
			defer pw.Close()
			src := newLineSource(n, 80)
			if _, err := io.CopyBuffer(onlyWriter{pw}, onlyReader{src}, make([]byte, 4096)); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
}

// onlyReader and onlyWriter hide ReadFrom and WriteTo, so that io.CopyBuffer
// uses its buffer: 4 KiB writes, as a child's stdio makes.
type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }
