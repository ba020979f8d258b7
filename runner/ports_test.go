package runner

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

// forEachListener calls check with a port while addr listens on it and
// again once it stopped, for a loopback listener of each family and a
// wildcard one.
func forEachListener(t *testing.T, check func(addr string, port int, listening bool)) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "0.0.0.0:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("no listener on %s: %v", addr, err) // a machine without IPv6
			continue
		}
		port := l.Addr().(*net.TCPAddr).Port
		check(addr, port, true)
		l.Close()
		check(addr, port, false)
	}
}

func TestPortInUse(t *testing.T) {
	forEachListener(t, func(addr string, port int, listening bool) {
		if listening {
			assert.True(t, PortInUse(port), "port %d while %s listens on it", port, addr)
		} else {
			assert.False(t, PortInUse(port), "port %d once %s stopped listening", port, addr)
		}
	})
}

func TestBusyPorts(t *testing.T) { checkBusyPorts(t, BusyPorts) }

// TestBusyPortsWithoutListing covers the systems where the listening
// sockets cannot be listed (not Linux, no sock_diag): every port is tried
// by binding, so a held port is still found.
func TestBusyPortsWithoutListing(t *testing.T) {
	checkBusyPorts(t, func(ports []int) []int { return tryPorts(ports, nil, false) })
	// A complete listing without the port: it is not tried at all, even
	// though a socket listens on it here; a listing that has the port gets
	// it tried and found held.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := l.Addr().(*net.TCPAddr).Port
	assert.Empty(t, tryPorts([]int{held}, map[int][]uint64{}, true))
	assert.Equal(t, []int{held}, tryPorts([]int{held}, map[int][]uint64{held: nil}, true))
}

// checkBusyPorts checks that busyPorts finds a port held by each listener
// of forEachListener, and only while it listens.
func checkBusyPorts(t *testing.T, busyPorts func([]int) []int) {
	free := freePort(t)
	forEachListener(t, func(addr string, port int, listening bool) {
		if listening {
			assert.Equal(t, []int{port}, busyPorts([]int{free, port, free}), "%s listens on %d, nothing on %d", addr, port, free)
		} else {
			assert.Empty(t, busyPorts([]int{free, port}), "%s stopped listening", addr)
		}
	})
}

// freePort returns a port that nothing listened on a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// BenchmarkBusyPorts is the check made before a stack of 100 starts.
func BenchmarkBusyPorts(b *testing.B) {
	ports := make([]int, 100)
	for i := range ports {
		ports[i] = 47000 + i
	}
	for b.Loop() {
		BusyPorts(ports)
	}
}

// BenchmarkPortInUse is the check made for each instance before the start.
func BenchmarkPortInUse(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	b.ReportAllocs()
	for b.Loop() {
		PortInUse(port)
	}
}
