package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/proctor-run/proctor/output"
)

// openLogFiles opens the log file of every type that has one (.proctor's
// log_file, relative to the root, else DIR/TYPE.log with --log-dir), once,
// for appending, writes a line "--- proctor start TIME ---" to each, and
// attaches them to mux. A file that cannot be opened is a usage error
// before anything starts; one that fails later (a full disk) is reported
// once in the stream and the stack goes on. close closes the files; call it
// after mux.Close.
func openLogFiles(a *app, dir string, mux *output.Mux) (close func(), err error) {
	paths := map[string]string{}
	var order []string
	for _, e := range a.Entries {
		path := ""
		switch {
		case a.logFiles[e.Name] != "":
			path = a.path(a.logFiles[e.Name])
		case dir != "":
			path = filepath.Join(dir, e.Name+".log")
		default:
			continue
		}
		paths[e.Name] = path
		order = append(order, e.Name)
	}
	var files []*os.File
	close = func() {
		for _, f := range files {
			f.Close()
		}
	}
	start := "--- proctor start " + time.Now().Format(time.RFC3339) + " ---\n"
	for _, typ := range order {
		path := paths[typ]
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			close()
			return nil, fmt.Errorf("log file of %s: %w", typ, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			close()
			return nil, fmt.Errorf("log file of %s: %w", typ, err)
		}
		files = append(files, f)
		if _, err := f.WriteString(start); err != nil {
			mux.System(fmt.Sprintf("%s: %v; %s's lines are not written there", path, err, typ))
			continue
		}
		mux.LogTo(f, func(name string) bool { return instanceType(name) == typ }, func(err error) {
			mux.System(fmt.Sprintf("%s: %v; %s's lines are no longer written there", path, err, typ))
		})
	}
	return close, nil
}

// instanceType is the type of an instance name: "web" for "web.2".
func instanceType(name string) string {
	typ, _, _ := strings.Cut(name, ".")
	return typ
}
