// Package fileline holds the one error type for a problem at a line of a
// file. The Procfile, env file and config file parsers all return it, so
// every location proctor reports reads "file:line: message", the form
// editors and terminals jump to.
package fileline

import "fmt"

// Error is a problem at a line of a file.
type Error struct {
	// File is the path as given; empty when the input was not a file.
	File string
	// Line is the 1-based line of the problem; 0 for the file as a whole
	// or when the line is not known.
	Line int
	// Err is the problem.
	Err error
}

// Error formats the problem as "file:line: message", leaving out what is
// not known.
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	case e.File != "":
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

// Unwrap returns the problem, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }
