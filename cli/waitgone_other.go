//go:build !linux

package cli

import "context"

// waitGone returns once process pid has ended; without pidfds it looks
// every 20 ms.
func waitGone(ctx context.Context, pid int) error { return pollGone(ctx, pid) }
