//go:build unix && !linux

package runner

// listChildren finds no adopted descendants: without a subreaper there are
// none to find.
func listChildren() []int { return nil }

// processGroup is not needed without a subreaper.
func processGroup(int) (int, bool) { return 0, false }
