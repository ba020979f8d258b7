package runner

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// listeningPorts returns which of want have a TCP socket in the LISTEN
// state, from /proc/net/tcp and /proc/net/tcp6: two reads for all ports.
func listeningPorts(want map[int]bool) map[int]bool {
	up := map[int]bool{}
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			if port, ok := parseListenLine(sc.Bytes()); ok && want[port] {
				up[port] = true
			}
		}
		f.Close()
	}
	return up
}

// parseListenLine reads one line of /proc/net/tcp:
// "  0: 0100007F:1388 00000000:0000 0A ...", local address, remote address,
// state (0A is LISTEN). It returns the local port of a listening socket.
func parseListenLine(line []byte) (int, bool) {
	fields := bytes.Fields(line)
	if len(fields) < 4 || string(fields[3]) != "0A" {
		return 0, false
	}
	i := bytes.LastIndexByte(fields[1], ':')
	if i < 0 {
		return 0, false
	}
	port, err := strconv.ParseUint(string(fields[1][i+1:]), 16, 16)
	return int(port), err == nil
}
