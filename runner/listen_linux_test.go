package runner

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestListeningPorts(t *testing.T) {
	var want = map[int]bool{}
	var listening []int
	inodes := map[int]uint64{} // port -> inode of its listening socket
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("no listener on %s: %v", addr, err) // a machine without IPv6
			continue
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		want[port] = true
		listening = append(listening, port)
		inodes[port] = socketInode(t, l.(*net.TCPListener))
	}
	require.NotEmpty(t, listening)
	// A port that was bound and closed again: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	want[closed] = true

	t.Run("sock_diag", func(t *testing.T) {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
		if err != nil {
			t.Skipf("no sock_diag netlink socket here: %v", err)
		}
		defer unix.Close(fd)
		got := map[int][]uint64{}
		buf := make([]byte, diagBufSize)
		require.NoError(t, diagListening(fd, unix.AF_INET, buf, want, got))
		assert.Equal(t, []uint64{inodes[listening[0]]}, got[listening[0]], "diagListening: port %d listens on 127.0.0.1, got %v", listening[0], got)
		assert.NotContains(t, got, closed, "diagListening: port %d is closed", closed)
	})
	t.Run("portLister", func(t *testing.T) {
		var l portLister
		got := l.listening(want)
		for _, port := range listening {
			assert.Equal(t, []uint64{inodes[port]}, got[port], "listening: port %d listens, got %v", port, got)
		}
		assert.NotContains(t, got, closed, "listening: port %d is closed", closed)
		assert.Equal(t, got, l.listening(want), "a second call, reusing the buffer")
	})
	t.Run("proc", func(t *testing.T) {
		got := map[int][]uint64{}
		procListening("/proc/net/tcp", want, got)
		procListening("/proc/net/tcp6", want, got)
		for _, port := range listening {
			assert.Equal(t, []uint64{inodes[port]}, got[port], "procListening: port %d listens, got %v", port, got)
		}
		assert.NotContains(t, got, closed, "procListening: port %d is closed", closed)
	})
}

// BenchmarkListeningPorts is the cost of one readiness probe.
func BenchmarkListeningPorts(b *testing.B) {
	want := map[int]bool{5000: true, 5001: true}
	b.Run("netlink", func(b *testing.B) {
		b.ReportAllocs()
		var l portLister
		for b.Loop() {
			l.listening(want)
		}
	})
	b.Run("proc", func(b *testing.B) {
		up := map[int][]uint64{}
		for b.Loop() {
			procListening("/proc/net/tcp", want, up)
			procListening("/proc/net/tcp6", want, up)
		}
	})
}

// socketInode returns the inode of l's socket, as fstat gives it.
func socketInode(t *testing.T, l *net.TCPListener) uint64 {
	t.Helper()
	raw, err := l.SyscallConn()
	require.NoError(t, err)
	var st unix.Stat_t
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }))
	require.NoError(t, serr)
	return st.Ino
}
