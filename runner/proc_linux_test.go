package runner

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		in         string
		ppid, pgid int
		ok         bool
	}{
		{"123 (sleep) S 45 123 45 0 -1", 45, 123, true},
		{"123 (a) b) c) S 45 67 45 0", 45, 67, true},
		{"123 (my prog) R 1 1 1", 1, 1, true},
		{"123 (x) S", 0, 0, false},
		{"garbage", 0, 0, false},
		{"1 (x) S a b", 0, 0, false},
	}
	for _, tt := range tests {
		ppid, pgid, ok := parseStat([]byte(tt.in))
		assert.Equal(t, tt.ok, ok, "parseStat(%q) ok", tt.in)
		if tt.ok {
			assert.Equal(t, tt.ppid, ppid, "parseStat(%q) ppid", tt.in)
			assert.Equal(t, tt.pgid, pgid, "parseStat(%q) pgid", tt.in)
		}
	}
}

func TestParseListenLine(t *testing.T) {
	tests := []struct {
		in    string
		port  int
		inode uint64
		ok    bool
	}{
		{"   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0", 5000, 4242, true},
		{"   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", 80, 1, true},
		{"   2: 0100007F:1388 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000     0        0 1", 0, 0, false},
		{"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1", 8080, 77, true},
		{"   0: 0100007F:1388 00000000:0000 0A 0", 0, 0, false},
		{"   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x", 0, 0, false},
		{"short", 0, 0, false},
		{"   0: nocolon 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", 0, 0, false},
	}
	for _, tt := range tests {
		port, inode, ok := parseListenLine([]byte(tt.in))
		assert.Equal(t, tt.ok, ok, "parseListenLine(%q) ok", tt.in)
		if tt.ok {
			assert.Equal(t, tt.port, port, "parseListenLine(%q) port", tt.in)
			assert.Equal(t, tt.inode, inode, "parseListenLine(%q) inode", tt.in)
		}
	}
}
