package cli

import (
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra/doc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateDocs = flag.Bool("update-docs", false, "regenerate docs/ (man pages and markdown) from the command definitions")

// docsDir is the module's docs/, seen from this package's directory.
var docsDir = filepath.Join("..", "docs")

// regenerate is the command that brings docs/ up to date.
const regenerate = "go test ./cli -run TestDocsUpToDate -update-docs"

// docsDate is the date in the man pages' footer: fixed, so that the
// generated files change only when the commands do.
var docsDate = time.Date(2026, time.November, 26, 0, 0, 0, 0, time.UTC)

// generateDocs writes the markdown command reference into dir/cli and the
// man pages into dir/man, from the same definitions `proctor --help` uses.
func generateDocs(dir string) error {
	root := newRootCmd(&host{stdin: os.Stdin, stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: func() []string { return nil }})
	root.Version = "" // the build's version does not belong in the docs
	root.InitDefaultCompletionCmd()
	for _, sub := range []string{"cli", "man"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, filepath.Join(dir, "cli")); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "PROCTOR", Section: "1", Date: &docsDate, Source: "proctor", Manual: "proctor manual"}
	return doc.GenManTree(root, header, filepath.Join(dir, "man"))
}

// TestDocsUpToDate fails when docs/ differs from what the command
// definitions generate. Regenerate with (from the module root):
// go test ./cli -run TestDocsUpToDate -update-docs (the package comes
// first: go test would take a package after -update-docs for its value)
func TestDocsUpToDate(t *testing.T) {
	fresh := t.TempDir()
	require.NoError(t, generateDocs(fresh))
	if *updateDocs {
		for _, sub := range []string{"cli", "man"} {
			require.NoError(t, os.RemoveAll(filepath.Join(docsDir, sub)))
		}
		require.NoError(t, os.CopyFS(docsDir, os.DirFS(fresh)))
		return
	}
	want := readTree(t, fresh)
	got := readTree(t, docsDir)
	for name, content := range want {
		if assert.Contains(t, got, name, "docs/%s is missing; run: %s", name, regenerate) {
			assert.Equal(t, content, got[name], "docs/%s is out of date; run: %s", name, regenerate)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && (filepath.Dir(name) == "cli" || filepath.Dir(name) == "man") {
			t.Errorf("docs/%s documents no command; run: %s", name, regenerate)
		}
	}
}

// readTree returns the files under dir by slash-separated relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	require.NoError(t, err)
	return files
}
