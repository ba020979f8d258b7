// Package config reads proctor's defaults file: `.proctor`, or `.foreman`
// for drop-in use, in the current directory.
//
// The file holds default flag values as "key: value" lines (procfile, env,
// formation, port, timeout, root, ...). Blank lines and # comments are
// ignored; a value may be wrapped in single or double quotes. Flags given on
// the command line win over the file; applying the values to flags is the
// caller's job, since only it knows which flags a command has. .proctor may
// also hold a processes block, in YAML, of per-type start rules (after,
// ready, ready_timeout); File.Rules checks it against the Procfile.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/proctor-run/proctor/fileline"
)

// names are the file names looked for, in order; the first that exists is used.
var names = [...]string{".proctor", ".foreman"}

// Setting is one "key: value" line.
type Setting struct {
	Key   string
	Value string
	// Line is the 1-based line of the setting.
	Line int
}

// File is a parsed defaults file.
type File struct {
	// Path is the file read (dir joined with its name, so ".proctor" for
	// the current directory); empty when no file exists.
	Path     string
	Settings []Setting
	// Processes holds .proctor's per-type settings (the processes block),
	// in file order.
	Processes []Process
}

// Find reads the first of .proctor and .foreman that exists in dir. No file is not an error:
// it returns a File with no settings.
func Find(dir string) (File, error) {
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return File{}, err
		}
		settings, processes, err := parse(data, name == ".proctor")
		if err != nil {
			var ce *fileline.Error
			if errors.As(err, &ce) {
				ce.File = path
			}
			return File{}, err
		}
		return File{Path: path, Settings: settings, Processes: processes}, nil
	}
	return File{}, nil
}

// Parse reads "key: value" lines. foreman's YAML form ("port: 5000") is the
// same syntax. A key given twice, a line without a colon or an empty key is
// an error. A processes block is skipped: Find reads it, from .proctor.
func Parse(data []byte) ([]Setting, error) {
	settings, _, err := parse(data, true)
	return settings, err
}

// parse reads the settings and, when processesAllowed, the processes block;
// elsewhere (.foreman) that block is an error, since foreman has no such key.
func parse(data []byte, processesAllowed bool) ([]Setting, []Process, error) {
	var out []Setting
	var processes []Process
	first := map[string]int{}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	// A YAML document start marker is harmless; foreman writes none, but
	// hand-edited files sometimes carry one.
	for i := 0; i < len(lines); i++ {
		n := i + 1
		raw := lines[i]
		if key, rest, ok := strings.Cut(raw, ":"); ok && key == ProcessesKey && isEmptyValue(rest) {
			if !processesAllowed {
				return nil, nil, &fileline.Error{Line: n, Err: fmt.Errorf("%q belongs in .proctor: foreman has no such key", ProcessesKey)}
			}
			if at, dup := first[key]; dup {
				return nil, nil, &fileline.Error{Line: n, Err: fmt.Errorf("%q is set twice (first on line %d)", key, at)}
			}
			first[key] = n
			// The block is every following line that is indented, blank
			// or a comment.
			end := i + 1
			for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || lines[end][0] == ' ' || lines[end][0] == '\t' || lines[end][0] == '#') {
				end++
			}
			var err error
			if processes, err = parseProcesses(strings.Join(lines[i+1:end], "\n"), n+1); err != nil {
				return nil, nil, err
			}
			i = end - 1
			continue
		}
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line == "---" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, nil, &fileline.Error{Line: n, Err: errors.New(`expected "key: value"`)}
		}
		if at, dup := first[key]; dup {
			return nil, nil, &fileline.Error{Line: n, Err: fmt.Errorf("%q is set twice (first on line %d)", key, at)}
		}
		first[key] = n
		out = append(out, Setting{Key: key, Value: unquote(strings.TrimSpace(value)), Line: n})
	}
	return out, processes, nil
}

// isEmptyValue reports whether the rest of a "key:" line holds nothing but
// a comment.
func isEmptyValue(rest string) bool {
	rest = strings.TrimSpace(rest)
	return rest == "" || rest[0] == '#'
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
