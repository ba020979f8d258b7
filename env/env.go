// Package env reads env files and builds the environment of the processes
// proctor starts.
//
// Files are parsed with github.com/joho/godotenv's rules (export prefix,
// quotes, escapes in double quotes, # comments, ${VAR} expansion within a
// file, multi-line double-quoted values). proctor's own environment is never
// modified: the result is a list handed to each child.
package env

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
)

// Vars are the variables read from env files.
type Vars map[string]string

// FileError is a problem with one env file.
type FileError struct {
	// File is the path as given.
	File string
	// Line is the 1-based line of the problem when it is known, else 0.
	Line int
	// Err is the underlying problem.
	Err error
}

// Error formats the problem with its file and line.
func (e *FileError) Error() string {
	switch {
	case e.File == "" && e.Line > 0:
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	case e.File == "":
		return e.Err.Error()
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying problem, for errors.Is and errors.As.
func (e *FileError) Unwrap() error { return e.Err }

// ErrNUL is reported for a variable whose name or value holds a NUL byte,
// which no process environment can carry.
var ErrNUL = errors.New("NUL byte in variable")

// ErrBadName is reported for a variable name that is empty (a line "=x",
// or a last line without '=').
var ErrBadName = errors.New("empty variable name")

// Read parses the env files in order; a variable in a later file overrides
// the same variable in an earlier one. Every file must exist.
func Read(paths ...string) (Vars, error) {
	vars := Vars{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fs.ErrNotExist
			}
			return nil, &FileError{File: path, Err: err}
		}
		parsed, err := Parse(data)
		if err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				fe.File = path
				return nil, fe
			}
			return nil, &FileError{File: path, Err: err}
		}
		for k, v := range parsed {
			vars[k] = v
		}
	}
	return vars, nil
}

// ReadOptional is Read for a default file that may be absent: a missing
// file yields no variables and no error.
func ReadOptional(path string) (Vars, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Vars{}, nil
	}
	return Read(path)
}

// Parse parses the contents of one env file. Errors are *FileError with
// File empty and, where the position can be found, Line set.
func Parse(data []byte) (Vars, error) {
	vars, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		line := errorLine(data, err)
		return nil, &FileError{Line: line, Err: describe(err, data, line)}
	}
	for k, v := range vars {
		switch {
		case k == "":
			// godotenv reads "=x", and also "FOO" on the last line, as
			// an assignment to an empty name.
			line, text := keyLine(data, k)
			return nil, &FileError{Line: line, Err: fmt.Errorf("%w: expected KEY=VALUE, got %q", ErrBadName, text)}
		case strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0):
			line, _ := keyLine(data, k)
			return nil, &FileError{Line: line, Err: fmt.Errorf("%w %q", ErrNUL, strings.ReplaceAll(k, "\x00", `\x00`))}
		case strings.ContainsRune(k, '='):
			line, _ := keyLine(data, k)
			return nil, &FileError{Line: line, Err: fmt.Errorf("variable name %q holds '='", k)}
		}
	}
	return Vars(vars), nil
}

// errorLine finds the line a godotenv error points at. godotenv reports the
// rest of the input where it stopped ("... near %q") or the text of an
// unterminated quoted value; both are located in the normalized input.
func errorLine(data []byte, err error) int {
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	msg := err.Error()
	if _, near, ok := strings.Cut(msg, " near "); ok {
		if rest, uerr := strconv.Unquote(near); uerr == nil && strings.HasSuffix(src, rest) {
			return lineAt(src, len(src)-len(rest))
		}
	}
	if value, ok := strings.CutPrefix(msg, "unterminated quoted value "); ok {
		if i := strings.LastIndex(src, value); i >= 0 {
			return lineAt(src, i)
		}
	}
	return 0
}

// describe rewrites godotenv's error, which quotes the whole rest of the
// file, into one that quotes only the offending line.
func describe(err error, data []byte, line int) error {
	msg, _, hasNear := strings.Cut(err.Error(), " near ")
	if !hasNear || line == 0 {
		return err
	}
	text := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")[line-1]
	if len(text) > 80 {
		text = text[:80] + "..."
	}
	if strings.HasPrefix(msg, `unexpected character "\n"`) {
		return fmt.Errorf("expected KEY=VALUE, got %q", text)
	}
	return fmt.Errorf("%s: %q", msg, text)
}

// keyLine returns the line (and its text) of the last assignment to key,
// the one whose value counts, or 0. For the empty key, a last statement
// without '=' counts as its assignment, as godotenv reads it so.
func keyLine(data []byte, key string) (int, string) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	found, last := 0, 0
	for i, line := range lines {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			continue
		}
		last = i + 1
		if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			s = strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutPrefix(s, key); ok {
			rest = strings.TrimLeft(rest, " \t")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') {
				found = i + 1
			}
		}
	}
	if found == 0 && key == "" {
		found = last
	}
	if found == 0 {
		return 0, ""
	}
	return found, lines[found-1]
}

func lineAt(s string, offset int) int {
	return strings.Count(s[:offset], "\n") + 1
}

// Environ builds a child's environment: base (in os.Environ form) with vars
// applied. With override, values from vars replace those in base, as foreman
// does; without it, a variable already set in base keeps its value. The
// result lists base's variables in their order, then the new ones sorted.
func Environ(base []string, vars Vars, override bool) []string {
	out := make([]string, 0, len(base)+len(vars))
	seen := make(map[string]bool, len(base))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if seen[k] {
			continue // the first occurrence wins, as in getenv(3)
		}
		seen[k] = true
		if v, ok := vars[k]; ok && override {
			kv = k + "=" + v
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// Set returns env with key set to value, replacing any earlier value.
func Set(env []string, key, value string) []string {
	prefix := key + "="
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return append(out, prefix+value)
}

// Lookup returns the value of key in env (os.Environ form).
func Lookup(env []string, key string) (string, bool) {
	prefix := key + "="
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, prefix); ok {
			return v, true
		}
	}
	return "", false
}
