package env_test

import (
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/fileline"
	"github.com/proctor-run/proctor/internal/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestParse pins the rules of the dialect proctor documents (README, "The
// .env dialect"); the conformance cases in testdata/conformance cover the
// dotenv projects' own rules.
func TestParse(t *testing.T) {
	base := []string{"OUTSIDE=os", "PATH=/usr/bin:/bin", "EMPTY_OUTSIDE="}
	tests := []struct {
		name string
		in   string
		want env.Vars
	}{
		{"plain", "A=1\nB=two words\n", env.Vars{"A": "1", "B": "two words"}},
		{"empty file", "", env.Vars{}},
		{"empty value", "A=\n", env.Vars{"A": ""}},
		{"spaces around the equals sign", "A = 1\n", env.Vars{"A": "1"}},
		{"surrounding spaces of an unquoted value are trimmed", "A=  x y  \n", env.Vars{"A": "x y"}},
		{"export prefix", "export A=1\nexport  B=2\n", env.Vars{"A": "1", "B": "2"}},
		{"a name starting with export", "exported=1\n", env.Vars{"exported": "1"}},
		{"YAML-style colon", "A: 1\n", env.Vars{"A": "1"}},
		{"names with digits, dots, hyphens and lowercase", "a_1.b=x\n1A=y\nmy-key=z\n", env.Vars{"a_1.b": "x", "1A": "y", "my-key": "z"}},
		{"comment lines", "# a comment\n  # indented\nA=1\n", env.Vars{"A": "1"}},
		{"inline comment after a space", "A=1 # note\n", env.Vars{"A": "1"}},
		{"an inline comment ends the value at its first hash", "KEY=a # comment #more\n", env.Vars{"KEY": "a"}},
		{"a hash without a space is part of the value", "A=1#2\n", env.Vars{"A": "1#2"}},
		{"a hash inside quotes is part of the value", "A=\"1 # 2\"\n", env.Vars{"A": "1 # 2"}},
		{"single quotes keep everything literal", `A='a\nb $B ${B} "c"'` + "\nB=x\n", env.Vars{"A": `a\nb $B ${B} "c"`, "B": "x"}},
		{"double quotes keep spaces", "A=\"  x  \"\n", env.Vars{"A": "  x  "}},
		{"escapes in double quotes", `A="l1\nl2\rx\"q\" a\\b"` + "\n", env.Vars{"A": "l1\nl2\rx\"q\" a\\b"}},
		{"an escaped quote", `Q="say \"hi\""` + "\n", env.Vars{"Q": `say "hi"`}},
		{"a value ending in an escaped backslash", `WINPATH="C:\\"` + "\n", env.Vars{"WINPATH": `C:\`}},
		{"other escapes keep the backslash", `A="\q\d"` + "\n", env.Vars{"A": `\q\d`}},
		{"an escaped dollar is literal", `B=1` + "\n" + `A="\$B"` + "\n", env.Vars{"A": "$B", "B": "1"}},
		{"a double dollar is one literal dollar", "A=$$B\n", env.Vars{"A": "$B"}},
		{"a dollar that starts no reference is kept", "P=\"cost: $5}\"\nQ=a $ b\nR=$\n", env.Vars{"P": "cost: $5}", "Q": "a $ b", "R": "$"}},
		{"multi-line double-quoted value", "A=\"line 1\nline 2\"\nB=3\n", env.Vars{"A": "line 1\nline 2", "B": "3"}},
		{"multi-line single-quoted value", "A='line 1\nline 2'\nB=3\n", env.Vars{"A": "line 1\nline 2", "B": "3"}},
		{"expansion of an earlier variable", "HOST=db\nURL=postgres://${HOST}:5432\nU2=$HOST/x\n", env.Vars{"HOST": "db", "URL": "postgres://db:5432", "U2": "db/x"}},
		{"expansion in double quotes", "A=1\nB=\"${A}-$A\"\n", env.Vars{"A": "1", "B": "1-1"}},
		{"expansion falls back to proctor's environment", "PATH=./bin:$PATH\nX=hello $OUTSIDE\n", env.Vars{"PATH": "./bin:/usr/bin:/bin", "X": "hello os"}},
		{"the file's own value comes before the environment", "OUTSIDE=file\nX=$OUTSIDE\n", env.Vars{"OUTSIDE": "file", "X": "file"}},
		{"an unknown variable expands to nothing", "A=x${NOPE}y\n", env.Vars{"A": "xy"}},
		{"a default for an unset variable", "A=${NOPE:-def}\nB=${OUTSIDE:-def}\nC=${NOPE-def}\n", env.Vars{"A": "def", "B": "os", "C": "def"}},
		{"the two defaults differ on an empty variable", "A=${EMPTY_OUTSIDE:-def}\nB=${EMPTY_OUTSIDE-def}\n", env.Vars{"A": "def", "B": ""}},
		{"an alternative for a set variable", "A=${OUTSIDE:+yes}\nB=${NOPE:+yes}\n", env.Vars{"A": "yes", "B": ""}},
		{"a later variable is not yet known", "A=${B}\nB=1\n", env.Vars{"A": "", "B": "1"}},
		{"a later assignment wins", "A=1\nA=2\n", env.Vars{"A": "2"}},
		{"a bare export after an assignment", "FOO=bar\nexport FOO\n", env.Vars{"FOO": "bar"}},
		{"a bare name takes proctor's environment", "OUTSIDE\nexport PATH\n", env.Vars{"OUTSIDE": "os", "PATH": "/usr/bin:/bin"}},
		{"a bare name on the last line", "A=1\nOUTSIDE", env.Vars{"A": "1", "OUTSIDE": "os"}},
		{"a byte order mark", "\xef\xbb\xbfBOM=UTF-8\n", env.Vars{"BOM": "UTF-8"}},
		{"backticks are ordinary characters", "A=`echo hi`\n", env.Vars{"A": "`echo hi`"}},
		{"CRLF line endings", "A=1\r\nB=\"x\"\r\n", env.Vars{"A": "1", "B": "x"}},
		{"no final newline", "A=1\nB=2", env.Vars{"A": "1", "B": "2"}},
		{"blank lines", "\n\nA=1\n\n\nB=2\n\n", env.Vars{"A": "1", "B": "2"}},
		{"values with equals signs", "A=a=b=c\n", env.Vars{"A": "a=b=c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Reader{Base: base}.Parse([]byte(tt.in))
			require.NoError(t, err, "Parse(%q)", tt.in)
			assert.Equal(t, tt.want, got, "Parse(%q)", tt.in)
		})
	}
}

// TestParseKeepBase: with --no-env-override a variable set in proctor's
// environment keeps its value, so a reference to it means that value.
func TestParseKeepBase(t *testing.T) {
	r := env.Reader{Base: []string{"HOST=os"}, KeepBase: true}
	got, err := r.Parse([]byte("HOST=file\nURL=pg://$HOST\nOTHER=x\nY=$OTHER\n"))
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"HOST": "file", "URL": "pg://os", "OTHER": "x", "Y": "x"}, got)
}

// TestParseDoesNotModifyTheEnvironment: references are read from Reader's
// Base, never from proctor's own environment, which stays as it was.
func TestParseDoesNotModifyTheEnvironment(t *testing.T) {
	t.Setenv("PROCTOR_TEST_OUTSIDE", "from-os")
	got, err := env.Reader{}.Parse([]byte("A=${PROCTOR_TEST_OUTSIDE}\nPROCTOR_TEST_OUTSIDE=x\n"))
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"A": "", "PROCTOR_TEST_OUTSIDE": "x"}, got)
	assert.Equal(t, "from-os", os.Getenv("PROCTOR_TEST_OUTSIDE"), "Parse must not modify the environment")
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
		is   error
	}{
		{"a name set nowhere", "A=1\nJUST_A_NAME\nB=2\n", 2, "line 2: JUST_A_NAME is not set: a line with only a name takes the value of an earlier line or of proctor's environment", env.ErrUnset},
		{"a bare export of a name set nowhere", "A=1\nexport OH_NO", 2, "line 2: OH_NO is not set: a line with only a name takes the value of an earlier line or of proctor's environment", env.ErrUnset},
		{"an empty name", "# c\n=value\n", 2, `line 2: empty variable name: expected NAME=value, got "=value"`, env.ErrBadName},
		{"a name with a space", "A=1\nB C D\nE=1\n", 2, `line 2: expected NAME=value, got "B C D" (a name cannot hold a space)`, nil},
		{"a character no name holds", "A=1\nlol$wut\n", 2, `line 2: unexpected character "$" in variable name "lol$wut"`, nil},
		{"unterminated double quote", "A=1\nB=\"abc\nC=2\n", 2, "line 2: unterminated quoted value \"abc", nil},
		{"unterminated quote after a multi-line value", "A=\"x\ny\"\nB='abc\nC=2\n", 3, "line 3: unterminated quoted value 'abc", nil},
		{"unterminated single quote", "A='abc", 1, "line 1: unterminated quoted value 'abc", nil},
		{"an unclosed reference", "A=1\nB=${A\n", 2, `line 2: unclosed variable reference in "B=${A": write ${NAME}, or $$ for a literal $`, nil},
		{"a required variable", "A=1\nB=${NOPE:?set NOPE first}\n", 2, "line 2: required variable NOPE is missing a value: set NOPE first", nil},
		{"NUL byte in a value", "A=1\nB=x\x00y\n", 2, `line 2: NUL byte in variable "B"`, env.ErrNUL},
		{"NUL byte in a quoted value", "AB=1\nA=\"\x00\"\n", 2, `line 2: NUL byte in variable "A"`, env.ErrNUL},
		{"error on a CRLF line", "A=1\r\nB C D\r\nE=1\r\n", 2, `line 2: expected NAME=value, got "B C D" (a name cannot hold a space)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Reader{}.Parse([]byte(tt.in))
			require.Error(t, err, "Parse(%q) = %v, want an error", tt.in, got)
			assert.Nil(t, got)
			var fe *fileline.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "", fe.File)
			assert.Equal(t, tt.line, fe.Line, "line of %q", tt.in)
			assert.Equal(t, tt.msg, err.Error(), "message")
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
}

// TestParseWritesNothing: compose-go logs unset variables through logrus;
// none of that reaches proctor's output.
func TestParseWritesNothing(t *testing.T) {
	stderr := captureStderr(t, func() {
		_, err := env.Reader{}.Parse([]byte("A=$PROCTOR_TEST_NOT_SET ${PROCTOR_TEST_NOT_SET}\n"))
		require.NoError(t, err)
	})
	assert.Empty(t, stderr)
}

// captureStderr runs f with the process's standard error going to a pipe
// and returns what was written.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = saved }()
	done := make(chan []byte)
	go func() {
		data, _ := io.ReadAll(r)
		done <- data
	}()
	f()
	require.NoError(t, w.Close())
	return string(<-done)
}

// TestConformance reads every case of testdata/conformance (the rules of
// Ruby dotenv, node dotenv and godotenv, and real projects' files) through
// Reader.Read; the end-to-end TestRunConformance reads the same cases
// through proctor run.
func TestConformance(t *testing.T) {
	cases, err := conformance.Read(filepath.Join("testdata", "conformance"))
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := env.Reader{Base: conformance.Base}.Read(c.EnvFile)
			require.NoError(t, err)
			assert.Equal(t, env.Vars(c.Want), got)
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, dir, "base.env", "A=base\nB=base\nexport C=base\n")
	local := writeFile(t, dir, "local.env", "B=local\nD=local\n")
	last := writeFile(t, dir, "last.env", "D=last\n")

	tests := []struct {
		name  string
		paths []string
		want  env.Vars
	}{
		{"no files", nil, env.Vars{}},
		{"one file", []string{base}, env.Vars{"A": "base", "B": "base", "C": "base"}},
		{"a later file wins", []string{base, local}, env.Vars{"A": "base", "B": "local", "C": "base", "D": "local"}},
		{"three files", []string{base, local, last}, env.Vars{"A": "base", "B": "local", "C": "base", "D": "last"}},
		{"order matters", []string{local, base}, env.Vars{"A": "base", "B": "base", "C": "base", "D": "local"}},
		{"the same file twice", []string{base, base}, env.Vars{"A": "base", "B": "base", "C": "base"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Reader{}.Read(tt.paths...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestReadExpandsAcrossFiles: a reference sees the variables of its own
// file and of the earlier ones, before proctor's environment.
func TestReadExpandsAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, "a.env", "HOST=db\n")
	second := writeFile(t, dir, "b.env", "URL=pg://${HOST}\nPORT2=1\nX=${PORT2}\nY=$OUTSIDE\n")
	got, err := env.Reader{Base: []string{"HOST=os", "OUTSIDE=os"}}.Read(first, second)
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"HOST": "db", "URL": "pg://db", "PORT2": "1", "X": "1", "Y": "os"}, got)
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.env", "A=1\n")
	bad := writeFile(t, dir, "bad.env", "A=1\nNOT VALID=1\nB=2\n")
	missing := filepath.Join(dir, "missing.env")

	t.Run("missing file", func(t *testing.T) {
		got, err := env.Reader{}.Read(good, missing)
		require.Error(t, err)
		assert.Nil(t, got)
		assert.Equal(t, missing+": file does not exist", err.Error())
		assert.ErrorIs(t, err, fs.ErrNotExist)
		var fe *fileline.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, missing, fe.File)
	})
	t.Run("malformed file names file and line", func(t *testing.T) {
		got, err := env.Reader{}.Read(good, bad)
		require.Error(t, err)
		assert.Nil(t, got)
		assert.Equal(t, bad+`:2: expected NAME=value, got "NOT VALID=1" (a name cannot hold a space)`, err.Error())
		var fe *fileline.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, bad, fe.File)
		assert.Equal(t, 2, fe.Line)
	})
	t.Run("a directory", func(t *testing.T) {
		_, err := env.Reader{}.Read(dir)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), dir+": "), "error %q names the path", err)
	})
}

func TestReadOptional(t *testing.T) {
	dir := t.TempDir()

	got, err := env.Reader{}.ReadOptional(filepath.Join(dir, ".env"))
	require.NoError(t, err, "an absent default file is no error")
	assert.Equal(t, env.Vars{}, got)

	path := writeFile(t, dir, ".env", "A=1\n")
	got, err = env.Reader{}.ReadOptional(path)
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"A": "1"}, got)

	writeFile(t, dir, ".env", "A=\"open\n")
	_, err = env.Reader{}.ReadOptional(path)
	assert.EqualError(t, err, path+":1: unterminated quoted value \"open")
}

// TestReadGolden checks env.Read on every testdata/env/*.env against the
// .golden file beside it: the error text, or the variables (sorted, quoted)
// of a valid file. Run with -update to rewrite the golden files.
func TestReadGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "env", "*.env"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no golden test inputs")
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".env")
		t.Run(name, func(t *testing.T) {
			vars, err := env.Reader{}.Read(path)
			var got strings.Builder
			if err != nil {
				got.WriteString(err.Error() + "\n")
			} else {
				keys := make([]string, 0, len(vars))
				for k := range vars {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					got.WriteString(k + "=" + quote(vars[k]) + "\n")
				}
			}
			golden := strings.TrimSuffix(path, ".env") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test ./env -run TestReadGolden -update")
			assert.Equal(t, string(want), got.String(), "env.Read(%s)", path)
		})
	}
}

func quote(s string) string {
	return "\"" + strings.NewReplacer("\\", `\\`, "\"", `\"`, "\n", `\n`, "\r", `\r`).Replace(s) + "\""
}

func TestEnviron(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/root", "FOO=os"}
	tests := []struct {
		name     string
		base     []string
		vars     env.Vars
		override bool
		want     []string
	}{
		{
			name: "env files override the OS environment", base: base, override: true,
			vars: env.Vars{"FOO": "file", "NEW": "1"},
			want: []string{"PATH=/bin", "HOME=/root", "FOO=file", "NEW=1"},
		},
		{
			name: "without override the OS environment wins", base: base, override: false,
			vars: env.Vars{"FOO": "file", "NEW": "1"},
			want: []string{"PATH=/bin", "HOME=/root", "FOO=os", "NEW=1"},
		},
		{
			name: "new variables come after the base, sorted", base: base, override: true,
			vars: env.Vars{"Z": "z", "A": "a", "M": "m"},
			want: []string{"PATH=/bin", "HOME=/root", "FOO=os", "A=a", "M=m", "Z=z"},
		},
		{
			name: "no variables", base: base, override: true,
			want: []string{"PATH=/bin", "HOME=/root", "FOO=os"},
		},
		{
			name: "empty base", override: true,
			vars: env.Vars{"A": "1"},
			want: []string{"A=1"},
		},
		{
			name: "a duplicate in the base keeps its first value", override: false,
			base: []string{"A=first", "B=1", "A=second"},
			want: []string{"A=first", "B=1"},
		},
		{
			name: "a duplicate in the base is overridden once", override: true,
			base: []string{"A=first", "A=second"}, vars: env.Vars{"A": "file"},
			want: []string{"A=file"},
		},
		{
			name: "an empty value in a file still overrides", base: base, override: true,
			vars: env.Vars{"FOO": ""},
			want: []string{"PATH=/bin", "HOME=/root", "FOO="},
		},
		{
			name: "values with equals signs and newlines", override: true,
			base: []string{"A=x=y"}, vars: env.Vars{"B": "l1\nl2"},
			want: []string{"A=x=y", "B=l1\nl2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.base)
			got := env.Environ(tt.base, tt.vars, tt.override)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, tt.base, "Environ must not modify base")
		})
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		key, value string
		want       []string
	}{
		{"add", []string{"A=1"}, "PORT", "5000", []string{"A=1", "PORT=5000"}},
		{"replace", []string{"PORT=1", "A=1"}, "PORT", "5000", []string{"A=1", "PORT=5000"}},
		{"replace every copy", []string{"PORT=1", "A=1", "PORT=2"}, "PORT", "5000", []string{"A=1", "PORT=5000"}},
		{"a longer name with the same start is kept", []string{"PORTS=1"}, "PORT", "5000", []string{"PORTS=1", "PORT=5000"}},
		{"empty env", nil, "PS", "web.1", []string{"PS=web.1"}},
		{"empty value", []string{"A=1"}, "A", "", []string{"A="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.env)
			assert.Equal(t, tt.want, env.Set(tt.env, tt.key, tt.value))
			assert.Equal(t, before, tt.env, "Set must not modify its input")
		})
	}
}

func TestLookup(t *testing.T) {
	e := []string{"PORTS=9", "PORT=5000", "EMPTY=", "PORT=6000", "EQ=a=b"}
	tests := []struct {
		key   string
		want  string
		found bool
	}{
		{"PORT", "5000", true},
		{"PORTS", "9", true},
		{"EMPTY", "", true},
		{"EQ", "a=b", true},
		{"POR", "", false},
		{"MISSING", "", false},
	}
	for _, tt := range tests {
		got, ok := env.Lookup(e, tt.key)
		assert.Equal(t, tt.found, ok, "Lookup(%q) found", tt.key)
		assert.Equal(t, tt.want, got, "Lookup(%q)", tt.key)
	}
}
