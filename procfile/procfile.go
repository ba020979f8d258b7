// Package procfile parses Procfiles and plans the instances a formation runs.
//
// A Procfile declares process types, one per line, as "NAME: COMMAND". Parse
// is strict where foreman is lenient: a line it cannot read, an empty command
// or a name used twice is an error naming the line, because a process that
// silently does not start is the worse surprise.
//
// The plan is made here too, by pure functions: Resolve turns a formation
// ("web=2,all=1") into counts, and App.Plan turns the entries, the ports and
// the app's environment into the instances to run, each with its name, PORT,
// PS and environment. start, run, check and export all take it from here;
// nothing else gives an instance its PORT or PS.
package procfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/proctor-run/proctor/fileline"
)

// Entry is one process type declared in a Procfile.
type Entry struct {
	// Name is the process type, e.g. "web". It matches [A-Za-z0-9_-]+.
	Name string
	// Command is run with /bin/sh -c. Continuation lines are already joined.
	Command string
	// Line is the 1-based line on which the entry starts.
	Line int
}

// Problems wrapped in the *fileline.Error values Parse returns.
var (
	ErrNoColon             = errors.New("expected NAME: COMMAND")
	ErrInvalidName         = errors.New("invalid process name")
	ErrEmptyCommand        = errors.New("empty command")
	ErrDuplicate           = errors.New("duplicate process name")
	ErrIndented            = errors.New("line starts with whitespace")
	ErrContinuation        = errors.New("backslash continuation at end of file")
	ErrNUL                 = errors.New("line contains a NUL byte")
	ErrNoEntries           = errors.New("no process types defined")
	ErrSpaceAfterBackslash = errors.New("whitespace after the final backslash: remove it to continue the command on the next line")
	ErrContinuedEntry      = errors.New("this line reads as a new entry, but the backslash ending the line before continues that command onto it: remove the backslash, or indent this line if it belongs to the command")
	errInvalidNameFmt      = "%w %q: use letters, digits, '_' and '-'"
)

// ParseFile reads and parses the Procfile at path. Errors carry the path.
func ParseFile(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	entries, err := ParseBytes(data)
	return entries, withFile(err, path)
}

// Parse reads Procfile entries from r. It returns every entry it could read
// and, when there were problems, an error joining one *fileline.Error per problem.
func Parse(r io.Reader) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return ParseBytes(data)
}

// ParseBytes is Parse on a byte slice.
func ParseBytes(data []byte) ([]Entry, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var (
		entries []Entry
		errs    []error
		first   = map[string]int{} // name -> line it was first defined on
	)
	lines := splitLines(data)
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := lines[i]
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		indented := trimmed != line
		// Join continuation lines: an odd number of trailing backslashes
		// escapes the newline, exactly as sh would read it. (The parity of
		// a joined line's trailing run is that of its last piece's, since
		// each removed backslash leaves an even run behind.) A Builder
		// keeps a long run of continued lines linear.
		if endsWithContinuation(line) {
			var joined strings.Builder
			for endsWithContinuation(line) {
				joined.WriteString(line[:len(line)-1])
				if i+1 >= len(lines) {
					errs = append(errs, &fileline.Error{Line: i + 1, Err: ErrContinuation})
					line = ""
					break
				}
				if readsAsEntry(lines[i+1]) {
					errs = append(errs, &fileline.Error{Line: i + 2, Err: ErrContinuedEntry})
					line = ""
					break
				}
				i++
				line = lines[i]
			}
			joined.WriteString(line)
			line = joined.String()
		}
		if strings.IndexByte(line, 0) >= 0 {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: ErrNUL})
			continue
		}
		if indented {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: ErrIndented})
			continue
		}
		name, command, ok := strings.Cut(line, ":")
		if !ok {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: ErrNoColon})
			continue
		}
		if !validName(name) {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: fmt.Errorf(errInvalidNameFmt, ErrInvalidName, name)})
			continue
		}
		command = strings.TrimSpace(command)
		if command == "" {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: fmt.Errorf("%w for %q", ErrEmptyCommand, name)})
			continue
		}
		// An odd run of backslashes at the end is left only when trimming
		// removed the whitespace it escaped: almost always a continuation
		// broken by invisible trailing spaces, and never what the user meant.
		if endsWithContinuation(command) {
			errs = append(errs, &fileline.Error{Line: i + 1, Err: ErrSpaceAfterBackslash})
			continue
		}
		if at, dup := first[name]; dup {
			errs = append(errs, &fileline.Error{Line: lineNo, Err: fmt.Errorf("%w %q (first defined on line %d)", ErrDuplicate, name, at)})
			continue
		}
		first[name] = lineNo
		entries = append(entries, Entry{Name: name, Command: command, Line: lineNo})
	}
	if len(entries) == 0 && len(errs) == 0 {
		errs = append(errs, &fileline.Error{Err: ErrNoEntries})
	}
	return entries, errors.Join(errs...)
}

// splitLines splits data at "\n", dropping one "\r" before each line end and
// the empty piece after a final newline.
func splitLines(data []byte) []string {
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// readsAsEntry reports whether a line, met as the continuation of a
// command, looks like an entry of its own: NAME: at the start of the line
// with white space (or nothing) after the colon, which a command's
// continuation rarely is (a URL has no space after its colon).
func readsAsEntry(line string) bool {
	name, rest, ok := strings.Cut(line, ":")
	return ok && validName(name) && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

func endsWithContinuation(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// validName reports whether name matches [A-Za-z0-9_-]+.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// withFile sets File on every *fileline.Error joined in err.
func withFile(err error, path string) error {
	if err == nil {
		return nil
	}
	for _, e := range unjoin(err) {
		var pe *fileline.Error
		if errors.As(e, &pe) {
			pe.File = path
		}
	}
	return err
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Names returns the names of entries in Procfile order.
func Names(entries []Entry) []string {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}
