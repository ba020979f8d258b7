//go:build unix && !linux

package runner

import (
	"net"
	"strconv"
	"time"
)

// portLister tells which ports accept connections. The zero value is
// ready to use.
type portLister struct{}

// listening returns the ports of want that accept a connection on a
// loopback address; which socket answered is not known here (inode 0).
func (*portLister) listening(want map[int]bool) map[int][]uint64 {
	up := map[int][]uint64{}
	for port := range want {
		for _, host := range []string{"127.0.0.1", "::1"} {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 100*time.Millisecond)
			if err == nil {
				c.Close()
				up[port] = []uint64{0}
				break
			}
		}
	}
	return up
}

// listed cannot tell quickly here: complete is false, and BusyPorts tries
// every port.
func (*portLister) listed(map[int]bool) (map[int][]uint64, bool) { return nil, false }
