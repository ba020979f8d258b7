package cli

// End-to-end tests of check, run, the config defaults, version, help,
// usage errors and completion: the built binary, run as a user would.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const helpHint = "Run 'proctor --help' for usage.\n"

// helpHintFor is the hint a usage error of a subcommand ends with.
func helpHintFor(cmd string) string { return "Run 'proctor " + cmd + " --help' for usage.\n" }

// result is what a proctor run gave: compared whole, so a failure shows all.
type result struct {
	Stdout, Stderr string
	Code           int
}

func runCLI(t *testing.T, dir string, args ...string) result {
	t.Helper()
	stdout, stderr, code := runProctor(t, dir, args...)
	return result{stdout, stderr, code}
}

func runCLIWith(t *testing.T, opts runOptions, args ...string) result {
	t.Helper()
	stdout, stderr, code := runProctorWith(t, opts, args...)
	return result{stdout, stderr, code}
}

const twoTypes = "web: ./web.sh\nworker: sleep 1\n"

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  result
	}{
		{
			name:  "valid",
			files: map[string]string{"Procfile": twoTypes},
			want:  result{Stdout: "valid procfile detected (web, worker)\n"},
		},
		{
			name:  "valid with env file",
			files: map[string]string{"Procfile": twoTypes, ".env": "A=1\n"},
			want:  result{Stdout: "valid procfile detected (web, worker)\n"},
		},
		{
			name:  "order of the Procfile",
			files: map[string]string{"Procfile": "# app\nworker: a\r\nclock: b \\\n  c\nweb: d"},
			want:  result{Stdout: "valid procfile detected (worker, clock, web)\n"},
		},
		{
			name: "every problem is listed with file and line",
			files: map[string]string{
				"Procfile": "web: a\nnot an entry\nweb: b\nw x: c\nclock:\n",
				".env":     "A=1\nMY VAR=2\n",
			},
			want: result{Code: 1, Stderr: "Procfile:2: expected NAME: COMMAND\n" +
				"Procfile:3: duplicate process name \"web\" (first defined on line 1)\n" +
				"Procfile:4: invalid process name \"w x\": use letters, digits, '_' and '-'\n" +
				"Procfile:5: empty command for \"clock\"\n" +
				".env:2: expected NAME=value, got \"MY VAR=2\" (a name cannot hold a space)\n"},
		},
		{
			name:  "missing Procfile",
			files: map[string]string{},
			want:  result{Code: 1, Stderr: "Procfile: no such file\n"},
		},
		{
			name:  "empty Procfile",
			files: map[string]string{"Procfile": "# nothing\n"},
			want:  result{Code: 1, Stderr: "Procfile: no process types defined\n"},
		},
		{
			name:  "env file problem alone",
			files: map[string]string{"Procfile": twoTypes, ".env": "A=\"open\n"},
			want:  result{Code: 1, Stderr: ".env:1: unterminated quoted value \"open\n"},
		},
		{
			name:  "a missing explicit env file",
			files: map[string]string{"Procfile": twoTypes},
			args:  []string{"-e", "missing.env"},
			want:  result{Code: 1, Stderr: "missing.env: file does not exist\n"},
		},
		{
			name:  "env files given with -e, comma-separated and repeated",
			files: map[string]string{"Procfile": twoTypes, "a.env": "A=1\n", "b.env": "B=1\n", "c.env": "C=\"x\n"},
			args:  []string{"-e", "a.env,b.env", "--env", "c.env"},
			want:  result{Code: 1, Stderr: "c.env:1: unterminated quoted value \"x\n"},
		},
		{
			name:  "-e replaces the default .env",
			files: map[string]string{"Procfile": twoTypes, ".env": "BROKEN\nX=1\n", "good.env": "A=1\n"},
			args:  []string{"-e", "good.env"},
			want:  result{Stdout: "valid procfile detected (web, worker)\n"},
		},
		{
			name:  "-f names the Procfile",
			files: map[string]string{"Procfile.dev": "dev: a\n", "Procfile": "broken\n"},
			args:  []string{"-f", "Procfile.dev"},
			want:  result{Stdout: "valid procfile detected (dev)\n"},
		},
		{
			name:  "-f puts the root at the Procfile's directory",
			files: map[string]string{"app/Procfile": "web: a\n", "app/.env": "BROKEN\nX=1\n"},
			args:  []string{"--procfile", "app/Procfile"},
			want:  result{Code: 1, Stderr: "app/.env:1: BROKEN is not set: a line with only a name takes the value of an earlier line or of proctor's environment\n"},
		},
		{
			name:  "-d reads the root's Procfile and .env",
			files: map[string]string{"app/Procfile": "web: a\nweb: b\n", "app/.env": "=1\n"},
			args:  []string{"-d", "app"},
			want: result{Code: 1, Stderr: "app/Procfile:2: duplicate process name \"web\" (first defined on line 1)\n" +
				"app/.env:1: empty variable name: expected NAME=value, got \"=1\"\n"},
		},
		{
			name:  "-d with a valid app",
			files: map[string]string{"app/Procfile": "web: a\n"},
			args:  []string{"--root", "app"},
			want:  result{Stdout: "valid procfile detected (web)\n"},
		},
		{
			name:  "formation is valid",
			files: map[string]string{"Procfile": twoTypes},
			args:  []string{"-m", "all=1,web=2"},
			want:  result{Stdout: "valid procfile detected (web, worker)\n"},
		},
		{
			name:  "formation names an unknown type",
			files: map[string]string{"Procfile": twoTypes},
			args:  []string{"--formation", "web=1,wrker=2"},
			want:  result{Code: 1, Stderr: "formation: unknown process type \"wrker\" (the Procfile has web, worker)\n"},
		},
		{
			name:  "formation is malformed",
			files: map[string]string{"Procfile": twoTypes},
			args:  []string{"-m", "web=-1"},
			want:  result{Code: 1, Stderr: "formation: count for \"web\" must be a whole number from 0 to 10000, not \"-1\"\n"},
		},
		{
			name:  "formation and Procfile problems together",
			files: map[string]string{"Procfile": "web: a\nbad\n"},
			args:  []string{"-m", "clock=1"},
			want: result{Code: 1, Stderr: "Procfile:2: expected NAME: COMMAND\n" +
				"formation: unknown process type \"clock\" (the Procfile has web)\n"},
		},
		{
			name:  "a PORT that start would refuse",
			files: map[string]string{"Procfile": twoTypes, ".env": "PORT=abc\n"},
			want:  result{Code: 1, Stderr: "PORT=\"abc\" in the environment is not a port number (1-65535)\n"},
		},
		{
			name:  "a formation whose ports run past 65535",
			files: map[string]string{"Procfile": twoTypes, ".env": "PORT=65500\n"},
			args:  []string{"-m", "worker=1"},
			want:  result{Code: 1, Stderr: "worker.1 would get port 65600, outside 1-65535: choose another base with -p or step with --port-step\n"},
		},
		{
			name:  "an argument is a usage error",
			files: map[string]string{"Procfile": twoTypes},
			args:  []string{"web"},
			want:  result{Code: 2, Stderr: "proctor: check: unexpected argument \"web\"\n" + helpHintFor("check")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, tt.files)
			got := runCLI(t, dir, append([]string{"check"}, tt.args...)...)
			assert.Equal(t, tt.want, got, "proctor check %q", tt.args)
		})
	}
}

func TestCheckDemo(t *testing.T) {
	t.Parallel()
	got := runCLI(t, ".", "check", "-d", "../examples/demo")
	assert.Equal(t, result{Stdout: "valid procfile detected (web, worker, clock)\nstart order: web, clock → worker\n"}, got, "the demo's .proctor: worker waits for web")
}

func TestRun(t *testing.T) {
	t.Parallel()
	app := map[string]string{
		"Procfile":      "hello: echo \"hello $NAME on $PORT\"\nfail: exit 5\nargs: printf '[%s]' \"$@\"\n",
		".env":          "NAME=env-file\nSHARED=from-file\n",
		"other.env":     "NAME=other\n",
		"script.sh":     "#!/bin/sh\necho \"script in $(pwd) with $# args\"\n",
		"notexec":       "#!/bin/sh\necho never\n",
		"badshebang.sh": "#!/nonexistent/interpreter\necho never\n",
		"sub/file":      "",
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want result
		// match, when set, is checked against stdout instead of want.Stdout.
		match string
	}{
		{name: "env file and PORT", args: []string{"sh", "-c", `echo "$NAME $PORT"`}, want: result{Stdout: "env-file 5000\n"}},
		{name: "-p sets PORT", args: []string{"-p", "6123", "sh", "-c", `echo "$PORT"`}, want: result{Stdout: "6123\n"}},
		{name: "PORT from the environment is the base", env: []string{"PORT=7000"}, args: []string{"sh", "-c", `echo "$PORT"`}, want: result{Stdout: "7000\n"}},
		{name: "-e replaces .env", args: []string{"-e", "other.env", "sh", "-c", `echo "$NAME [$SHARED]"`}, want: result{Stdout: "other []\n"}},
		{name: "later env files win", args: []string{"-e", ".env,other.env", "sh", "-c", `echo "$NAME $SHARED"`}, want: result{Stdout: "other from-file\n"}},
		{name: "env files override the environment", env: []string{"NAME=os"}, args: []string{"sh", "-c", `echo "$NAME"`}, want: result{Stdout: "env-file\n"}},
		{name: "--no-env-override keeps the environment", env: []string{"NAME=os"}, args: []string{"--no-env-override", "sh", "-c", `echo "$NAME $SHARED"`}, want: result{Stdout: "os from-file\n"}},
		{name: "the environment passes through", env: []string{"FROM_TEST=yes"}, args: []string{"sh", "-c", `echo "$FROM_TEST"`}, want: result{Stdout: "yes\n"}},
		{name: "a Procfile entry by name", args: []string{"hello"}, want: result{Stdout: "hello env-file on 5000\n"}},
		{name: "an entry name with arguments is a command", args: []string{"hello", "x"}, want: result{Code: 127, Stderr: "proctor: run: hello: command not found\n"}},
		{name: "an entry's exit code", args: []string{"fail"}, want: result{Code: 5}},
		{name: "arguments with spaces are kept whole", args: []string{"printf", "[%s]", "a b", " c ", "", "$NAME", "*"}, want: result{Stdout: "[a b][ c ][][$NAME][*]"}},
		{name: "flags after the command are the command's", args: []string{"sh", "-c", `echo "$@"`, "sh", "-p", "--help"}, want: result{Stdout: "-p --help\n"}},
		{name: "one string with shell syntax runs with sh", args: []string{`echo "$NAME" | tr a-z A-Z && exit 3`}, want: result{Code: 3, Stdout: "ENV-FILE\n"}},
		{name: "exit code passes through", args: []string{"sh", "-c", "exit 42"}, want: result{Code: 42}},
		{name: "exit code 1", args: []string{"false"}, want: result{Code: 1}},
		{name: "stderr passes through", args: []string{"sh", "-c", "echo out; echo err >&2"}, want: result{Stdout: "out\n", Stderr: "err\n"}},
		{name: "death by a signal", args: []string{"sh", "-c", "kill -TERM $$"}, want: result{Code: 128 + int(syscall.SIGTERM)}},
		{name: "a script relative to the root", args: []string{"./script.sh", "a b"}, match: `^script in .* with 1 args\n$`},
		{name: "missing command", args: []string{"no-such-command-proctor"}, want: result{Code: 127, Stderr: "proctor: run: no-such-command-proctor: command not found\n"}},
		{name: "missing file", args: []string{"./missing.sh"}, want: result{Code: 127, Stderr: "proctor: run: ./missing.sh: no such file\n"}},
		{name: "missing interpreter", args: []string{"./badshebang.sh"}, want: result{Code: 127, Stderr: "proctor: run: ./badshebang.sh: no such file or directory\n"}},
		{name: "file not executable", args: []string{"./notexec"}, want: result{Code: 126, Stderr: "proctor: run: ./notexec: permission denied\n"}},
		{name: "a directory", args: []string{"./sub"}, want: result{Code: 126, Stderr: "proctor: run: ./sub: permission denied\n"}},
		{name: "no command", args: nil, want: result{Code: 2, Stderr: "proctor: run: missing COMMAND\n" + helpHintFor("run")}},
		{name: "missing explicit env file", args: []string{"-e", "nope.env", "true"}, want: result{Code: 2, Stderr: "proctor: nope.env: file does not exist\n"}},
		{name: "bad PORT in the environment", env: []string{"PORT=http"}, args: []string{"true"}, want: result{Code: 2, Stderr: "proctor: PORT=\"http\" in the environment is not a port number (1-65535)\n"}},
		{name: "bad -p", args: []string{"-p", "70000", "true"}, want: result{Code: 2, Stderr: "proctor: --port 70000 is not a port number (1-65535)\n"}},
		{name: "missing root", args: []string{"-d", "nowhere", "true"}, want: result{Code: 2, Stderr: "proctor: root directory nowhere does not exist\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, app)
			require.NoError(t, os.Chmod(filepath.Join(dir, "notexec"), 0o644))
			got := runCLIWith(t, runOptions{dir: dir, env: tt.env}, append([]string{"run"}, tt.args...)...)
			if tt.match != "" {
				assert.Regexp(t, regexp.MustCompile(tt.match), got.Stdout, "proctor run %q: stdout", tt.args)
				got.Stdout = ""
			}
			assert.Equal(t, tt.want, got, "proctor run %q", tt.args)
		})
	}
}

// TestRunRootIsTheWorkingDirectory: the command runs in the root directory,
// from -d or from -f's directory, and finds relative paths there.
func TestRunRootIsTheWorkingDirectory(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"app/Procfile": "where: pwd\n",
		"app/.env":     "WHO=app\n",
		"app/bin/x.sh": "#!/bin/sh\necho \"x in $(pwd) for $WHO\"\n",
	})
	appDir, err := filepath.EvalSymlinks(filepath.Join(dir, "app"))
	require.NoError(t, err)

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "-d", "app", "pwd"}, appDir + "\n"},
		{[]string{"run", "-f", "app/Procfile", "where"}, appDir + "\n"},
		{[]string{"run", "-d", "app", "bin/x.sh"}, "x in " + appDir + " for app\n"},
		{[]string{"run", "-d", "app", "sh", "-c", "ls Procfile"}, "Procfile\n"},
		{[]string{"run", "-d", appDir, "pwd"}, appDir + "\n"},
	}
	for _, tt := range tests {
		got := runCLI(t, dir, tt.args...)
		assert.Equal(t, result{Stdout: tt.want}, got, "proctor %q", tt.args)
	}
}

// TestRunShellExitCodes: a command line run by sh exits as sh says: 127
// for a command it cannot find.
func TestRunShellExitCodes(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "missing: no-such-command-proctor --flag\n"})
	for _, args := range [][]string{{"run", "missing"}, {"run", "no-such-command-proctor && true"}} {
		got := runCLI(t, dir, args...)
		assert.Equal(t, 127, got.Code, "proctor %q: %+v", args, got)
		assert.Empty(t, got.Stdout)
		assert.Contains(t, got.Stderr, "no-such-command-proctor", "sh names the missing command")
	}
}

func TestRunStdin(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": twoTypes})
	got := runCLIWith(t, runOptions{dir: dir, stdin: strings.NewReader("line one\nline two\n")}, "run", "cat")
	assert.Equal(t, result{Stdout: "line one\nline two\n"}, got)
}

// TestRunExecs: run replaces itself with the command, so the command has
// proctor's pid and signals sent to that pid reach the command.
func TestRunExecs(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": twoTypes})
	p := startProctor(t, dir, "run", "sh", "-c",
		`trap 'echo "got TERM"; exit 7' TERM; echo "pid $$"; while :; do sleep 0.05; done`)
	line := p.WaitLine(10*time.Second, func(l string) bool { return strings.HasPrefix(l, "pid ") })
	assert.Equal(t, "pid "+strconv.Itoa(p.Pid()), line, "the command runs as proctor's own process")

	p.Signal(syscall.SIGTERM)
	p.WaitLine(10*time.Second, func(l string) bool { return l == "got TERM" })
	assert.Equal(t, 7, p.Wait(10*time.Second), "proctor's exit code is the command's")
	waitNoProcesses(t, p.Token(), 5*time.Second)
}

// TestRunDemoWeb: the demo's web process serves HTTP on the PORT run gives it.
func TestRunDemoWeb(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("compiles the demo web server")
	}
	port := freePort(t)
	p := startProctorWith(t, runOptions{dir: ".", timeout: 2 * time.Minute},
		"run", "-d", "../examples/demo", "-p", strconv.Itoa(port), "web")
	p.WaitLine(0, func(l string) bool { return strings.Contains(l, "listening on") })

	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/demo")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Hello from the proctor demo! This is web on port "+strconv.Itoa(port)+".\n", string(body),
		"GREETING comes from examples/demo/.env")
	p.WaitLine(10*time.Second, func(l string) bool { return strings.HasPrefix(l, "GET /demo 200") })
}

// TestConfigDefaults: .proctor (or .foreman) in the current directory holds
// default flag values; flags on the command line win.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	app := map[string]string{
		"Procfile":     "web: echo web\nworker: echo worker\n",
		"Procfile.dev": "dev: echo dev\n",
		"a.env":        "WHO=a\n",
		"b.env":        "WHO=b\n",
		"sub/Procfile": "sub: echo sub\n",
	}
	printPort := []string{"run", "sh", "-c", `echo "$PORT $WHO"`}
	tests := []struct {
		name   string
		config map[string]string
		args   []string
		want   result
	}{
		{
			name:   ".proctor sets the Procfile",
			config: map[string]string{".proctor": "procfile: Procfile.dev\n"},
			args:   []string{"check"},
			want:   result{Stdout: "valid procfile detected (dev)\n"},
		},
		{
			name:   ".foreman is read too",
			config: map[string]string{".foreman": "port: 6100\nenv: a.env\n"},
			args:   printPort,
			want:   result{Stdout: "6100 a\n"},
		},
		{
			name:   ".proctor is preferred over .foreman",
			config: map[string]string{".proctor": "port: 6200\n", ".foreman": "port: 6100\nenv: a.env\n"},
			args:   printPort,
			want:   result{Stdout: "6200 \n"},
		},
		{
			name:   "flags win over the file",
			config: map[string]string{".proctor": "port: 6200\nenv: a.env\n"},
			args:   []string{"run", "-p", "6300", "-e", "b.env", "sh", "-c", `echo "$PORT $WHO"`},
			want:   result{Stdout: "6300 b\n"},
		},
		{
			name:   "quoted values and comments",
			config: map[string]string{".proctor": "# defaults\n---\nenv: 'a.env,b.env'\nport: \"6400\"\n"},
			args:   printPort,
			want:   result{Stdout: "6400 b\n"},
		},
		{
			name:   "root",
			config: map[string]string{".proctor": "root: sub\n"},
			args:   []string{"check"},
			want:   result{Stdout: "valid procfile detected (sub)\n"},
		},
		{
			name:   "formation for check, and foreman's concurrency alias",
			config: map[string]string{".foreman": "concurrency: web=2,wrker=1\n"},
			args:   []string{"check"},
			want:   result{Code: 1, Stderr: "formation: unknown process type \"wrker\" (the Procfile has web, worker)\n"},
		},
		{
			name:   "a key another command uses is not reported",
			config: map[string]string{".proctor": "port: 6500\nformation: all=1\n"},
			args:   []string{"check"},
			want:   result{Stdout: "valid procfile detected (web, worker)\n"},
		},
		{
			name:   "an unknown key is a warning",
			config: map[string]string{".proctor": "port: 6500\ncolour: always\n"},
			args:   printPort,
			want:   result{Stdout: "6500 \n", Stderr: "proctor: .proctor:2: unknown key \"colour\" (ignored)\n"},
		},
		{
			name:   "a bad value names file and line",
			config: map[string]string{".proctor": "# c\nport: http\n"},
			args:   printPort,
			want: result{Code: 2, Stderr: "proctor: .proctor:2: port: invalid argument \"http\" for \"-p, --port\" flag: " +
				"strconv.ParseInt: parsing \"http\": invalid syntax\n"},
		},
		{
			name:   "a malformed file",
			config: map[string]string{".foreman": "port 5000\n"},
			args:   []string{"check"},
			want:   result{Code: 2, Stderr: "proctor: .foreman:1: expected \"key: value\"\n"},
		},
		{
			name:   "a key set twice",
			config: map[string]string{".proctor": "port: 1\nport: 2\n"},
			args:   []string{"check"},
			want:   result{Code: 2, Stderr: "proctor: .proctor:2: \"port\" is set twice (first on line 1)\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newAppDir(t, app)
			writeFiles(t, dir, tt.config)
			got := runCLI(t, dir, tt.args...)
			assert.Equal(t, tt.want, got, "proctor %q with %v", tt.args, tt.config)
		})
	}
}

// TestConfigIsReadFromTheCurrentDirectory: -d does not move where the
// defaults file is looked for.
func TestConfigIsReadFromTheCurrentDirectory(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{
		"app/Procfile":     "web: a\n",
		"app/.proctor":     "procfile: nothing-here\n",
		"app/Procfile.alt": "alt: a\n",
		".proctor":         "procfile: app/Procfile.alt\n",
	})
	assert.Equal(t, result{Stdout: "valid procfile detected (alt)\n"}, runCLI(t, dir, "check"))
	assert.Equal(t, result{Stdout: "valid procfile detected (web)\n"}, runCLI(t, dir, "check", "-d", "app", "-f", "app/Procfile"))
}

func TestVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got := runCLI(t, dir, "version")
	assert.Regexp(t, `^proctor \S.*\n$`, got.Stdout)
	assert.Equal(t, result{Stdout: got.Stdout}, got)
	assert.Equal(t, got, runCLI(t, dir, "--version"), "--version prints what version does")
	assert.Equal(t, result{Code: 2, Stderr: "proctor: version: unexpected argument \"x\"\n" + helpHintFor("version")}, runCLI(t, dir, "version", "x"))
}

// commands lists the commands proctor's help shows, so that every command,
// including those added later, has its help tested.
func commands(t *testing.T) []string {
	t.Helper()
	got := runCLI(t, t.TempDir(), "--help")
	require.Equal(t, 0, got.Code)
	_, list, ok := strings.Cut(got.Stdout, "Available Commands:\n")
	require.True(t, ok, "no command list in:\n%s", got.Stdout)
	var names []string
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		names = append(names, strings.Fields(line)[0])
	}
	return names
}

func TestHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := commands(t)
	for _, want := range []string{"check", "run", "version", "completion", "help"} {
		assert.Contains(t, names, want)
	}

	root := runCLI(t, dir, "--help")
	assert.Contains(t, root.Stdout, "Usage:\n  proctor [flags]\n  proctor [command]")
	for _, args := range [][]string{{"help"}, {"-h"}, {}} {
		assert.Equal(t, root, runCLI(t, dir, args...), "proctor %q is the root help", args)
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, dir, name, "--help")
			assert.Equal(t, 0, got.Code, "proctor %s --help: %+v", name, got)
			assert.Empty(t, got.Stderr)
			assert.Contains(t, got.Stdout, "Usage:\n  proctor "+name, "proctor %s --help", name)
			assert.Equal(t, got, runCLI(t, dir, "help", name), "proctor help %s matches proctor %s --help", name, name)
			assert.Equal(t, got, runCLI(t, dir, name, "-h"), "proctor %s -h", name)
		})
	}
}

func TestHelpShowsFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for cmd, flags := range map[string][]string{
		"check": {"-f, --procfile", "-d, --root", "-e, --env", "-m, --formation", "--no-env-override"},
		"run":   {"-f, --procfile", "-d, --root", "-e, --env", "-p, --port", "--port-step", "--no-env-override"},
	} {
		got := runCLI(t, dir, cmd, "--help")
		for _, f := range flags {
			assert.Contains(t, got.Stdout, f, "proctor %s --help", cmd)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": twoTypes})
	tests := []struct {
		args []string
		want string // the first line of stderr
		hint string // the last line: the help of the command that failed
	}{
		{[]string{"frobnicate"}, `proctor: unknown command "frobnicate" for "proctor"`, helpHint},
		{[]string{"chek"}, `proctor: unknown command "chek" for "proctor"`, helpHint},
		{[]string{"--bogus"}, "proctor: unknown flag: --bogus", helpHint},
		{[]string{"check", "--bogus"}, "proctor: unknown flag: --bogus", helpHintFor("check")},
		{[]string{"check", "-z"}, "proctor: unknown shorthand flag: 'z' in -z", helpHintFor("check")},
		{[]string{"run", "--bogus", "true"}, "proctor: unknown flag: --bogus", helpHintFor("run")},
		{[]string{"run", "-p", "abc", "true"}, `proctor: invalid argument "abc" for "-p, --port" flag: strconv.ParseInt: parsing "abc": invalid syntax`, helpHintFor("run")},
		{[]string{"check", "-f"}, "proctor: flag needs an argument: 'f' in -f", helpHintFor("check")},
		{[]string{"run"}, "proctor: run: missing COMMAND", helpHintFor("run")},
		{[]string{"start", "--bogus"}, "proctor: unknown flag: --bogus", helpHintFor("start")},
		{[]string{"export", "--bogus"}, "proctor: unknown flag: --bogus", helpHintFor("export")},
	}
	for _, tt := range tests {
		got := runCLI(t, dir, tt.args...)
		assert.Equal(t, 2, got.Code, "proctor %q: %+v", tt.args, got)
		assert.Empty(t, got.Stdout, "proctor %q: stdout", tt.args)
		first, _, _ := strings.Cut(got.Stderr, "\n")
		assert.Equal(t, tt.want, first, "proctor %q: stderr", tt.args)
		assert.True(t, strings.HasSuffix(got.Stderr, "\n"+tt.hint), "proctor %q: stderr %q ends with %q", tt.args, got.Stderr, tt.hint)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for shell, marker := range map[string]string{
		"bash": "complete -o default -F __start_proctor proctor",
		"zsh":  "#compdef proctor",
		"fish": "complete -c proctor",
	} {
		got := runCLI(t, dir, "completion", shell)
		assert.Equal(t, 0, got.Code, "proctor completion %s: %s", shell, got.Stderr)
		assert.Empty(t, got.Stderr, "proctor completion %s", shell)
		assert.Contains(t, got.Stdout, marker, "proctor completion %s", shell)
	}
}

// TestCompletionValues: completion offers the Procfile's types after
// start (not those given yet), the formats after export and then
// directories, and the values of --log-format (issue 12, item 10).
func TestCompletionValues(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": "web: bundle exec puma\nworker: sidekiq\n", "Procfile.dev": "css: tailwindcss --watch\n"})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"start", ""}, "web\tbundle exec puma\nworker\tsidekiq\n:4\n"},
		{[]string{"start", "web", ""}, "worker\tsidekiq\n:4\n"},
		{[]string{"start", "w"}, "web\tbundle exec puma\nworker\tsidekiq\n:4\n"},
		{[]string{"start", "-f", "Procfile.dev", ""}, "css\ttailwindcss --watch\n:4\n"},
		{[]string{"start", "--log-format", ""}, "text\njson\n:4\n"},
		{[]string{"export", ""}, "systemd\nsupervisord\nrunit\nlaunchd\ncompose\nkubernetes\n:4\n"},
		{[]string{"export", "s"}, "systemd\nsupervisord\n:4\n"},
		{[]string{"export", "systemd", ""}, ":16\n"},
	}
	for _, tt := range tests {
		got := runCLI(t, dir, append([]string{cobraComplete}, tt.args...)...)
		assert.Equal(t, 0, got.Code, "completion of %q: %+v", tt.args, got)
		assert.Equal(t, tt.want, got.Stdout, "completion of %q", tt.args)
	}
}

// TestBrokenConfigSparesHelp: help, version and completion read no
// settings, so a broken defaults file does not stop them; commands that do
// read it fail with exit 2.
func TestBrokenConfigSparesHelp(t *testing.T) {
	t.Parallel()
	dir := newAppDir(t, map[string]string{"Procfile": twoTypes, ".proctor": "port 5000\n"})
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "check"}, {"check", "--help"}, {"version"}, {"--version"}, {"completion", "bash"}} {
		got := runCLI(t, dir, args...)
		assert.Equal(t, 0, got.Code, "proctor %q: %+v", args, got)
		assert.Empty(t, got.Stderr, "proctor %q", args)
		assert.NotEmpty(t, got.Stdout, "proctor %q", args)
	}
	want := result{Code: 2, Stderr: "proctor: .proctor:1: expected \"key: value\"\n"}
	assert.Equal(t, want, runCLI(t, dir, "check"))
	assert.Equal(t, want, runCLI(t, dir, "run", "true"))
}
