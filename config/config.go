// Package config reads proctor's defaults file: `.proctor`, or `.foreman`
// for drop-in use, in the current directory.
//
// The file holds default flag values as "key: value" lines (procfile, env,
// formation, port, timeout, root, ...). Blank lines and # comments are
// ignored; a value may be wrapped in single or double quotes. Flags given on
// the command line win over the file; applying the values to flags is the
// caller's job, since only it knows which flags a command has.
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
		settings, err := Parse(data)
		if err != nil {
			var ce *fileline.Error
			if errors.As(err, &ce) {
				ce.File = path
			}
			return File{}, err
		}
		return File{Path: path, Settings: settings}, nil
	}
	return File{}, nil
}

// Parse reads "key: value" lines. foreman's YAML form ("port: 5000") is the
// same syntax. A key given twice, a line without a colon or an empty key is
// an error.
func Parse(data []byte) ([]Setting, error) {
	var out []Setting
	first := map[string]int{}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	// A YAML document start marker is harmless; foreman writes none, but
	// hand-edited files sometimes carry one.
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line == "---" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, &fileline.Error{Line: n, Err: errors.New(`expected "key: value"`)}
		}
		if at, dup := first[key]; dup {
			return nil, &fileline.Error{Line: n, Err: fmt.Errorf("%q is set twice (first on line %d)", key, at)}
		}
		first[key] = n
		out = append(out, Setting{Key: key, Value: unquote(strings.TrimSpace(value)), Line: n})
	}
	return out, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
