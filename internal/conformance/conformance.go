// Package conformance reads the env file conformance cases in
// env/testdata/conformance, shared by the env package's tests and the
// end-to-end tests of proctor run.
//
// Each case is a NAME.env file and a NAME.want file beside it. A .want
// file lists, one per line, KEY="value" with the value as a Go string
// literal, for every variable the .env file sets; lines starting with #
// are comments.
package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Base is the environment the cases are read against: what
// $PROCTOR_CONFORMANCE_OUTSIDE refers to.
var Base = []string{"PROCTOR_CONFORMANCE_OUTSIDE=outside"}

// Case is one env file and the variables it must give.
type Case struct {
	// Name is the file name without .env.
	Name string
	// EnvFile is the path of the .env file.
	EnvFile string
	// Want maps every variable the file sets to its value.
	Want map[string]string
}

// Read loads every case in dir.
func Read(dir string) ([]Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.env"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no .env files", dir)
	}
	var cases []Case
	for _, path := range paths {
		wantPath := strings.TrimSuffix(path, ".env") + ".want"
		want, err := readWant(wantPath)
		if err != nil {
			return nil, err
		}
		cases = append(cases, Case{Name: strings.TrimSuffix(filepath.Base(path), ".env"), EnvFile: path, Want: want})
	}
	return cases, nil
}

func readWant(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, literal, ok := strings.Cut(line, "=")
		value, err := strconv.Unquote(literal)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: expected KEY=\"value\" (a Go string literal), got %q", path, i+1, line)
		}
		if _, dup := want[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", path, i+1, key)
		}
		want[key] = value
	}
	return want, nil
}
