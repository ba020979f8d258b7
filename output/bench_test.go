package output

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// BenchmarkMux measures the Mux alone: sources are generating readers of
// 80-byte lines (no pipes, no children), one op is one line, and the bytes
// are the children's 80. The file variants write a real temporary file.
func BenchmarkMux(b *testing.B) {
	for _, format := range []Format{Text, JSON} {
		for _, sources := range []int{1, 4} {
			for _, dest := range []string{"discard", "file"} {
				name := [...]string{"text", "json"}[format] + "/" + strconv.Itoa(sources) + "src/" + dest
				b.Run(name, func(b *testing.B) { benchMux(b, format, sources, dest) })
			}
		}
	}
}

func benchMux(b *testing.B, format Format, sources int, dest string) {
	var w io.Writer = io.Discard
	if dest == "file" {
		f, err := os.Create(filepath.Join(b.TempDir(), "out"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	m := New(w, Options{Format: format})
	names := make([]string, sources)
	for i := range names {
		names[i] = "worker." + strconv.Itoa(i+1)
		m.Register(names[i], i)
	}
	b.ReportAllocs()
	b.SetBytes(80)
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, name := range names {
		n := b.N / sources
		if i == 0 {
			n += b.N % sources
		}
		wg.Go(func() {
			if err := m.Copy(name, Stdout, newLineSource(n, 80)); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFileBaseline writes what BenchmarkMux/text/*/file writes (80-byte
// lines behind a 20-byte prefix) straight into a temporary file in 1 MiB
// Writes: the speed of the file itself, for comparison. One op is one line.
func BenchmarkFileBaseline(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	line := []byte("14:03:07 worker.1 | " + string(bytes.Repeat([]byte{'a'}, 79)) + "\n")
	chunk := bytes.Repeat(line, (1<<20)/len(line))
	per := len(chunk) / len(line)
	b.SetBytes(80)
	b.ResetTimer()
	for n := b.N; n > 0; n -= per {
		if _, err := f.Write(chunk[:min(n, per)*len(line)]); err != nil {
			b.Fatal(err)
		}
	}
}
