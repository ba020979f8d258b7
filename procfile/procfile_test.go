package procfile_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/fileline"
	"github.com/proctor-run/proctor/procfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []procfile.Entry
	}{
		{
			name: "one entry",
			in:   "web: bundle exec rails s\n",
			want: []procfile.Entry{{Name: "web", Command: "bundle exec rails s", Line: 1}},
		},
		{
			name: "order is preserved",
			in:   "web: a\nworker: b\nclock: c\n",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 2}, {"clock", "c", 3}},
		},
		{
			name: "no space after the colon",
			in:   "web:a\n",
			want: []procfile.Entry{{"web", "a", 1}},
		},
		{
			name: "several spaces and tabs after the colon",
			in:   "web:   \t  a b\n",
			want: []procfile.Entry{{"web", "a b", 1}},
		},
		{
			name: "trailing whitespace is dropped",
			in:   "web: a b  \t\n",
			want: []procfile.Entry{{"web", "a b", 1}},
		},
		{
			name: "command keeps its own colons",
			in:   "web: echo a:b:c http://x\n",
			want: []procfile.Entry{{"web", "echo a:b:c http://x", 1}},
		},
		{
			name: "command keeps shell syntax untouched",
			in:   "web: FOO=1 exec ./bin/web -p $PORT 2>&1 | tee log && echo '# not a comment'\n",
			want: []procfile.Entry{{"web", "FOO=1 exec ./bin/web -p $PORT 2>&1 | tee log && echo '# not a comment'", 1}},
		},
		{
			name: "comment lines and indented comments are skipped",
			in:   "# the app\nweb: a\n  # indented comment\n\t# tab comment\nworker: b\n",
			want: []procfile.Entry{{"web", "a", 2}, {"worker", "b", 5}},
		},
		{
			name: "a comment that looks like an entry is skipped",
			in:   "#web: a\nworker: b\n",
			want: []procfile.Entry{{"worker", "b", 2}},
		},
		{
			name: "blank and whitespace-only lines are skipped",
			in:   "\n\nweb: a\n   \n\t\n\nworker: b\n\n",
			want: []procfile.Entry{{"web", "a", 3}, {"worker", "b", 7}},
		},
		{
			name: "CRLF line endings",
			in:   "web: a\r\n# c\r\nworker: b\r\n",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 3}},
		},
		{
			name: "mixed line endings",
			in:   "web: a\r\nworker: b\n",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 2}},
		},
		{
			name: "a carriage return inside a line stays",
			in:   "web: a\rb\n",
			want: []procfile.Entry{{"web", "a\rb", 1}},
		},
		{
			name: "UTF-8 BOM is skipped",
			in:   "\ufeffweb: a\n",
			want: []procfile.Entry{{"web", "a", 1}},
		},
		{
			name: "UTF-8 BOM with CRLF",
			in:   "\ufeffweb: a\r\nworker: b\r\n",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 2}},
		},
		{
			name: "missing final newline",
			in:   "web: a\nworker: b",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 2}},
		},
		{
			name: "missing final newline after CRLF lines",
			in:   "web: a\r\nworker: b",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 2}},
		},
		{
			name: "names use letters, digits, underscore and hyphen",
			in:   "Web_2-x: a\n9: b\n_: c\n-: d\n",
			want: []procfile.Entry{{"Web_2-x", "a", 1}, {"9", "b", 2}, {"_", "c", 3}, {"-", "d", 4}},
		},
		{
			name: "names are case sensitive",
			in:   "web: a\nWeb: b\n",
			want: []procfile.Entry{{"web", "a", 1}, {"Web", "b", 2}},
		},
		{
			name: "continuation joins the next line",
			in:   "web: bundle exec \\\n  puma -p $PORT\nworker: b\n",
			want: []procfile.Entry{{"web", "bundle exec   puma -p $PORT", 1}, {"worker", "b", 3}},
		},
		{
			name: "a continuation line with a colon but no space after it is joined",
			in:   "web: curl \\\nhttp://localhost:5000/\n",
			want: []procfile.Entry{{"web", "curl http://localhost:5000/", 1}},
		},
		{
			name: "continuation over several lines keeps the first line number",
			in:   "# c\nweb: a \\\nb \\\nc\nworker: d\n",
			want: []procfile.Entry{{"web", "a b c", 2}, {"worker", "d", 5}},
		},
		{
			name: "continuation with CRLF",
			in:   "web: a \\\r\n  b\r\n",
			want: []procfile.Entry{{"web", "a   b", 1}},
		},
		{
			name: "continuation joins a line that looks like a comment",
			in:   "web: a \\\n# b\n",
			want: []procfile.Entry{{"web", "a # b", 1}},
		},
		{
			name: "continuation joins a blank line",
			in:   "web: a \\\n\nworker: b\n",
			want: []procfile.Entry{{"web", "a", 1}, {"worker", "b", 3}},
		},
		{
			name: "three trailing backslashes continue, keeping one escaped backslash",
			in:   "web: echo a\\\\\\\nb\n",
			want: []procfile.Entry{{"web", `echo a\\b`, 1}},
		},
		{
			name: "two trailing backslashes are an escaped backslash, not a continuation",
			in:   "web: echo a\\\\\nworker: b\n",
			want: []procfile.Entry{{"web", `echo a\\`, 1}, {"worker", "b", 2}},
		},
		{
			name: "a backslash elsewhere is kept",
			in:   "web: printf 'a\\tb\\n'\n",
			want: []procfile.Entry{{"web", `printf 'a\tb\n'`, 1}},
		},
		{
			name: "a comment line ending in a backslash does not continue",
			in:   "# comment \\\nweb: a\n",
			want: []procfile.Entry{{"web", "a", 2}},
		},
		{
			name: "unicode in the command",
			in:   "web: echo héllo ✓\n",
			want: []procfile.Entry{{"web", "echo héllo ✓", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procfile.Parse(strings.NewReader(tt.in))
			require.NoError(t, err, "Parse(%q)", tt.in)
			assert.Equal(t, tt.want, got, "Parse(%q)", tt.in)
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want are the messages of the joined errors, in order.
		want []string
		// is holds the sentinel each error wraps, in the same order.
		is []error
		// entries are those Parse still returns.
		entries []string
	}{
		{
			name: "no colon",
			in:   "web: a\nworker b\n",
			want: []string{"line 2: expected NAME: COMMAND"},
			is:   []error{procfile.ErrNoColon}, entries: []string{"web"},
		},
		{
			name: "name with a space",
			in:   "web server: a\n",
			want: []string{`line 1: invalid process name "web server": use letters, digits, '_' and '-'`},
			is:   []error{procfile.ErrInvalidName},
		},
		{
			name: "space before the colon",
			in:   "web : a\n",
			want: []string{`line 1: invalid process name "web ": use letters, digits, '_' and '-'`},
			is:   []error{procfile.ErrInvalidName},
		},
		{
			name: "name with a dot",
			in:   "web.1: a\n",
			want: []string{`line 1: invalid process name "web.1": use letters, digits, '_' and '-'`},
			is:   []error{procfile.ErrInvalidName},
		},
		{
			name: "name with non-ASCII letters",
			in:   "wéb: a\n",
			want: []string{`line 1: invalid process name "wéb": use letters, digits, '_' and '-'`},
			is:   []error{procfile.ErrInvalidName},
		},
		{
			name: "empty name",
			in:   ": a\n",
			want: []string{`line 1: invalid process name "": use letters, digits, '_' and '-'`},
			is:   []error{procfile.ErrInvalidName},
		},
		{
			name: "empty command",
			in:   "web:\n",
			want: []string{`line 1: empty command for "web"`},
			is:   []error{procfile.ErrEmptyCommand},
		},
		{
			name: "command of spaces only",
			in:   "web:  \t \n",
			want: []string{`line 1: empty command for "web"`},
			is:   []error{procfile.ErrEmptyCommand},
		},
		{
			name: "duplicate name",
			in:   "web: a\nworker: b\n\nweb: c\n",
			want: []string{`line 4: duplicate process name "web" (first defined on line 1)`},
			is:   []error{procfile.ErrDuplicate}, entries: []string{"web", "worker"},
		},
		{
			name: "a name used three times is reported twice",
			in:   "web: a\nweb: b\nweb: c\n",
			want: []string{
				`line 2: duplicate process name "web" (first defined on line 1)`,
				`line 3: duplicate process name "web" (first defined on line 1)`,
			},
			is:      []error{procfile.ErrDuplicate, procfile.ErrDuplicate},
			entries: []string{"web"},
		},
		{
			name: "indented with spaces",
			in:   "web: a\n  worker: b\n",
			want: []string{"line 2: line starts with whitespace"},
			is:   []error{procfile.ErrIndented}, entries: []string{"web"},
		},
		{
			name: "indented with a tab",
			in:   "\tweb: a\n",
			want: []string{"line 1: line starts with whitespace"},
			is:   []error{procfile.ErrIndented},
		},
		{
			name: "continuation at the end of the file",
			in:   "web: a \\",
			want: []string{"line 1: backslash continuation at end of file"},
			is:   []error{procfile.ErrContinuation}, entries: []string{"web"},
		},
		{
			name: "continuation at the end of the file after a final newline",
			in:   "web: a \\\nb \\\n",
			want: []string{"line 2: backslash continuation at end of file"},
			is:   []error{procfile.ErrContinuation}, entries: []string{"web"},
		},
		{
			// A trailing backslash swallowed the next entry silently
			// (issue 12, item 6).
			name: "a continuation line that reads as an entry",
			in:   "web: echo A \\\nworker: echo B\n",
			want: []string{"line 2: this line reads as a new entry, but the backslash ending the line before continues that command onto it: remove the backslash, or indent this line if it belongs to the command"},
			is:   []error{procfile.ErrContinuedEntry}, entries: []string{"web", "worker"},
		},
		{
			name: "a continued entry with nothing after its colon",
			in:   "web: echo A \\\nworker:\n",
			want: []string{
				"line 2: this line reads as a new entry, but the backslash ending the line before continues that command onto it: remove the backslash, or indent this line if it belongs to the command",
				`line 2: empty command for "worker"`,
			},
			is: []error{procfile.ErrContinuedEntry, procfile.ErrEmptyCommand}, entries: []string{"web"},
		},
		{
			name: "whitespace after a final backslash",
			in:   "web: bundle exec \\  \n  puma\n",
			want: []string{
				"line 1: whitespace after the final backslash: remove it to continue the command on the next line",
				"line 2: line starts with whitespace",
			},
			is: []error{procfile.ErrSpaceAfterBackslash, procfile.ErrIndented},
		},
		{
			name: "NUL byte in the command",
			in:   "web: a\x00b\n",
			want: []string{"line 1: line contains a NUL byte"},
			is:   []error{procfile.ErrNUL},
		},
		{
			name: "NUL byte in a continuation line is reported on the entry's line",
			in:   "web: a \\\n\x00\n",
			want: []string{"line 1: line contains a NUL byte"},
			is:   []error{procfile.ErrNUL},
		},
		{
			name: "empty input",
			in:   "",
			want: []string{"no process types defined"},
			is:   []error{procfile.ErrNoEntries},
		},
		{
			name: "only comments and blank lines",
			in:   "# nothing here\n\n   \n",
			want: []string{"no process types defined"},
			is:   []error{procfile.ErrNoEntries},
		},
		{
			name: "only a BOM",
			in:   "\ufeff",
			want: []string{"no process types defined"},
			is:   []error{procfile.ErrNoEntries},
		},
		{
			name: "every problem is reported, good entries are kept",
			in:   "web: a\nbad line\nweb: b\nw x: c\nclock:\nworker: d\n",
			want: []string{
				"line 2: expected NAME: COMMAND",
				`line 3: duplicate process name "web" (first defined on line 1)`,
				`line 4: invalid process name "w x": use letters, digits, '_' and '-'`,
				`line 5: empty command for "clock"`,
			},
			is:      []error{procfile.ErrNoColon, procfile.ErrDuplicate, procfile.ErrInvalidName, procfile.ErrEmptyCommand},
			entries: []string{"web", "worker"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Len(t, tt.is, len(tt.want), "test table: want and is differ in length")
			entries, err := procfile.Parse(strings.NewReader(tt.in))
			require.Error(t, err, "Parse(%q) = %v, want an error", tt.in, entries)
			errs := unjoin(err)
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.Error()
			}
			assert.Equal(t, tt.want, got, "Parse(%q) errors", tt.in)
			for i, e := range errs {
				if i >= len(tt.is) {
					break
				}
				assert.ErrorIs(t, e, tt.is[i], "error %d of Parse(%q)", i, tt.in)
				var pe *fileline.Error
				assert.ErrorAs(t, e, &pe, "error %d of Parse(%q) is not a *ParseError", i, tt.in)
			}
			assert.Equal(t, tt.entries, namesOrNil(entries), "entries Parse(%q) still returns", tt.in)
		})
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := procfile.Parse(iotest.ErrReader(boom))
	assert.ErrorIs(t, err, boom)
}

func TestParseBytesMatchesParse(t *testing.T) {
	in := "web: a\nworker: b\n"
	fromReader, err := procfile.Parse(strings.NewReader(in))
	require.NoError(t, err)
	fromBytes, err := procfile.ParseBytes([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, fromReader, fromBytes)
}

func TestParseFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Procfile")
	entries, err := procfile.ParseFile(path)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Empty(t, entries)
}

func TestParseFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Procfile")
	require.NoError(t, os.WriteFile(path, []byte("web: a\nworker b\n"), 0o644))
	entries, err := procfile.ParseFile(path)
	require.Error(t, err)
	assert.Equal(t, path+":2: expected NAME: COMMAND", err.Error())
	var pe *fileline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, path, pe.File)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, []string{"web"}, procfile.Names(entries))
}

// TestParseFileGolden checks the full error text of ParseFile for every
// testdata/procfile/*.Procfile against the .golden file beside it. A valid
// Procfile's golden file lists its entries instead. Run with -update to
// rewrite the golden files after a deliberate change.
func TestParseFileGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "procfile", "*.Procfile"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no golden test inputs")
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".Procfile")
		t.Run(name, func(t *testing.T) {
			entries, err := procfile.ParseFile(path)
			var got strings.Builder
			if err != nil {
				got.WriteString(err.Error() + "\n")
			} else {
				for _, e := range entries {
					got.WriteString(e.Name + " (line " + strconv.Itoa(e.Line) + "): " + e.Command + "\n")
				}
			}
			golden := strings.TrimSuffix(path, ".Procfile") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test ./procfile -run TestParseFileGolden -update")
			assert.Equal(t, string(want), got.String(), "ParseFile(%s)", path)
		})
	}
}

func TestNames(t *testing.T) {
	assert.Equal(t, []string{}, procfile.Names(nil))
	assert.Equal(t, []string{"web", "worker"}, procfile.Names([]procfile.Entry{{Name: "web"}, {Name: "worker"}}))
}

// unjoin returns the errors joined in err (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func namesOrNil(entries []procfile.Entry) []string {
	if len(entries) == 0 {
		return nil
	}
	return procfile.Names(entries)
}

// longContinuation is one entry continued over n lines.
func longContinuation(n int) string {
	return "web: echo" + strings.Repeat(" x\\\n", n) + " end\n"
}

func TestParseLongContinuation(t *testing.T) {
	entries, err := procfile.Parse(strings.NewReader(longContinuation(20000)))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "echo"+strings.Repeat(" x", 20000)+" end", entries[0].Command)
}

// BenchmarkParseLongContinuation guards against joining continued lines in
// quadratic time (a 130 KB input once took seconds).
func BenchmarkParseLongContinuation(b *testing.B) {
	in := []byte(longContinuation(30000))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := procfile.ParseBytes(in); err != nil {
			b.Fatal(err)
		}
	}
}
