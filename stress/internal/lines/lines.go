// Package lines is what the stress suite's child writes and what the suite
// checks it against: one definition of each line, so that every byte of
// the output can be verified.
package lines

import "strconv"

// Append appends line number seq of stream s (0 stdout, 1 stderr) of
// instance name, with its line end: "NAME o|e SEQ PAYLOAD\n". The payload
// is a function of name, s and seq alone: 16 to 128 bytes, or 100 KiB and
// more for a long line (longer than a pipe holds).
func Append(dst []byte, name string, s, seq int, long bool) []byte {
	dst = append(dst, name...)
	dst = append(dst, ' ', StreamLetter(s), ' ')
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, ' ')
	n := 16 + (seq*7919+len(name)*31+s*17)%113
	if long {
		n = 100<<10 + seq%4096
	}
	c := byte((seq + len(name)) % 26)
	for i := range n {
		dst = append(dst, 'a'+(c+byte(i%26))%26)
	}
	return append(dst, '\n')
}

// StreamLetter is "o" for stdout (0) and "e" for stderr (1).
func StreamLetter(s int) byte { return "oe"[s] }

// IsLong tells whether line n (counting both streams) of a child told to
// make every longth line long is a long one.
func IsLong(n, long int) bool { return long > 0 && n%long == long-1 }

// StreamOf tells the stream of line n (counting both streams): every fifth
// goes to stderr.
func StreamOf(n int) int {
	if n%5 == 4 {
		return 1
	}
	return 0
}

// Big is byte i of the line without a newline of the bigline child.
func Big(i int64) byte { return 'A' + byte((i/4096)%26) }

// N is the number, counting both streams, of line seq of stream s: the
// inverse of StreamOf and the per-stream numbering.
func N(s, seq int) int {
	if s == 1 {
		return 5*seq + 4
	}
	return seq/4*5 + seq%4
}
