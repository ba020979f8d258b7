package lines

import "testing"

// TestN: N numbers the lines of both streams back in the order the child
// writes them.
func TestN(t *testing.T) {
	var seq [2]int
	for n := range 1000 {
		s := StreamOf(n)
		if got := N(s, seq[s]); got != n {
			t.Fatalf("N(%d, %d) = %d, want %d", s, seq[s], got, n)
		}
		seq[s]++
	}
}
