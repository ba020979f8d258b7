package runner

import (
	"errors"
	"net"
	"strconv"
	"syscall"
)

// portInUse reports whether something already holds port on a loopback
// address (127.0.0.1, and ::1 where the machine has IPv6).
func portInUse(port int) bool {
	for _, host := range []string{"127.0.0.1", "::1"} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			l.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return true
		}
		// EADDRNOTAVAIL and the like: no such address here, nothing to hold it.
	}
	return false
}
