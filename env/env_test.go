package env_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/env"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestParse pins the godotenv rules proctor documents and relies on.
func TestParse(t *testing.T) {
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
		{"names with digits, dots and lowercase", "a_1.b=x\n1A=y\n", env.Vars{"a_1.b": "x", "1A": "y"}},
		{"comment lines", "# a comment\n  # indented\nA=1\n", env.Vars{"A": "1"}},
		{"inline comment after a space", "A=1 # note\n", env.Vars{"A": "1"}},
		{"a hash without a space is part of the value", "A=1#2\n", env.Vars{"A": "1#2"}},
		{"a hash inside quotes is part of the value", "A=\"1 # 2\"\n", env.Vars{"A": "1 # 2"}},
		{"single quotes keep everything literal", `A='a\nb $B ${B} "c"'` + "\nB=x\n", env.Vars{"A": `a\nb $B ${B} "c"`, "B": "x"}},
		{"double quotes keep spaces", "A=\"  x  \"\n", env.Vars{"A": "  x  "}},
		{"escapes in double quotes", `A="l1\nl2\rx\"q\" a\\b"` + "\n", env.Vars{"A": "l1\nl2\rx\"q\" a\\b"}},
		{"other escapes drop the backslash", `A="\t\$"` + "\n", env.Vars{"A": "t$"}},
		{"an escaped dollar is literal", `B=1` + "\n" + `A="\$B"` + "\n", env.Vars{"A": "$B", "B": "1"}},
		{"multi-line double-quoted value", "A=\"line 1\nline 2\"\nB=3\n", env.Vars{"A": "line 1\nline 2", "B": "3"}},
		{"expansion of an earlier variable", "HOST=db\nURL=postgres://${HOST}:5432\nU2=$HOST/x\n", env.Vars{"HOST": "db", "URL": "postgres://db:5432", "U2": "db/x"}},
		{"expansion in double quotes", "A=1\nB=\"${A}-$A\"\n", env.Vars{"A": "1", "B": "1-1"}},
		{"an unknown variable expands to nothing", "A=x${NOPE}y\n", env.Vars{"A": "xy"}},
		{"a later variable is not yet known", "A=${B}\nB=1\n", env.Vars{"A": "", "B": "1"}},
		{"a later assignment wins", "A=1\nA=2\n", env.Vars{"A": "2"}},
		{"CRLF line endings", "A=1\r\nB=\"x\"\r\n", env.Vars{"A": "1", "B": "x"}},
		{"no final newline", "A=1\nB=2", env.Vars{"A": "1", "B": "2"}},
		{"blank lines", "\n\nA=1\n\n\nB=2\n\n", env.Vars{"A": "1", "B": "2"}},
		{"values with equals signs", "A=a=b=c\n", env.Vars{"A": "a=b=c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Parse([]byte(tt.in))
			require.NoError(t, err, "Parse(%q)", tt.in)
			assert.Equal(t, tt.want, got, "Parse(%q)", tt.in)
		})
	}
}

// TestParseDoesNotReadTheOSEnvironment: ${VAR} expands only variables of the
// same file, so an env file means the same on every machine.
func TestParseDoesNotReadTheOSEnvironment(t *testing.T) {
	t.Setenv("PROCTOR_TEST_OUTSIDE", "from-os")
	got, err := env.Parse([]byte("A=${PROCTOR_TEST_OUTSIDE}\n"))
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"A": ""}, got)
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
		{"a line without equals sign", "A=1\nJUST_A_NAME\nB=2\n", 2, `line 2: expected KEY=VALUE, got "JUST_A_NAME"`, nil},
		{"a last line without equals sign", "A=1\nJUST_A_NAME", 2, `line 2: empty variable name: expected KEY=VALUE, got "JUST_A_NAME"`, env.ErrBadName},
		{"an empty name", "# c\n=value\n", 2, `line 2: empty variable name: expected KEY=VALUE, got "=value"`, env.ErrBadName},
		{"a hyphen in the name", "A=1\nMY-VAR=1\n", 2, `line 2: unexpected character "-" in variable name: "MY-VAR=1"`, nil},
		{"unterminated double quote", "A=1\nB=\"abc\nC=2\n", 2, "line 2: unterminated quoted value \"abc", nil},
		// godotenv takes any quote after a backslash as escaped.
		{"a value ending in a backslash", `A="x\\"` + "\n", 1, `line 1: unterminated quoted value "x\\"`, nil},
		{"unterminated single quote", "A='abc", 1, "line 1: unterminated quoted value 'abc", nil},
		{"NUL byte in a value", "A=1\nB=x\x00y\n", 2, `line 2: NUL byte in variable "B"`, env.ErrNUL},
		{"NUL byte in a quoted value", "AB=1\nA=\"\x00\"\n", 2, `line 2: NUL byte in variable "A"`, env.ErrNUL},
		{"error on a CRLF line", "A=1\r\nB C D\r\nE=1\r\n", 2, `line 2: expected KEY=VALUE, got "B C D"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Parse([]byte(tt.in))
			require.Error(t, err, "Parse(%q) = %v, want an error", tt.in, got)
			assert.Nil(t, got)
			var fe *env.FileError
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

func TestFileErrorMessage(t *testing.T) {
	boom := errors.New("boom")
	assert.Equal(t, ".env: line 3: boom", (&env.FileError{File: ".env", Line: 3, Err: boom}).Error())
	assert.Equal(t, ".env: boom", (&env.FileError{File: ".env", Err: boom}).Error())
	assert.Equal(t, "line 3: boom", (&env.FileError{Line: 3, Err: boom}).Error(), "Parse's errors name no file")
	assert.Equal(t, "boom", (&env.FileError{Err: boom}).Error())
	assert.ErrorIs(t, &env.FileError{File: ".env", Err: boom}, boom)
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
			got, err := env.Read(tt.paths...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestReadExpandsWithinOneFile: ${VAR} sees only the variables of its own
// file, not those of an earlier file.
func TestReadExpandsWithinOneFile(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, "a.env", "HOST=db\n")
	second := writeFile(t, dir, "b.env", "URL=pg://${HOST}\nPORT2=1\nX=${PORT2}\n")
	got, err := env.Read(first, second)
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"HOST": "db", "URL": "pg://", "PORT2": "1", "X": "1"}, got)
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.env", "A=1\n")
	bad := writeFile(t, dir, "bad.env", "A=1\nNOT-VALID=1\nB=2\n")
	missing := filepath.Join(dir, "missing.env")

	t.Run("missing file", func(t *testing.T) {
		got, err := env.Read(good, missing)
		require.Error(t, err)
		assert.Nil(t, got)
		assert.Equal(t, missing+": file does not exist", err.Error())
		assert.ErrorIs(t, err, fs.ErrNotExist)
		var fe *env.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, missing, fe.File)
	})
	t.Run("malformed file names file and line", func(t *testing.T) {
		got, err := env.Read(good, bad)
		require.Error(t, err)
		assert.Nil(t, got)
		assert.Equal(t, bad+`: line 2: unexpected character "-" in variable name: "NOT-VALID=1"`, err.Error())
		var fe *env.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, bad, fe.File)
		assert.Equal(t, 2, fe.Line)
	})
	t.Run("a directory", func(t *testing.T) {
		_, err := env.Read(dir)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), dir+": "), "error %q names the path", err)
	})
}

func TestReadOptional(t *testing.T) {
	dir := t.TempDir()

	got, err := env.ReadOptional(filepath.Join(dir, ".env"))
	require.NoError(t, err, "an absent default file is no error")
	assert.Equal(t, env.Vars{}, got)

	path := writeFile(t, dir, ".env", "A=1\n")
	got, err = env.ReadOptional(path)
	require.NoError(t, err)
	assert.Equal(t, env.Vars{"A": "1"}, got)

	writeFile(t, dir, ".env", "A=\"open\n")
	_, err = env.ReadOptional(path)
	assert.EqualError(t, err, path+": line 1: unterminated quoted value \"open")
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
			vars, err := env.Read(path)
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
