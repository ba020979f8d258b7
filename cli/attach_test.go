package cli

// Unit tests of attach's pure parts: the detach keys and the detacher. The
// end-to-end tests are in control_e2e_test.go.

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDetachKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"ctrl-p,ctrl-q", []byte{0x10, 0x11}},
		{"CTRL-A,d", []byte{0x01, 'd'}},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}},
		{"~,.", []byte{'~', '.'}},
		{"ctrl-z", []byte{0x1a}},
		{"x", []byte{'x'}},
	}
	for _, tt := range tests {
		got, err := parseDetachKeys(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", ",", "ctrl-p,", "ctrl-", "ctrl-1", "ctrl-pq", "ab", "é", "\x01", "ctrl-p, ctrl-q"} {
		_, err := parseDetachKeys(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestDetacher(t *testing.T) {
	tests := []struct {
		name   string
		seq    string
		chunks []string
		out    string // what is passed on, in all
		detach bool
	}{
		{"plain", "\x10\x11", []string{"hello"}, "hello", false},
		{"sequence", "\x10\x11", []string{"ab\x10\x11cd"}, "ab", true},
		{"split across reads", "\x10\x11", []string{"ab\x10", "\x11"}, "ab", true},
		{"first key alone passes on", "\x10\x11", []string{"\x10x"}, "\x10x", false},
		{"first key held until the next", "\x10\x11", []string{"a\x10"}, "a", false},
		{"first key twice", "\x10\x11", []string{"\x10\x10\x11"}, "\x10", true},
		{"overlapping prefix", "aab", []string{"aaab"}, "a", true},
		{"overlapping, no match", "aab", []string{"aaa", "c"}, "aaac", false},
		{"one key", "\x1d", []string{"x\x1dy"}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &detacher{seq: []byte(tt.seq)}
			var out []byte
			detach := false
			for _, c := range tt.chunks {
				fwd, done := d.feed([]byte(c))
				out = append(out, fwd...)
				if done {
					detach = true
					break
				}
			}
			assert.Equal(t, tt.out, string(out))
			assert.Equal(t, tt.detach, detach)
		})
	}
}

// FuzzDetacher: whatever is typed, the bytes passed on plus the bytes held
// back are what was typed, up to the end of the sequence.
func FuzzDetacher(f *testing.F) {
	f.Add([]byte("\x10\x11"), []byte("ab\x10\x10\x11"))
	f.Add([]byte("aab"), []byte("aaaab"))
	f.Fuzz(func(t *testing.T, seq, input []byte) {
		if len(seq) == 0 || len(seq) > 8 {
			return
		}
		d := &detacher{seq: seq}
		var out []byte
		for i, b := range input {
			fwd, detach := d.feed([]byte{b})
			out = append(out, fwd...)
			if detach {
				typed := input[:i+1]
				if !bytes.HasSuffix(typed, seq) {
					t.Fatalf("detached on %q, which does not end with %q", typed, seq)
				}
				if want := typed[:len(typed)-len(seq)]; !bytes.Equal(out, want) {
					t.Fatalf("passed on %q, want %q", out, want)
				}
				return
			}
			held := seq[:d.held]
			if got := append(append([]byte{}, out...), held...); !bytes.Equal(got, input[:i+1]) {
				t.Fatalf("passed on %q and held %q of %q", out, held, input[:i+1])
			}
		}
	})
}
