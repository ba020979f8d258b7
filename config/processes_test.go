package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/fileline"
	"github.com/proctor-run/proctor/procfile"
)

// The example of the .proctor format, as the README shows it.
const example = `# .proctor
port: 3000
processes:
  web:
    after: [db, redis]     # start web only once db and redis are ready
    ready: http /health
  db:
    ready: log "ready to accept connections"
    ready_timeout: 90
  redis:
    ready: tcp 127.0.0.1:6379
timeout: 10
`

func TestParseProcesses(t *testing.T) {
	settings, processes, err := parse([]byte(example), true)
	require.NoError(t, err)
	assert.Equal(t, []Setting{{"port", "3000", 2}, {"timeout", "10", 12}}, settings, "the settings around the block are read as before")
	assert.Equal(t, []Process{
		{Type: "web", Line: 4, After: []Ref{{"db", 5}, {"redis", 5}}, Ready: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/health"}, ReadyLine: 6},
		{Type: "db", Line: 7, Ready: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "ready to accept connections"}, ReadyLine: 8, ReadyTimeout: 90 * time.Second},
		{Type: "redis", Line: 10, Ready: procfile.Readiness{Kind: procfile.ReadyTCP, Arg: "127.0.0.1:6379"}, ReadyLine: 11},
	}, processes)

	t.Run("env_file: one file or a list; log_file; watch", func(t *testing.T) {
		_, processes, err := parse([]byte("processes:\n  web:\n    env_file: .env.web\n    log_file: log/web.log\n    watch: [app/**/*.rb, config/*.yml]\n  worker:\n    env_file: [.env.worker, .env.local]\n    watch: lib/**\n"), true)
		require.NoError(t, err)
		assert.Equal(t, []Process{
			{Type: "web", Line: 2, EnvFiles: []Ref{{".env.web", 3}}, LogFile: Ref{"log/web.log", 4}, Watch: []Ref{{"app/**/*.rb", 5}, {"config/*.yml", 5}}},
			{Type: "worker", Line: 6, EnvFiles: []Ref{{".env.worker", 7}, {".env.local", 7}}, Watch: []Ref{{"lib/**", 8}}},
		}, processes)
	})
	t.Run("a comment after processes:", func(t *testing.T) {
		_, processes, err := parse([]byte("processes:  # start rules\n  web:\n"), true)
		require.NoError(t, err)
		assert.Equal(t, []Process{{Type: "web", Line: 2}}, processes)
	})
	t.Run("a block list, one name, a type with nothing set", func(t *testing.T) {
		_, processes, err := parse([]byte("processes:\n  web:\n    after:\n      - db\n  worker:\n    after: db\n  db:\n"), true)
		require.NoError(t, err)
		assert.Equal(t, []Process{
			{Type: "web", Line: 2, After: []Ref{{"db", 4}}},
			{Type: "worker", Line: 5, After: []Ref{{"db", 6}}},
			{Type: "db", Line: 7},
		}, processes)
	})
}

func TestParseProcessesRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
	}{
		{"an unknown key", "processes:\n  web:\n    afterr: [db]\n", "line 3: web: afterr: unknown key (expected after, ready, ready_timeout, env_file, log_file, watch)"},
		{"a glob outside the root", "processes:\n  web:\n    watch: [app/**/*.rb, ../lib/*.rb]\n", `line 3: web: watch: "../lib/*.rb" is not under the root: write it relative to the root`},
		{"a bad glob", "processes:\n  web:\n    watch: \"app/[x\"\n", `line 3: web: watch: "app/[x" is not a valid glob`},
		{"an unknown check", "processes:\n  web:\n    ready: ping\n", `line 3: web: ready: unknown check "ping" (expected port, tcp HOST:PORT, http PATH, log REGEX or exec COMMAND)`},
		{"a bad regular expression", "processes:\n  db:\n    ready: log (\n", "line 3: db: ready: log \"(\": error parsing regexp: missing closing ): `(`"},
		{"a relative http path", "processes:\n  web:\n    ready: http health\n", `line 3: web: ready: http needs a path starting with /, not "health"`},
		{"a tcp check without a port", "processes:\n  web:\n    ready: tcp localhost\n", `line 3: web: ready: tcp needs HOST:PORT, not "localhost"`},
		{"a bad timeout", "processes:\n  web:\n    ready_timeout: soon\n", `line 3: web: ready_timeout: "soon" is not a number of seconds or a duration such as 90s`},
		{"a zero timeout", "processes:\n  web:\n    ready_timeout: 0\n", `line 3: web: ready_timeout: "0" is out of range (more than 0, at most 24h)`},
		{"after is a map", "processes:\n  web:\n    after: {db: 1}\n", "line 3: web: after: expected a process type or a list of them"},
		{"env_file is a map", "processes:\n  web:\n    env_file: {a: b}\n", "line 3: web: env_file: expected a file or a list of them"},
		{"log_file is a list", "processes:\n  web:\n    log_file: [a, b]\n", "line 3: web: log_file: expected a file"},
		{"settings that are a list", "processes:\n  web: [db]\n", "line 2: web: expected its settings (after, ready, ready_timeout, env_file, log_file, watch)"},
		{"a type named twice", "processes:\n  web:\n  db:\n  web:\n", `line 4: "web" is set twice (first on line 2)`},
		{"a key set twice", "processes:\n  web:\n    ready: port\n    ready: port\n", `line 4: web: "ready" is set twice (first on line 3)`},
		// The line of the unclosed list itself (yaml.v3 alone says line 3).
		{"broken YAML", "port: 1\nprocesses:\n  web:\n    after: [db\n", "line 4: processes: did not find expected ',' or ']'"},
		{"a bad key on a later line", "processes:\n  web:\n    ready: port\n\n  db:\n    ready: port\n   bad\n", "line 7: processes: did not find expected key"},
		{"a bad glob in a list: its own line", "processes:\n  web:\n    watch:\n      - app/*.rb\n      - ../x\n", `line 5: web: watch: "../x" is not under the root: write it relative to the root`},
		{"a block that is a list", "processes:\n  - web\n", "line 2: processes: expected process types, each with its settings"},
		{"the block twice", "processes:\n  web:\nprocesses:\n  db:\n", `line 3: "processes" is set twice (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, err := parse([]byte(tt.in), true)
			require.Error(t, err, "parse = %v, %v", s, p)
			assert.Equal(t, tt.want, err.Error())
			var fe *fileline.Error
			assert.True(t, errors.As(err, &fe), "a *fileline.Error")
		})
	}
	t.Run("not in .foreman", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".foreman"), []byte("port: 1\nprocesses:\n  web:\n"), 0o644))
		_, err := Find(dir)
		assert.EqualError(t, err, filepath.Join(dir, ".foreman")+`:2: "processes" belongs in .proctor: foreman has no such key`)
	})
}

func TestRules(t *testing.T) {
	types := []string{"web", "db", "redis", "release"}
	rules := func(in string) (map[string]procfile.Rules, error) {
		_, p, err := parse([]byte(in), true)
		require.NoError(t, err)
		return File{Path: ".proctor", Processes: p}.Rules(types)
	}
	got, err := rules(example)
	require.NoError(t, err)
	assert.Equal(t, map[string]procfile.Rules{
		"web":   {After: []string{"db", "redis"}, Ready: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/health"}},
		"db":    {Ready: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "ready to accept connections"}, ReadyTimeout: 90 * time.Second},
		"redis": {Ready: procfile.Readiness{Kind: procfile.ReadyTCP, Arg: "127.0.0.1:6379"}},
	}, got)

	for _, tt := range []struct{ name, in, want string }{
		{"an unknown type", "processes:\n  wbe:\n", ".proctor:2: wbe: no such process type in the Procfile (it has web, db, redis, release)"},
		{"an unknown name in after", "processes:\n  web:\n    after: [db, cache]\n", `.proctor:3: web: after: no such process type "cache" in the Procfile (it has web, db, redis, release)`},
		{"itself", "processes:\n  web:\n    after: web\n", ".proctor:3: web: after: a type cannot wait for itself"},
		{"release", "processes:\n  web:\n    after: release\n", ".proctor:3: web: after: release always runs first, to completion; leave it out"},
		{"a cycle", "processes:\n  web:\n    after: db\n  db:\n    after: [redis]\n  redis:\n    after: web\n", ".proctor:2: web: after: a cycle: web → db → redis → web"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules(tt.in)
			assert.EqualError(t, err, tt.want)
		})
	}
}

// FuzzParseProcesses: the processes block never panics the reader; an
// error is a *fileline.Error on a line of the input, and an accepted block
// names each type once, with valid checks.
func FuzzParseProcesses(f *testing.F) {
	for _, s := range []string{example, "processes:\n  web:\n    after: [db\n", "processes:\n  - x\n", "processes:\n  web:\n    ready: log '(a'\n", "processes:\n\tweb:\n", "processes:\n  web: &a\n    ready: port\n  db: *a\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, processes, err := parse(data, true)
		if err != nil {
			var fe *fileline.Error
			if !errors.As(err, &fe) {
				t.Fatalf("parse(%q): %v (%T) is not a *fileline.Error", data, err, err)
			}
			if lines := strings.Count(string(data), "\n") + 1; fe.Line < 1 || fe.Line > lines {
				t.Fatalf("parse(%q): error on line %d of %d", data, fe.Line, lines)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range processes {
			if seen[p.Type] || p.Type == "" {
				t.Fatalf("parse(%q): type %q empty or twice", data, p.Type)
			}
			seen[p.Type] = true
			if p.Ready.Kind != "" {
				if _, err := procfile.ParseReadiness(p.Ready.String()); err != nil && p.Ready.Kind != procfile.ReadyLog {
					t.Fatalf("parse(%q): check %q does not read back: %v", data, p.Ready, err)
				}
			}
		}
	})
}
