package runner

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/proctor-run/proctor/internal/procenv"
)

// procChild is a process whose parent is proctor.
type procChild struct {
	pid, pgid int
}

// listChildren returns proctor's children as the kernel sees them, found by
// reading /proc/PID/stat. It is used at shutdown to find descendants adopted
// as a subreaper, which are not instances.
func listChildren() []procChild {
	self := os.Getpid()
	names := procenv.PIDs()
	var out []procChild
	buf := make([]byte, 0, 512)
	for _, pid := range names {
		if pid == self {
			continue
		}
		ppid, pgid, ok := readStat(pid, buf)
		if ok && ppid == self {
			out = append(out, procChild{pid: pid, pgid: pgid})
		}
	}
	return out
}

// readStat returns the parent pid and process group of pid. It calls the
// system directly (open, read, close): it runs once per process on the
// machine each time listChildren scans, and os.Open would add an fstat and
// a File with its cleanup for each.
func readStat(pid int, buf []byte) (ppid, pgid int, ok bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, false
	}
	defer unix.Close(fd)
	var n int
	for {
		n, err = unix.Read(fd, buf[:cap(buf)])
		if err != unix.EINTR {
			break
		}
	}
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	return parseStat(buf[:n])
}

// parseStat reads ppid and pgrp from the text of /proc/PID/stat:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and parens.
func parseStat(stat []byte) (ppid, pgid int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	rest := stat[i+1:]
	var fields [3][]byte // state, ppid, pgrp
	for k := range fields {
		rest = bytes.TrimLeft(rest, " \n")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		fields[k], rest = rest[:end], rest[end:]
	}
	ppid, err1 := strconv.Atoi(string(fields[1]))
	pgid, err2 := strconv.Atoi(string(fields[2]))
	return ppid, pgid, err1 == nil && err2 == nil
}
