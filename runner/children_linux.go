package runner

import (
	"bytes"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/proctor-run/proctor/internal/procenv"
)

// listChildren returns the pids of proctor's children as the kernel sees
// them, running or not yet reaped. It is used at shutdown to find
// descendants adopted as a subreaper, which are not instances, and to see
// when only the guardian is left.
//
// Each thread's /proc/self/task/TID/children lists the children it forked
// or was given as the subreaper: a read per thread (a handful), where a
// scan of /proc reads the stat of every process on the machine (about 20 ms
// of the shutdown of 100 instances, three scans, on a 2-vCPU VM). Like the
// scan, it is a snapshot: a child forked or reaped meanwhile may be missed.
// (At shutdown nothing is forked, and a child reaped meanwhile is not
// wanted.) Kernels without
// CONFIG_PROC_CHILDREN have no such file; the scan is kept for them.
//
// With parents, only the children files of those threads are read, and of
// the main thread: the kernel gives an orphan to the subreaper's first
// thread that is not exiting, which is the main thread (Go's never exits
// before the process), and so are the children of a thread that exits.
// The runner passes its spawner's threads, which fork every child: 3
// files read instead of one per thread (10 at a shutdown of 100, twice on
// its last steps).
func listChildren(parents ...int) []int {
	buf := make([]byte, 0, 4096)
	var tids []string
	if len(parents) > 0 {
		tids = append(tids, strconv.Itoa(os.Getpid()))
		for _, tid := range parents {
			tids = append(tids, strconv.Itoa(tid))
		}
	} else {
		var err error
		if tids, err = threadIDs(buf); err != nil {
			return scanChildren()
		}
	}
	var out []int
	for _, tid := range tids {
		data, err := readProcFile("/proc/self/task/"+tid+"/children", buf)
		if err != nil {
			if err == unix.ENOENT && len(out) == 0 {
				return scanChildren()
			}
			continue // the thread has exited
		}
		buf = data[:0]
		for _, f := range bytes.Fields(data) {
			if pid, err := strconv.Atoi(string(f)); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// canListChildren reports whether listChildren sees proctor's children:
// whether /proc is mounted and is of proctor's PID namespace. It is asked
// once.
var canListChildren = sync.OnceValue(func() bool {
	link, err := os.Readlink("/proc/self")
	return err == nil && link == strconv.Itoa(os.Getpid())
})

// threadIDs lists /proc/self/task. Like readProcFile it calls the system
// directly: os.ReadDir and os.ReadFile would add a poller registration,
// fcntl and fstat calls and a File to each of the ten files read three
// times during a shutdown (270 system calls where 90 do).
func threadIDs(buf []byte) ([]string, error) {
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var names []string
	buf = buf[:cap(buf)]
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// readProcFile reads the whole of a small /proc file into buf, growing it
// as needed.
func readProcFile(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// scanChildren finds proctor's children by reading /proc/PID/stat of every
// process.
func scanChildren() []int {
	self := os.Getpid()
	var out []int
	buf := make([]byte, 0, 512)
	for _, pid := range procenv.PIDs() {
		if pid == self {
			continue
		}
		ppid, _, ok := readStat(pid, buf)
		if ok && ppid == self {
			out = append(out, pid)
		}
	}
	return out
}

// processGroup returns the process group of pid.
func processGroup(pid int) (int, bool) {
	_, pgid, ok := readStat(pid, make([]byte, 0, 512))
	return pgid, ok
}

// readStat returns the parent pid and process group of pid. It calls the
// system directly (open, read, close): it runs once per process on the
// machine each time scanChildren runs, and os.Open would add an fstat and
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
