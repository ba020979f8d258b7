//go:build unix && !linux

package runner

// procChild is a process whose parent is proctor.
type procChild struct {
	pid, pgid int
}

// listChildren finds no adopted descendants: without a subreaper there are
// none to find.
func listChildren() []procChild { return nil }
