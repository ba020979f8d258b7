package runner

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcTreeOwnedBy: a listening socket belongs to the tree of the
// process that holds it and of its ancestors, not to an unrelated process.
func TestProcTreeOwnedBy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	inode := socketInode(t, l.(*net.TCPListener))
	f, err := l.(*net.TCPListener).File()
	require.NoError(t, err)
	defer f.Close()

	// holder is a shell whose child (a grandchild of the test) holds the
	// socket as fd 3; the shell closes its own copy, then prints the
	// child's pid.
	holder := exec.Command("sh", "-c", "sleep 1000 & exec 3>&-; echo $!; wait")
	holder.ExtraFiles = []*os.File{f}
	out, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	child, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	defer syscall.Kill(child, syscall.SIGKILL)
	stranger := exec.Command("sleep", "1000")
	require.NoError(t, stranger.Start())
	defer func() {
		stranger.Process.Kill()
		stranger.Wait()
	}()

	tree := readProcTree()
	require.True(t, tree.trusted, "/proc is this PID namespace's")
	assert.Equal(t, []int{child}, tree.children[holder.Process.Pid])
	assert.True(t, tree.ownedBy(holder.Process.Pid, []uint64{inode}), "a grandchild holds the socket")
	assert.True(t, tree.ownedBy(child, []uint64{inode}), "the holder itself")
	assert.True(t, tree.ownedBy(os.Getpid(), []uint64{inode}), "the test process holds it too")
	assert.False(t, tree.ownedBy(stranger.Process.Pid, []uint64{inode}), "an unrelated process")
	assert.False(t, tree.ownedBy(holder.Process.Pid, []uint64{inode + 1<<40}), "another socket")
}
