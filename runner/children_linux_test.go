package runner

import (
	"os/exec"
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
	assert.Contains(t, listChildren(), procChild{pid: pid, pgid: pid}, "the child started by the test, in its own group")
}

// BenchmarkListChildren is one scan of /proc, as made at shutdown.
func BenchmarkListChildren(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		listChildren()
	}
}
