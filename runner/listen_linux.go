package runner

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// portLister tells which ports have a listening TCP socket, and which
// sockets those are. It keeps its
// read buffer between calls: the prober asks up to 50 times a second while
// instances start. The zero value is ready to use; it is not safe for
// concurrent use.
type portLister struct {
	buf []byte
}

// listening returns, for each port of want that has TCP sockets in the
// LISTEN state (IPv4 and IPv6), the inodes of those sockets, by which
// ownedBy finds the process that holds them.
//
// It asks the kernel with one sock_diag netlink dump per address family,
// restricted to listening sockets, so the kernel walks only its listening
// hash: about 50 µs on a 2-core VM. Reading /proc/net/tcp instead walks
// every bucket of the established hash too, about 2.5 ms on the same
// machine with no sockets at all, and the prober asks up to 50 times a
// second while instances start. A family that netlink cannot answer (no
// inet_diag in the kernel, a sandbox refusing netlink sockets) is read
// from /proc/net/tcp or /proc/net/tcp6.
func (l *portLister) listening(want map[int]bool) map[int][]uint64 {
	up, _ := l.listed(want)
	return up
}

// listed is listening, and also reports whether both address families
// could be asked.
func (l *portLister) listed(want map[int]bool) (up map[int][]uint64, complete bool) {
	up = map[int][]uint64{}
	complete = true
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err == nil {
		defer unix.Close(fd)
	}
	for _, fam := range []struct {
		family uint8
		proc   string
	}{{unix.AF_INET, "/proc/net/tcp"}, {unix.AF_INET6, "/proc/net/tcp6"}} {
		if err == nil {
			if l.buf == nil {
				l.buf = make([]byte, diagBufSize)
			}
			if diagListening(fd, fam.family, l.buf, want, up) == nil {
				continue
			}
		}
		if !procListening(fam.proc, want, up) {
			complete = false
		}
	}
	return up, complete
}

// procListening adds the ports of want that path (/proc/net/tcp or tcp6)
// shows listening to up, with their sockets' inodes. It reports false when
// path cannot be read.
func procListening(path string, want map[int]bool, up map[int][]uint64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		if port, inode, ok := parseListenLine(sc.Bytes()); ok && want[port] {
			up[port] = append(up[port], inode)
		}
	}
	return sc.Err() == nil
}

// parseListenLine reads one line of /proc/net/tcp:
// "  0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000
// 00000000 1000 0 12345 ...": local address, remote address, state (0A is
// LISTEN), queues, timer, retransmits, uid, timeouts, inode. It returns the
// local port and the inode of a listening socket.
func parseListenLine(line []byte) (port int, inode uint64, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 10 || string(fields[3]) != "0A" {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(fields[1], ':')
	if i < 0 {
		return 0, 0, false
	}
	p, err := strconv.ParseUint(string(fields[1][i+1:]), 16, 16)
	if err != nil {
		return 0, 0, false
	}
	inode, err = strconv.ParseUint(string(fields[9]), 10, 64)
	return int(p), inode, err == nil
}

// The sock_diag request and reply layouts (linux/inet_diag.h), read and
// written by hand: x/sys/unix has the constants but not these structs.
const (
	// diagBufSize holds every dump message the kernel builds for a reader
	// that asks for this much (it sizes them by the reader's largest
	// recvmsg, and by a page at first); a truncated one is an error.
	diagBufSize = 8 << 10
	// inet_diag_req_v2: family, protocol, ext, pad (1 byte each), states
	// (u32), then the 48-byte inet_diag_sockid.
	diagReqLen = 56
	// inet_diag_msg: family, state, timer, retrans (1 byte each), then
	// inet_diag_sockid, whose first field is the local port, big-endian;
	// after the 48-byte sockid come expires, rqueue, wqueue and uid (u32
	// each), then the socket's inode.
	diagMsgPortOff  = 4
	diagMsgInodeOff = 4 + 48 + 16
	tcpListenState  = 10 // TCP_LISTEN
)

var errDiag = errors.New("sock_diag: malformed reply")

// diagListening dumps the listening TCP sockets of family through the
// netlink socket fd and adds the local ports that are in want to up, with
// their sockets' inodes.
func diagListening(fd int, family uint8, buf []byte, want map[int]bool, up map[int][]uint64) error {
	req := make([]byte, unix.SizeofNlMsghdr+diagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))                   // nlmsg_len
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)           // nlmsg_type
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP) // nlmsg_flags
	body := req[unix.SizeofNlMsghdr:]
	body[0], body[1] = family, unix.IPPROTO_TCP                // sdiag_family, sdiag_protocol
	binary.NativeEndian.PutUint32(body[4:], 1<<tcpListenState) // idiag_states
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	for {
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if flags&unix.MSG_TRUNC != 0 {
			return errDiag
		}
		if done, err := diagMessages(buf[:n], family, want, up); done || err != nil {
			return err
		}
	}
}

// diagMessages reads the netlink messages of one sock_diag reply datagram
// and adds the local ports that are in want to up, with their sockets'
// inodes. done reports the end of the dump (NLMSG_DONE, or an error).
func diagMessages(msgs []byte, family uint8, want map[int]bool, up map[int][]uint64) (done bool, err error) {
	for len(msgs) > 0 {
		if len(msgs) < unix.SizeofNlMsghdr {
			return true, errDiag
		}
		l := int(binary.NativeEndian.Uint32(msgs[0:]))
		if l < unix.SizeofNlMsghdr || l > len(msgs) {
			return true, errDiag
		}
		payload := msgs[unix.SizeofNlMsghdr:l]
		switch binary.NativeEndian.Uint16(msgs[4:]) {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) >= 4 {
				if errno := int32(binary.NativeEndian.Uint32(payload)); errno < 0 {
					return true, unix.Errno(-errno)
				}
			}
			return true, errDiag
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(payload) < diagMsgInodeOff+4 || payload[0] != family {
				return true, errDiag
			}
			if port := int(binary.BigEndian.Uint16(payload[diagMsgPortOff:])); want[port] {
				up[port] = append(up[port], uint64(binary.NativeEndian.Uint32(payload[diagMsgInodeOff:])))
			}
		}
		msgs = msgs[min((l+3)&^3, len(msgs)):] // messages are 4-byte aligned
	}
	return false, nil
}
