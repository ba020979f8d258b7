package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindProgram(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "plain"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "script"), []byte("#!/bin/sh\n"), 0o755))
	env := []string{"A=1", "PATH=/nonexistent:bin"}

	for _, tt := range []struct {
		name, want string
		err        error
	}{
		{"tool", filepath.Join(dir, "bin", "tool"), nil}, // a relative PATH entry is relative to dir
		{"plain", "", ErrCommandNotFound},                // no execute bit: not a program
		{"missing", "", ErrCommandNotFound},
		{"./script", filepath.Join(dir, "script"), nil}, // a slash: relative to dir
		{"bin/plain", "", ErrNotExecutable},
		{"bin", "", ErrCommandNotFound}, // no slash: searched in PATH only
		{"./bin", "", ErrNotExecutable}, // a directory
		{"./nope", "", ErrNoSuchFile},
	} {
		got, err := FindProgram(tt.name, env, dir)
		assert.ErrorIs(t, err, tt.err, tt.name)
		if tt.err == nil {
			assert.NoError(t, err, tt.name)
		}
		assert.Equal(t, tt.want, got, tt.name)
	}
	got, err := FindProgram("sh", []string{"A=1"}, dir)
	require.NoError(t, err, "without PATH, a shell's default path")
	assert.Contains(t, []string{"/usr/bin/sh", "/bin/sh", "/usr/local/bin/sh"}, got)
}
