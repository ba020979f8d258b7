package watch

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func write(t *testing.T, root, rel string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("x\n"), 0o644))
}

func next(t *testing.T, w *Watcher) Change {
	t.Helper()
	select {
	case c := <-w.Changes():
		return c
	case err := <-w.Errors():
		t.Fatalf("watch error: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported within 10s")
	}
	return Change{}
}

func start(t *testing.T, root string, rules []Rule, opts Options) *Watcher {
	t.Helper()
	w, err := New(root, rules, opts)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	return w
}

// TestWatch: a write to a matching file is one change; what is ignored or
// does not match never is (a sentinel written after it is the first change
// seen); a burst is one change; a directory made later is watched too.
func TestWatch(t *testing.T) {
	root := t.TempDir()
	write(t, root, "app/models/user.rb")
	write(t, root, "config/app.yml")
	w := start(t, root, []Rule{{Type: "web", Globs: []string{"app/**/*.rb", "config/*.yml", "*.rb"}}, {Type: "css", Globs: []string{"**/*.css"}}}, Options{Debounce: 50 * time.Millisecond, Ignore: []string{"build"}})

	write(t, root, "app/models/user.rb")
	assert.Equal(t, Change{Type: "web", Path: "app/models/user.rb"}, next(t, w))

	write(t, root, "..env.rb") // a name starting with "..", under the root
	assert.Equal(t, Change{Type: "web", Path: "..env.rb"}, next(t, w))
	for _, rel := range []string{"node_modules/pkg/a.rb", "log/x.css", ".git/y.rb", "tmp/z.rb", "build/out.css", "app/models/user.py", "README.md"} {
		write(t, root, rel)
	}
	write(t, root, "config/app.yml")
	assert.Equal(t, Change{Type: "web", Path: "config/app.yml"}, next(t, w), "nothing ignored or unmatched came before it")

	for _, rel := range []string{"app/a.rb", "app/b.rb", "app/a.rb", "app/c/d.rb"} {
		write(t, root, rel)
	}
	c := next(t, w)
	assert.Equal(t, "web", c.Type)
	assert.Equal(t, "app/a.rb", c.Path)
	assert.Equal(t, 2, c.More, "three files in one burst: one change")

	write(t, root, "assets/new/deep/site.css")
	assert.Equal(t, Change{Type: "css", Path: "assets/new/deep/site.css"}, next(t, w), "a directory made after the start is watched")
}

func TestCheckGlob(t *testing.T) {
	for _, g := range []string{"app/**/*.rb", "*.go", "config/{a,b}.yml"} {
		assert.NoError(t, CheckGlob(g), g)
	}
	for g, want := range map[string]string{
		"":        "empty glob",
		"/etc/*":  `"/etc/*" is not under the root: write it relative to the root`,
		"../x/*":  `"../x/*" is not under the root: write it relative to the root`,
		"app/[a":  `"app/[a" is not a valid glob`,
		"./src/*": `"./src/*": write it without ./ (globs are relative to the root)`,
	} {
		assert.EqualError(t, CheckGlob(g), want, g)
	}
}
