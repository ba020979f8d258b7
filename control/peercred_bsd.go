//go:build darwin || freebsd

package control

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerUID returns the user id of the process at the other end of c, as the
// kernel recorded it when the connection was made (LOCAL_PEERCRED, what
// getpeereid(3) reads).
func peerUID(c *net.UnixConn) (int, error) {
	return sockoptUID(c, func(fd int) (uint32, error) {
		cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		if err != nil {
			return 0, err
		}
		return cred.Uid, nil
	})
}
