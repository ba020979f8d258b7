//go:build !linux

package output

import "io"

// readyWaiter is not available here: Copy keeps its buffer and blocks in
// Read.
type readyWaiter struct{}

func newReadyWaiter(io.Reader) *readyWaiter { return nil }

func (*readyWaiter) wait() {}

func (*readyWaiter) enlarge(int) bool { return false }
