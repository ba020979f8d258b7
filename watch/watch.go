// Package watch reports changes of an app's files that match the globs of
// its process types (.proctor's watch key, or globs given on the command
// line), so that proctor can restart those types. It watches every
// directory under the root with the operating system's file events
// (fsnotify: inotify on Linux, kqueue on macOS), adding directories as they
// appear, and reports a burst of writes as one change per type, once the
// files have been quiet for the debounce interval.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fsnotify/fsnotify"
)

// DefaultIgnore are the directories never watched, wherever they are under
// the root: version control, dependencies, temporary files and logs.
var DefaultIgnore = []string{".git", "node_modules", "tmp", "log"}

// DefaultDebounce is how long the files must stay quiet before a change is
// reported.
const DefaultDebounce = 200 * time.Millisecond

// Rule is the globs of one process type, relative to the root, in
// doublestar syntax: "app/**/*.rb", "config/*.yml".
type Rule struct {
	Type  string
	Globs []string
}

// CheckGlob reports whether glob is one a Rule may hold.
func CheckGlob(glob string) error {
	if glob == "" {
		return errors.New("empty glob")
	}
	if filepath.IsAbs(glob) || strings.HasPrefix(glob, "../") || glob == ".." {
		return fmt.Errorf("%q is not under the root: write it relative to the root", glob)
	}
	if strings.HasPrefix(glob, "./") {
		return fmt.Errorf("%q: write it without ./ (globs are relative to the root)", glob)
	}
	if !doublestar.ValidatePattern(glob) {
		return fmt.Errorf("%q is not a valid glob", glob)
	}
	return nil
}

// Change is what a burst of file events meant for one type.
type Change struct {
	// Type is the process type to restart.
	Type string
	// Path is the first file of the burst that matched, relative to the
	// root, with '/' separators; More counts the others.
	Path string
	More int
}

// Options configure a Watcher.
type Options struct {
	// Ignore adds paths (relative to the root, or absolute) never watched
	// nor reported, such as log files and the control socket, to
	// DefaultIgnore.
	Ignore []string
	// Debounce is the quiet interval; zero means DefaultDebounce.
	Debounce time.Duration
}

// Watcher watches a root for the files of its rules.
type Watcher struct {
	root     string
	rules    []Rule
	ignore   []string
	debounce time.Duration
	fs       *fsnotify.Watcher
	changes  chan Change
	errs     chan error
	done     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	pending map[string]*burst // by type, until its timer fires
	timers  map[string]*time.Timer
}

// burst is the files changed for one type since its last report.
type burst struct {
	first string
	seen  map[string]bool
}

// New starts watching root for rules. Close it when done.
func New(root string, rules []Rule, opts Options) (*Watcher, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		root: abs, rules: rules, debounce: opts.Debounce, fs: fw,
		changes: make(chan Change), errs: make(chan error, 1), done: make(chan struct{}),
		pending: map[string]*burst{}, timers: map[string]*time.Timer{},
	}
	if w.debounce <= 0 {
		w.debounce = DefaultDebounce
	}
	for _, p := range opts.Ignore {
		if filepath.IsAbs(p) {
			if rel, err := filepath.Rel(abs, p); err == nil && !outside(rel) {
				p = rel
			} else {
				continue
			}
		}
		w.ignore = append(w.ignore, filepath.ToSlash(filepath.Clean(p)))
	}
	if err := w.addTree(abs, false); err != nil {
		fw.Close()
		return nil, err
	}
	w.wg.Go(w.loop)
	return w, nil
}

// Changes delivers the debounced changes.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Errors delivers problems of the watching itself (a directory that could
// not be watched, the kernel's event queue overflowing); it holds one at a
// time and drops the rest.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Close stops watching and waits for the watcher's goroutines.
func (w *Watcher) Close() error {
	close(w.done)
	err := w.fs.Close()
	w.wg.Wait()
	w.mu.Lock()
	for _, t := range w.timers {
		t.Stop()
	}
	w.mu.Unlock()
	return err
}

// ignored reports whether rel (slash-separated, relative to the root) is
// never watched: it is, or is inside, an ignored directory or path.
func (w *Watcher) ignored(rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if slices.Contains(DefaultIgnore, p) {
			return true
		}
	}
	for _, ig := range w.ignore {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

func (w *Watcher) rel(path string) (string, bool) {
	rel, err := filepath.Rel(w.root, path)
	if err != nil || outside(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// outside reports whether rel, relative to the root, leaves it ("..",
// "../x"; not "..env").
func outside(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// addTree watches dir and every directory under it that is not ignored.
// With fresh (a directory that has just appeared), the files already in it
// count as changed: they may have been written before its watch was added.
func (w *Watcher) addTree(dir string, fresh bool) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // gone meanwhile, or unreadable: not ours to watch
		}
		if !d.IsDir() {
			if fresh {
				if rel, ok := w.rel(path); ok && !w.ignored(rel) {
					w.match(rel)
				}
			}
			return nil
		}
		if rel, ok := w.rel(path); ok && rel != "." && w.ignored(rel) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(path); err != nil {
			if path == dir {
				return err
			}
			w.report(fmt.Errorf("watching %s: %w", path, err))
		}
		return nil
	})
}

func (w *Watcher) report(err error) {
	select {
	case w.errs <- err:
	default:
	}
}

func (w *Watcher) loop() {
	for {
		select {
		case <-w.done:
			return
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.report(err)
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			w.handle(ev)
		}
	}
}

func (w *Watcher) handle(ev fsnotify.Event) {
	if ev.Op == fsnotify.Chmod {
		return // attributes only: touching a file's mode changes no code
	}
	rel, ok := w.rel(ev.Name)
	if !ok || w.ignored(rel) {
		return
	}
	if ev.Op.Has(fsnotify.Create) {
		if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
			w.addTree(ev.Name, true) // a new directory: watch it, and what was made in it meanwhile
			return
		}
	}
	w.match(rel)
}

// match notes rel for every type with a glob that matches it.
func (w *Watcher) match(rel string) {
	for _, r := range w.rules {
		for _, g := range r.Globs {
			if doublestar.MatchUnvalidated(g, rel) {
				w.note(r.Type, rel)
				break
			}
		}
	}
}

// note adds rel to the burst of typ and (re)arms its quiet timer.
func (w *Watcher) note(typ, rel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.pending[typ]
	if b == nil {
		b = &burst{first: rel, seen: map[string]bool{}}
		w.pending[typ] = b
	}
	b.seen[rel] = true
	if t := w.timers[typ]; t != nil {
		t.Reset(w.debounce)
		return
	}
	w.timers[typ] = time.AfterFunc(w.debounce, func() { w.fire(typ) })
}

// fire reports the burst of typ.
func (w *Watcher) fire(typ string) {
	w.mu.Lock()
	b := w.pending[typ]
	delete(w.pending, typ)
	delete(w.timers, typ)
	w.mu.Unlock()
	if b == nil {
		return
	}
	select {
	case w.changes <- Change{Type: typ, Path: b.first, More: len(b.seen) - 1}:
	case <-w.done:
	}
}
