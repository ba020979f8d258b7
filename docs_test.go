package main

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
// definitions generate. Regenerate with: go test -run TestDocsUpToDate -update-docs .
func TestDocsUpToDate(t *testing.T) {
	fresh := t.TempDir()
	require.NoError(t, generateDocs(fresh))
	if *updateDocs {
		for _, sub := range []string{"cli", "man"} {
			require.NoError(t, os.RemoveAll(filepath.Join("docs", sub)))
		}
		require.NoError(t, os.CopyFS("docs", os.DirFS(fresh)))
		return
	}
	want := readTree(t, fresh)
	got := readTree(t, "docs")
	for name, content := range want {
		if assert.Contains(t, got, name, "docs/%s is missing; run: go test -run TestDocsUpToDate -update-docs .", name) {
			assert.Equal(t, content, got[name], "docs/%s is out of date; run: go test -run TestDocsUpToDate -update-docs .", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && (filepath.Dir(name) == "cli" || filepath.Dir(name) == "man") {
			t.Errorf("docs/%s documents no command; run: go test -run TestDocsUpToDate -update-docs .", name)
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
