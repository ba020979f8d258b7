//go:build unix && !linux

package runner

// procTree would tell which processes belong to an instance. Outside Linux
// proctor reads no process table: a port that accepts connections counts
// as the instance's.
type procTree struct{}

func readProcTree() *procTree { return &procTree{} }

// ownedBy reports true: ownership cannot be told here.
func (*procTree) ownedBy(int, []uint64) bool { return true }
