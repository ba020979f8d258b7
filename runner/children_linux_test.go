package runner

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListChildren(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	assert.Contains(t, listChildren(), pid, "the child started by the test")
	assert.Contains(t, scanChildren(), pid, "the same, found by the scan of /proc")
	pgid, ok := processGroup(pid)
	assert.True(t, ok)
	assert.Equal(t, pid, pgid, "the child leads its own group")
	for _, c := range listChildren() {
		ppid, _, ok := readStat(c, make([]byte, 0, 512))
		if ok {
			assert.Equal(t, os.Getpid(), ppid, "every pid listed is a child of the test")
		}
	}
}

// childOfLockedThread starts `sleep 60` from a goroutine locked to its
// thread (as the spawner's are) and returns its pid and the thread's id;
// the child is killed and reaped when the test ends.
func childOfLockedThread(t *testing.T) (pid, tid int) {
	type result struct {
		pid, tid int
		err      error
	}
	started, release := make(chan result), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			started <- result{err: err}
			return
		}
		started <- result{pid: cmd.Process.Pid, tid: threadID()}
		<-release
		cmd.Process.Kill()
		cmd.Wait()
	}()
	r := <-started
	require.NoError(t, r.err)
	t.Cleanup(func() { close(release) })
	return r.pid, r.tid
}

// TestListChildrenOfAnotherThread: a child forked by a thread locked to it
// (as the spawner's is) is listed by that thread's children file only.
func TestListChildrenOfAnotherThread(t *testing.T) {
	pid, _ := childOfLockedThread(t)
	assert.Contains(t, listChildren(), pid)
}

// BenchmarkScanChildren is one scan of /proc, as listChildren made it
// before it read the threads' children files.
func BenchmarkScanChildren(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		scanChildren()
	}
}

// BenchmarkListChildren is one scan of /proc, as made at shutdown.
func BenchmarkListChildren(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		listChildren()
	}
}

// TestListChildrenOfGivenThreads: given thread ids, listChildren reads
// only theirs and the main thread's children: a child forked by a locked
// thread is listed when that thread is given, and not otherwise.
func TestListChildrenOfGivenThreads(t *testing.T) {
	pid, tid := childOfLockedThread(t)
	if tid == os.Getpid() {
		t.Skip("the goroutine ran on the main thread")
	}
	assert.Contains(t, listChildren(tid), pid, "listed with its thread")
	assert.NotContains(t, listChildren(os.Getpid()), pid, "not listed with the main thread only")
}
