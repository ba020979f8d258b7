package control

import "net"

// sockoptUID runs get on the descriptor of c and returns the user id it
// reads: the part of peerUID every system shares.
func sockoptUID(c *net.UnixConn, get func(fd int) (uint32, error)) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var uid uint32
	var serr error
	if err := rc.Control(func(fd uintptr) { uid, serr = get(int(fd)) }); err != nil {
		return -1, err
	}
	if serr != nil {
		return -1, serr
	}
	return int(uid), nil
}
