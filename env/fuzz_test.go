package env_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/fileline"
)

// FuzzEnvParse checks that Parse (compose-go's parser and proctor's checks
// around it) never panics, that every error it returns is a
// *fileline.Error pointing into the input, and that every variable it
// accepts can be put in a process environment: a name that is not empty and
// holds no NUL or '=', a value without NUL.
func FuzzEnvParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "env", "*.env"))
	if err != nil {
		f.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.env"))
	if err != nil {
		f.Fatal(err)
	}
	paths = append(paths, more...)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := env.Reader{Base: []string{"HOME=/root", "PATH=/bin"}}.Parse(data)
		if err != nil {
			var fe *fileline.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q): error %v (%T) is not a *fileline.Error", data, err, err)
			}
			if lines := strings.Count(string(data), "\n") + 1; fe.Line < 0 || fe.Line > lines {
				t.Fatalf("Parse(%q): error on line %d of %d: %v", data, fe.Line, lines, err)
			}
			if vars != nil {
				t.Fatalf("Parse(%q): variables %q with error %v", data, vars, err)
			}
			return
		}
		for k, v := range vars {
			if k == "" || strings.ContainsAny(k, "\x00=") || strings.ContainsRune(v, 0) {
				t.Fatalf("Parse(%q): accepted %q=%q", data, k, v)
			}
		}
		// Whatever was accepted must survive into an environment list and
		// be found there again.
		environ := env.Environ(nil, vars, true)
		for k, v := range vars {
			if got, ok := env.Lookup(environ, k); !ok || got != v {
				t.Fatalf("Parse(%q): %q=%q, Lookup in %q gives %q, %v", data, k, v, environ, got, ok)
			}
		}
	})
}
