//go:build unix && !linux

package runner

// listChildren finds no adopted descendants: without a subreaper there are
// none to find.
func listChildren(...int) []int { return nil }

// canListChildren is false: listChildren finds nothing here, so the
// shutdown waits until wait4 finds no child at all.
func canListChildren() bool { return false }

// processGroup is not needed without a subreaper.
func processGroup(int) (int, bool) { return 0, false }
