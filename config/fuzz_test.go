package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/proctor-run/proctor/config"
	"github.com/proctor-run/proctor/fileline"
)

// FuzzConfigParse checks that Parse never panics, that errors are *Error on
// a line of the input, and that accepted settings have distinct, non-empty
// keys on increasing lines and survive a round trip as "key: value" lines.
func FuzzConfigParse(f *testing.F) {
	for _, s := range []string{
		"port: 3000\nprocfile: Procfile.dev\n",
		"---\n# c\nenv: \".env,.env.local\"\r\n",
		"\ufeffformation: 'all=1'",
		"port\n", ": x\n", "a: 1\na: 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		settings, err := config.Parse(data)
		if err != nil {
			var ce *fileline.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse(%q): %v (%T) is not a *fileline.Error", data, err, err)
			}
			if lines := strings.Count(string(data), "\n") + 1; ce.Line < 1 || ce.Line > lines {
				t.Fatalf("Parse(%q): error on line %d of %d", data, ce.Line, lines)
			}
			return
		}
		seen := map[string]bool{}
		last := 0
		// The comment keeps a key that is itself a BOM from being read as
		// the file's BOM.
		var rebuilt strings.Builder
		rebuilt.WriteString("# rebuilt\n")
		for _, s := range settings {
			switch {
			case s.Key == "" || seen[s.Key]:
				t.Fatalf("Parse(%q): key %q empty or repeated", data, s.Key)
			case s.Line <= last:
				t.Fatalf("Parse(%q): %q on line %d after line %d", data, s.Key, s.Line, last)
			case strings.ContainsAny(s.Key+s.Value, "\n"):
				t.Fatalf("Parse(%q): %q: %q holds a newline", data, s.Key, s.Value)
			}
			seen[s.Key], last = true, s.Line
			// Quote the value so that quotes, spaces and '#' inside it
			// come back as they are.
			rebuilt.WriteString(s.Key + ": '" + s.Value + "'\n")
		}
		again, err := config.Parse([]byte(rebuilt.String()))
		if err != nil {
			t.Fatalf("Parse(%q) = %v, written back as %q: %v", data, settings, rebuilt.String(), err)
		}
		if len(again) != len(settings) {
			t.Fatalf("round trip of %q via %q: %v, then %v", data, rebuilt.String(), settings, again)
		}
		for i := range again {
			if again[i].Key != settings[i].Key || again[i].Value != settings[i].Value {
				t.Fatalf("round trip of %q via %q: %v, then %v", data, rebuilt.String(), settings, again)
			}
		}
	})
}
