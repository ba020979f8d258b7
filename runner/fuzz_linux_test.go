package runner

// Fuzz tests of what the runner parses from the kernel: /proc/PID/stat,
// /proc/net/tcp and sock_diag replies. The kernel is trusted, but a parser
// that panics on a line it did not expect would take the supervisor down.

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseStat: a stat line built from any comm (spaces, parentheses and
// newlines included) gives back its ppid and pgrp; any other bytes give a
// result or ok=false, never a panic.
func FuzzParseStat(f *testing.F) {
	f.Add("sh", int32(1), int32(42), []byte("42 (sh) S 1 42 42 0 -1"))
	f.Add("a) b (c", int32(7), int32(8), []byte("1 (a) b (c) R 7 8"))
	f.Add(" \n)", int32(0), int32(-1), []byte(")"))
	f.Add("", int32(2147483647), int32(2), []byte("1 (x) S"))
	f.Fuzz(func(t *testing.T, comm string, ppid, pgid int32, raw []byte) {
		stat := fmt.Sprintf("%d (%s) S %d %d 0 -1 4194560 0 0", 12345, comm, ppid, pgid)
		gotPpid, gotPgid, ok := parseStat([]byte(stat))
		if !ok || gotPpid != int(ppid) || gotPgid != int(pgid) {
			t.Fatalf("parseStat(%q) = %d, %d, %v; want %d, %d", stat, gotPpid, gotPgid, ok, ppid, pgid)
		}
		parseStat(raw)
	})
}

// FuzzParseListenLine: a /proc/net/tcp line built from any port and state
// gives the port exactly when the state is LISTEN (0A); other bytes give a
// port that fits in 16 bits or nothing.
func FuzzParseListenLine(f *testing.F) {
	f.Add(uint16(5000), uint8(0x0A), []byte("   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000"))
	f.Add(uint16(80), uint8(1), []byte("  sl  local_address rem_address   st"))
	f.Add(uint16(0), uint8(0x0A), []byte("0: :FFFFF x 0A"))
	f.Fuzz(func(t *testing.T, port uint16, state uint8, raw []byte) {
		line := fmt.Sprintf("  12: 00000000000000000000000001000000:%04X 00000000000000000000000000000000:0000 %02X 00000000:00000000 00:00000000 00000000  1000        0 %d 1", port, state, 7000+int(port))
		got, inode, ok := parseListenLine([]byte(line))
		if ok != (state == 0x0A) || ok && (got != int(port) || inode != 7000+uint64(port)) {
			t.Fatalf("parseListenLine(%q) = %d, %d, %v", line, got, inode, ok)
		}
		if got, _, ok := parseListenLine(raw); ok && (got < 0 || got > 65535) {
			t.Fatalf("parseListenLine(%q) = %d", raw, got)
		}
	})
}

// FuzzDiagMessages: a sock_diag reply made of one message per port, then
// NLMSG_DONE, reports exactly the ports asked for, each with its socket's
// inode; any other datagram
// reports only ports asked for, or an error, never a panic.
func FuzzDiagMessages(f *testing.F) {
	f.Add([]byte{0x13, 0x88, 0x00, 0x50}, []byte{}, true)
	f.Add([]byte{0x00, 0x16}, []byte{16, 0, 0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{}, []byte{20, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf5, 0xff, 0xff, 0xff}, true)
	f.Fuzz(func(t *testing.T, ports, raw []byte, v6 bool) {
		family := uint8(unix.AF_INET)
		if v6 {
			family = unix.AF_INET6
		}
		want := map[int]bool{}
		var dgram []byte
		expect := map[int][]uint64{}
		for i := 0; i+1 < len(ports); i += 2 {
			port := int(binary.BigEndian.Uint16(ports[i:]))
			inode := uint32(100 + i)
			if i%4 == 0 { // every other port is asked for
				want[port] = true
				expect[port] = append(expect[port], uint64(inode))
			}
			// nlmsghdr, then inet_diag_msg: family, state, timer,
			// retrans, then the sockid whose first field is the port.
			msg := make([]byte, unix.SizeofNlMsghdr+72)
			binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
			binary.NativeEndian.PutUint16(msg[4:], unix.SOCK_DIAG_BY_FAMILY)
			body := msg[unix.SizeofNlMsghdr:]
			body[0], body[1] = family, tcpListenState
			binary.BigEndian.PutUint16(body[diagMsgPortOff:], uint16(port))
			binary.NativeEndian.PutUint32(body[diagMsgInodeOff:], inode)
			dgram = append(dgram, msg...)
		}
		doneMsg := make([]byte, unix.SizeofNlMsghdr+4)
		binary.NativeEndian.PutUint32(doneMsg[0:], uint32(len(doneMsg)))
		binary.NativeEndian.PutUint16(doneMsg[4:], unix.NLMSG_DONE)
		dgram = append(dgram, doneMsg...)
		up := map[int][]uint64{}
		done, err := diagMessages(dgram, family, want, up)
		if !done || err != nil || !maps.EqualFunc(up, expect, slices.Equal) {
			t.Fatalf("diagMessages(ports %x) = %v, %v, up %v; want %v", ports, done, err, up, expect)
		}
		up = map[int][]uint64{}
		diagMessages(raw, family, want, up)
		for p := range up {
			if !want[p] {
				t.Fatalf("diagMessages(%x) reported port %d, not asked for", raw, p)
			}
		}
	})
}
