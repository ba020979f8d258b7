package procfile_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/proctor-run/proctor/procfile"
)

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// FuzzParse checks that Parse never panics and that whatever entries it
// returns, with or without errors, are runnable and survive a round trip:
// writing them back as "NAME: COMMAND" lines and parsing again gives the same
// names and commands, without errors.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "procfile", "*.Procfile"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := procfile.Parse(strings.NewReader(in))
		if err == nil && len(entries) == 0 {
			t.Fatalf("Parse(%q): no entries and no error", in)
		}
		lines := strings.Count(in, "\n") + 1
		seen := map[string]bool{}
		var rebuilt strings.Builder
		for _, e := range entries {
			switch {
			case seen[e.Name]:
				t.Fatalf("Parse(%q): duplicate name %q", in, e.Name)
			case !validName.MatchString(e.Name):
				t.Fatalf("Parse(%q): invalid name %q", in, e.Name)
			case strings.TrimSpace(e.Command) == "":
				t.Fatalf("Parse(%q): %s has an empty command", in, e.Name)
			case strings.ContainsAny(e.Command, "\x00\n"):
				t.Fatalf("Parse(%q): %s command %q holds a NUL or newline", in, e.Name, e.Command)
			case e.Line < 1 || e.Line > lines:
				t.Fatalf("Parse(%q): %s on line %d", in, e.Name, e.Line)
			}
			seen[e.Name] = true
			rebuilt.WriteString(e.Name + ": " + e.Command + "\n")
		}
		if len(entries) == 0 {
			return
		}
		again, err := procfile.Parse(strings.NewReader(rebuilt.String()))
		if err != nil {
			t.Fatalf("Parse(%q) gave entries that do not parse again: %q: %v", in, rebuilt.String(), err)
		}
		if len(again) != len(entries) {
			t.Fatalf("round trip of %q: %d entries, then %d from %q", in, len(entries), len(again), rebuilt.String())
		}
		for i := range again {
			if again[i].Name != entries[i].Name || again[i].Command != entries[i].Command {
				t.Fatalf("round trip of %q: entry %d was %q: %q, then %q: %q",
					in, i, entries[i].Name, entries[i].Command, again[i].Name, again[i].Command)
			}
		}
	})
}

// FuzzParseFormation checks that ParseFormation never panics, keeps counts
// within 0..MaxCount, and that a parsed formation written back as
// "TYPE=N,..." parses to the same value.
func FuzzParseFormation(f *testing.F) {
	for _, s := range []string{"all=1", "web=2", "all=1,web=2,worker=0", " web = 2 , all=0", "web=-1", "web=+5", "web=1,web=2", "web=10001", "=", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fm, err := procfile.ParseFormation(in)
		if err != nil {
			return
		}
		var pairs []string
		if fm.HasAll {
			if fm.All < 0 || fm.All > procfile.MaxCount {
				t.Fatalf("ParseFormation(%q): all=%d", in, fm.All)
			}
			pairs = append(pairs, "all="+strconv.Itoa(fm.All))
		} else if fm.All != 0 {
			t.Fatalf("ParseFormation(%q): All=%d without HasAll", in, fm.All)
		}
		seen := map[string]bool{}
		for _, tc := range fm.Counts {
			switch {
			case tc.Count < 0 || tc.Count > procfile.MaxCount:
				t.Fatalf("ParseFormation(%q): %s=%d", in, tc.Type, tc.Count)
			case !validName.MatchString(tc.Type) || tc.Type == "all":
				t.Fatalf("ParseFormation(%q): type %q", in, tc.Type)
			case seen[tc.Type]:
				t.Fatalf("ParseFormation(%q): %q twice", in, tc.Type)
			}
			seen[tc.Type] = true
			pairs = append(pairs, tc.Type+"="+strconv.Itoa(tc.Count))
		}
		text := strings.Join(pairs, ",")
		again, err := procfile.ParseFormation(text)
		if err != nil {
			t.Fatalf("ParseFormation(%q) = %+v, written back as %q: %v", in, fm, text, err)
		}
		if again.All != fm.All || again.HasAll != fm.HasAll || len(again.Counts) != len(fm.Counts) {
			t.Fatalf("round trip of %q via %q: %+v, then %+v", in, text, fm, again)
		}
		for i := range again.Counts {
			if again.Counts[i] != fm.Counts[i] {
				t.Fatalf("round trip of %q via %q: %+v, then %+v", in, text, fm, again)
			}
		}
	})
}
