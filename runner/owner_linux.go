package runner

import (
	"os"
	"strconv"
	"strings"

	"github.com/proctor-run/proctor/internal/procenv"
)

// procTree is a snapshot of the machine's processes, read from
// /proc/PID/stat, that tells which processes belong to an instance: its
// descendants, and the members of its process group (which a process that
// lost its parent still is). A snapshot is taken at most once per probe,
// and only when a watched port has a listener.
type procTree struct {
	children map[int][]int
	group    map[int][]int
	// trusted is false when /proc shows another PID namespace (proctor in
	// a new namespace without its own /proc mount); then nothing can be
	// told about ownership and every socket counts as the instance's.
	trusted bool
}

// readProcTree takes a snapshot of the processes.
func readProcTree() *procTree {
	t := &procTree{children: map[int][]int{}, group: map[int][]int{}}
	pids := procenv.PIDs() // none when /proc is not of proctor's namespace
	t.trusted = len(pids) > 0
	buf := make([]byte, 0, 512)
	for _, pid := range pids {
		if ppid, pgid, ok := readStat(pid, buf); ok {
			t.children[ppid] = append(t.children[ppid], pid)
			t.group[pgid] = append(t.group[pgid], pid)
		}
	}
	return t
}

// members returns root and every process of its tree: descendants and the
// members of the process group root leads, with theirs.
func (t *procTree) members(root int) []int {
	seen := map[int]bool{root: true}
	queue := []int{root}
	for i := 0; i < len(queue); i++ {
		pid := queue[i]
		next := t.children[pid]
		if pid == root {
			next = append(next[:len(next):len(next)], t.group[root]...)
		}
		for _, c := range next {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	return queue
}

// ownedBy reports whether a process of root's tree holds one of the
// sockets (by inode): the instance itself listens, not a stranger that
// already had the port.
func (t *procTree) ownedBy(root int, inodes []uint64) bool {
	if !t.trusted {
		return true
	}
	want := make(map[string]bool, len(inodes))
	for _, ino := range inodes {
		want["socket:["+strconv.FormatUint(ino, 10)+"]"] = true
	}
	for _, pid := range t.members(root) {
		if holdsSocket(pid, want) {
			return true
		}
	}
	return false
}

// holdsSocket reports whether one of pid's open files is a socket of want
// ("socket:[INODE]", as /proc/PID/fd links read).
func holdsSocket(pid int, want map[string]bool) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	fds, err := f.Readdirnames(-1)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if link, err := os.Readlink(dir + fd); err == nil && strings.HasPrefix(link, "socket:[") && want[link] {
			return true
		}
	}
	return false
}
