package cli

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// waitGone returns once process pid has ended (it need not be a child):
// its pidfd becomes readable then. Without pidfds (Linux before 5.3) it
// looks every 20 ms.
func waitGone(ctx context.Context, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return pollGone(ctx, pid)
	}
	defer unix.Close(fd)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		// A bounded wait, to notice ctx: at most 5 wakeups a second while
		// a stack stops.
		n, err := unix.Poll(fds, 200)
		if n > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
}
