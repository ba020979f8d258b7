package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/internal/conformance"
)

// TestRunConformance reads every env file conformance case through
// proctor run: the child's environment holds each variable with the value
// the case wants (env -0 prints values with line breaks whole).
func TestRunConformance(t *testing.T) {
	t.Parallel()
	cases, err := conformance.Read(filepath.Join("..", "env", "testdata", "conformance"))
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			path, err := filepath.Abs(c.EnvFile)
			require.NoError(t, err)
			dir := newAppDir(t, nil)
			got := runCLIWith(t, runOptions{dir: dir, env: conformance.Base}, "run", "-e", path, "env", "-0")
			require.Equal(t, 0, got.Code, "proctor run -e %s env -0: %s", c.EnvFile, got.Stderr)
			assert.Empty(t, got.Stderr)
			environ := map[string]string{}
			for _, kv := range strings.Split(strings.TrimSuffix(got.Stdout, "\x00"), "\x00") {
				k, v, _ := strings.Cut(kv, "=")
				environ[k] = v
			}
			for k, want := range c.Want {
				v, ok := environ[k]
				if assert.True(t, ok, "%s: %s is not in the child's environment", c.Name, k) {
					assert.Equal(t, want, v, "%s: %s", c.Name, k)
				}
			}
		})
	}
}

// TestRunEnvFileExtendsPATH: the line real projects write to put their
// bin/ first keeps the rest of PATH, so commands are still found (issue
// 12, item 1).
func TestRunEnvFileExtendsPATH(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		".env":         "PATH=./bin:$PATH\n",
		"bin/hello.sh": "#!/bin/sh\necho hello from bin\n",
		"Procfile":     "web: hello.sh && ls Procfile\n",
	})
	got := runCLI(t, dir, "run", "web")
	assert.Equal(t, result{Stdout: "hello from bin\nProcfile\n"}, got)
}

// TestCheckEnvFile: check reads the env files with the same rules, names
// file and line as file:line:, and prints nothing of the parser's own
// logging (issue 12, items 2 and 10).
func TestCheckEnvFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string
		want result
	}{
		{"a byte order mark", "\xef\xbb\xbfBOM=UTF-8\n", result{Stdout: "valid procfile detected (web)\n"}},
		{"an unset reference is no warning", "A=$PROCTOR_TEST_UNSET_VAR\n", result{Stdout: "valid procfile detected (web)\n"}},
		{"an error names file and line", "A=1\nB=\"open\n", result{Code: 1, Stderr: "b.env:2: unterminated quoted value \"open\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, map[string]string{"Procfile": "web: true\n", "b.env": tt.env})
			assert.Equal(t, tt.want, runCLI(t, dir, "check", "-e", "b.env"))
		})
	}
}
