package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/config"
	"github.com/proctor-run/proctor/fileline"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []config.Setting
	}{
		{"empty", "", nil},
		{"one setting", "port: 3000\n", []config.Setting{{"port", "3000", 1}}},
		{
			name: "foreman's YAML form, several keys",
			in:   "procfile: Procfile.dev\nport: 3000\nformation: all=1,web=2\n",
			want: []config.Setting{{"procfile", "Procfile.dev", 1}, {"port", "3000", 2}, {"formation", "all=1,web=2", 3}},
		},
		{"no space after the colon", "port:3000\n", []config.Setting{{"port", "3000", 1}}},
		{"spaces around key and value", "  port  :   3000  \n", []config.Setting{{"port", "3000", 1}}},
		{"empty value", "env:\n", []config.Setting{{"env", "", 1}}},
		{"a value holding colons", "root: /srv/app:x\n", []config.Setting{{"root", "/srv/app:x", 1}}},
		{"double quotes are removed", "env: \".env, .env.local\"\n", []config.Setting{{"env", ".env, .env.local", 1}}},
		{"single quotes are removed", "procfile: 'my Procfile'\n", []config.Setting{{"procfile", "my Procfile", 1}}},
		{"mismatched quotes are kept", "env: \"a'\n", []config.Setting{{"env", "\"a'", 1}}},
		{"a lone quote is kept", "env: \"\n", []config.Setting{{"env", "\"", 1}}},
		{
			name: "comments, blank lines and a document marker are skipped",
			in:   "---\n# defaults\n\n  # indented\nport: 1\n",
			want: []config.Setting{{"port", "1", 5}},
		},
		{"CRLF", "port: 1\r\nroot: x\r\n", []config.Setting{{"port", "1", 1}, {"root", "x", 2}}},
		{"BOM", "\ufeffport: 1\n", []config.Setting{{"port", "1", 1}}},
		{"no final newline", "port: 1", []config.Setting{{"port", "1", 1}}},
		{"unknown keys are kept for the caller to report", "colour: yes\n", []config.Setting{{"colour", "yes", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Parse([]byte(tt.in))
			require.NoError(t, err, "Parse(%q)", tt.in)
			assert.Equal(t, tt.want, got, "Parse(%q)", tt.in)
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"no colon", "port: 1\nverbose\n", 2, `line 2: expected "key: value"`},
		{"empty key", "# c\n: 1\n", 2, `line 2: expected "key: value"`},
		{"a key set twice", "port: 1\nroot: .\nport: 2\n", 3, `line 3: "port" is set twice (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Parse([]byte(tt.in))
			require.Error(t, err, "Parse(%q) = %v, want an error", tt.in, got)
			assert.Nil(t, got)
			assert.Equal(t, tt.want, err.Error())
			var ce *fileline.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.line, ce.Line)
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func TestFind(t *testing.T) {
	t.Run("no file", func(t *testing.T) {
		f, err := config.Find(t.TempDir())
		require.NoError(t, err)
		assert.Equal(t, config.File{}, f)
	})
	t.Run(".proctor", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, ".proctor", "port: 3000\n")
		f, err := config.Find(dir)
		require.NoError(t, err)
		assert.Equal(t, config.File{Path: filepath.Join(dir, ".proctor"), Settings: []config.Setting{{"port", "3000", 1}}}, f)
	})
	t.Run(".foreman for drop-in use", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, ".foreman", "concurrency: web=2\n")
		f, err := config.Find(dir)
		require.NoError(t, err)
		assert.Equal(t, config.File{Path: filepath.Join(dir, ".foreman"), Settings: []config.Setting{{"concurrency", "web=2", 1}}}, f)
	})
	t.Run(".proctor is preferred over .foreman", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, ".foreman", "port: 1\n")
		write(t, dir, ".proctor", "port: 2\n")
		f, err := config.Find(dir)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dir, ".proctor"), f.Path)
		assert.Equal(t, []config.Setting{{"port", "2", 1}}, f.Settings)
	})
	t.Run("a broken .proctor is an error even with a good .foreman", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, ".foreman", "port: 1\n")
		write(t, dir, ".proctor", "port\n")
		_, err := config.Find(dir)
		path := filepath.Join(dir, ".proctor")
		assert.EqualError(t, err, path+`:1: expected "key: value"`)
		var ce *fileline.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, path, ce.File)
	})
	t.Run("the current directory", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, ".foreman", "port: 1\nport: 2\n")
		t.Chdir(dir)
		_, err := config.Find(".")
		assert.EqualError(t, err, `.foreman:2: "port" is set twice (first on line 1)`)
	})
	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(dir, ".proctor"), 0o755))
		_, err := config.Find(dir)
		assert.Error(t, err, "a directory named .proctor cannot be read")
	})
}
