package cli

// Fuzz tests of the parsers of package cli: the detach keys of attach and
// the seconds of -t/--timeout. (The detacher, which watches keystrokes, has
// FuzzDetacher in attach_test.go.)

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDetachKeys: a sequence is refused or gives one byte per key,
// each a printable character or a control character, and writing those
// bytes back as keys parses to the same sequence.
func FuzzParseDetachKeys(f *testing.F) {
	for _, s := range []string{"ctrl-p,ctrl-q", "CTRL-A,d", `ctrl-@,ctrl-[,ctrl-\,ctrl-],ctrl-^,ctrl-_`, "~,.", "", ",", "ctrl-", "ctrl-pq", "é", "ctrl-\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := parseDetachKeys(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--detach-keys") {
				t.Fatalf("parseDetachKeys(%q): error %q does not name the flag", s, err)
			}
			return
		}
		if want := strings.Count(s, ",") + 1; len(seq) != want {
			t.Fatalf("parseDetachKeys(%q) = %q: %d keys, want %d", s, seq, len(seq), want)
		}
		keys := make([]string, len(seq))
		for i, b := range seq {
			switch {
			case b >= ' ' && b <= '~':
				keys[i] = string(b)
			case b < ' ':
				keys[i] = "ctrl-" + string(b+'@')
			default:
				t.Fatalf("parseDetachKeys(%q) = %q: byte %#x is no key", s, seq, b)
			}
		}
		again, err := parseDetachKeys(strings.Join(keys, ","))
		if err != nil || string(again) != string(seq) {
			t.Fatalf("parseDetachKeys(%q) = %q, but %q gives %q, %v", s, seq, strings.Join(keys, ","), again, err)
		}
	})
}

// FuzzSeconds: a duration is refused or within 0 to 24 hours, and what it
// prints (the default that help shows) sets it again,
// to the nanosecond but for float rounding.
func FuzzSeconds(f *testing.F) {
	for _, s := range []string{"5", "2.5", "500ms", "0", "86400", "86400.000000001", "1e3", "-1", "NaN", "Inf", "1e300", "9.3e9", "0x10", "1h30m", ".5", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d seconds
		if err := d.Set(s); err != nil {
			return
		}
		if got := time.Duration(d); got < 0 || got > 24*time.Hour {
			t.Fatalf("Set(%q) accepted %v", s, got)
		}
		var again seconds
		if err := again.Set(d.String()); err != nil {
			t.Fatalf("Set(%q) = %v, but its String %q is refused: %v", s, time.Duration(d), d.String(), err)
		}
		if diff := time.Duration(again - d); diff < -time.Microsecond || diff > time.Microsecond {
			t.Fatalf("Set(%q) = %v, String %q sets %v", s, time.Duration(d), d.String(), time.Duration(again))
		}
	})
}
