// Package env reads env files and builds the environment of the processes
// proctor starts.
//
// Files are read in the dialect of Docker Compose's env files, with
// github.com/compose-spec/compose-go/v2/dotenv (the maintained descendant
// of godotenv): export prefix, single quotes literal, escapes and
// multi-line values in double quotes, # comments, and $NAME, ${NAME} and
// ${NAME:-default} references. A reference names a variable of the same or
// an earlier file or, failing that, of the environment proctor was started
// with. proctor's own environment is never modified: the result is a list
// handed to each child.
package env

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/sirupsen/logrus"

	"github.com/proctor-run/proctor/fileline"
)

// Vars are the variables read from env files.
type Vars map[string]string

// ErrNUL is reported for a variable whose name or value holds a NUL byte,
// which no process environment can carry.
var ErrNUL = errors.New("NUL byte in variable")

// ErrBadName is reported for an assignment without a name (a line "=x").
var ErrBadName = errors.New("empty variable name")

// ErrUnset is reported for a line that holds only a name (NAME, or
// export NAME) when neither an earlier line nor proctor's environment sets
// it: such a line takes the variable's value from there, as Ruby dotenv and
// Docker Compose read it, and a name that is set nowhere is a mistake.
var ErrUnset = errors.New("is not set")

// Reader reads env files against the environment proctor was started
// with. The zero Reader reads files as if that environment were empty.
type Reader struct {
	// Base is the environment proctor was started with, in os.Environ
	// form: what $NAME means when no env file sets NAME.
	Base []string
	// KeepBase says a variable set in Base keeps that value in the
	// children (the env files do not override it), so $NAME means Base's value first.
	KeepBase bool
}

// Read parses the env files in order; a variable in a later file overrides
// the same variable in an earlier one, and a reference in a later file sees
// the variables of the earlier ones. Every file must exist. Errors are
// *fileline.Error naming the file and, where it is known, the line.
func (r Reader) Read(paths ...string) (Vars, error) {
	vars := Vars{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fs.ErrNotExist
			}
			return nil, &fileline.Error{File: path, Err: err}
		}
		vars, err = r.parse(data, vars)
		if err != nil {
			var fe *fileline.Error
			if errors.As(err, &fe) {
				fe.File = path
			}
			return nil, err
		}
	}
	return vars, nil
}

// ReadOptional is Read for a default file that may be absent: a missing
// file yields no variables and no error.
func (r Reader) ReadOptional(path string) (Vars, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Vars{}, nil
	}
	return r.Read(path)
}

// Parse parses the contents of one env file. Errors are *fileline.Error
// with File empty and, where the position can be found, Line set.
func (r Reader) Parse(data []byte) (Vars, error) {
	return r.parse(data, Vars{})
}

// parse reads one file on top of the variables of the earlier files and
// returns both together.
func (r Reader) parse(data []byte, earlier Vars) (Vars, error) {
	src := string(data)
	if !strings.HasSuffix(src, "\n") {
		// A last line without a line break means what it would mean with
		// one (the parser reads a bare last name as an empty name).
		src += "\n"
	}
	base := r.baseMap()
	vars, err := r.try(src, earlier, base)
	if err == nil {
		err = r.checkBareNames(src, vars, earlier, base)
	}
	if err == nil {
		return vars, nil
	}
	var fe *fileline.Error
	if errors.As(err, &fe) {
		return nil, err
	}
	line := failingLine(src, err.Error(), func(prefix string) error {
		_, err := r.try(prefix, earlier, base)
		return err
	})
	return nil, &fileline.Error{Line: line, Err: explain(err, src, line)}
}

// baseMap indexes Base; the first occurrence of a name wins, as in
// getenv(3).
func (r Reader) baseMap() map[string]string {
	m := make(map[string]string, len(r.Base))
	for _, kv := range r.Base {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}

// silenceLogrus keeps compose-go's warnings about unset variables (logged
// through logrus's standard logger) out of proctor's output: an unset
// variable expanding to nothing is the documented rule, not a problem.
var silenceLogrus = sync.OnceFunc(func() { logrus.SetOutput(io.Discard) })

// try parses src on top of earlier and checks that every variable can be
// put in a process environment. Errors carry no position; parse finds it.
func (r Reader) try(src string, earlier Vars, base map[string]string) (Vars, error) {
	silenceLogrus()
	vars := maps.Clone(earlier)
	lookup := func(name string) (string, bool) {
		if r.KeepBase {
			if v, ok := base[name]; ok {
				return v, true
			}
		}
		if v, ok := vars[name]; ok {
			return v, true
		}
		v, ok := base[name]
		return v, ok
	}
	if err := dotenv.ParseWithFormat(strings.NewReader(src), "", vars, lookup, dotenv.DotEnv); err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // drop "failed to read : "
		}
		return nil, err
	}
	for k, v := range vars {
		switch {
		case k == "":
			return nil, ErrBadName
		case strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0):
			return nil, fmt.Errorf("%w %q", ErrNUL, strings.ReplaceAll(k, "\x00", `\x00`))
		}
	}
	return vars, nil
}

// bareName matches a line that holds only a name, with or without export.
// It is compiled on first use, not when proctor starts: its Unicode classes
// cost half a millisecond and 50 KB of heap, which a stack without a .env
// file never needs.
var bareName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([\p{L}\p{N}_.\-\[\]]+)[ \t\r]*$`)
})

// checkBareNames reports a line that holds only a name which nothing set.
// Such a line is one only where a statement starts: the text before it
// parses without an open quote.
func (r Reader) checkBareNames(src string, vars, earlier Vars, base map[string]string) error {
	start := 0
	for n, line := range strings.Split(src, "\n") {
		end := start + len(line) + 1
		m := bareName().FindStringSubmatch(line)
		if m != nil && m[1] != "export" {
			if _, ok := vars[m[1]]; !ok {
				if _, err := r.try(src[:start], earlier, base); err == nil {
					return &fileline.Error{Line: n + 1, Err: fmt.Errorf("%s %w: a line with only a name takes the value of an earlier line or of proctor's environment", m[1], ErrUnset)}
				}
			}
		}
		start = end
	}
	return nil
}

// linePrefix matches the "line N: " the parser puts before some messages;
// its count is not always the line of the problem, so it is dropped.
// Compiled on first use, as bareName is.
var linePrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line \d+: `) })

// failingLine finds the line of the problem reported as msg: the first
// line at which src, cut after that line, fails with the same problem.
// Statements before it parse alone; the failing one is cut at its first
// line or, for a problem seen only at its end (a multi-line value), at
// that end. It returns 0 when no prefix fails alike.
func failingLine(src, msg string, parse func(prefix string) error) int {
	want := linePrefix().ReplaceAllString(msg, "")
	line := 0
	for i := 0; i < len(src); i++ {
		if src[i] != '\n' {
			continue
		}
		line++
		if err := parse(src[:i+1]); err != nil && linePrefix().ReplaceAllString(err.Error(), "") == want {
			return line
		}
	}
	return 0
}

// explain turns the parser's message into one that says what is wrong in
// terms of the line the user wrote.
func explain(err error, src string, line int) error {
	text := ""
	if lines := strings.Split(src, "\n"); line > 0 && line <= len(lines) {
		text = strings.TrimRight(lines[line-1], "\r")
		if len(text) > 80 {
			text = text[:80] + "..."
		}
	}
	var invalid *template.InvalidTemplateError
	var required *template.MissingRequiredError
	msg := linePrefix().ReplaceAllString(err.Error(), "")
	switch {
	case errors.Is(err, ErrBadName):
		return fmt.Errorf("%w: expected NAME=value, got %q", ErrBadName, text)
	case errors.As(err, &invalid) || strings.HasPrefix(msg, "Invalid template"):
		return fmt.Errorf("unclosed variable reference in %q: write ${NAME}, or $$ for a literal $", text)
	case errors.As(err, &required):
		return err
	case msg == "key cannot contain a space":
		return fmt.Errorf("expected NAME=value, got %q (a name cannot hold a space)", text)
	case msg == "zero length string":
		return fmt.Errorf("expected a name after export, got %q", text)
	case msg == err.Error():
		return err
	}
	return errors.New(msg)
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
