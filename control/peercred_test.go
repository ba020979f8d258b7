package control

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nobody is the user the refusal tests connect as.
const nobody = 65534

// TestOtherUserIDIsRefused connects from a real process of another user:
// the test binary, copied where that user can run it, re-executed as
// nobody (helperDial). It needs root to switch users.
func TestOtherUserIDIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	// A directory everyone may enter, unlike t.TempDir().
	dir, err := os.MkdirTemp("", "proctor-peercred-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	exe := filepath.Join(dir, "control.test")
	copyFile(t, exe)

	b := newFakeBackend(t)
	path := filepath.Join(dir, "p.sock")
	s, err := Listen(path, b)
	require.NoError(t, err)
	go s.Serve()
	defer s.Close()

	dialAs := func(t *testing.T) string {
		t.Helper()
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), helperEnv+"="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		cmd.WaitDelay = 5 * time.Second
		done := make(chan struct{})
		var out []byte
		var runErr error
		go func() {
			defer close(done)
			out, runErr = cmd.CombinedOutput()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatal("the client running as nobody did not finish")
		}
		var ee *exec.ExitError
		if runErr != nil && !errors.As(runErr, &ee) {
			t.Fatalf("run the client as nobody: %v", runErr)
		}
		return string(out)
	}

	t.Run("mode 0600 keeps it out", func(t *testing.T) {
		out := dialAs(t)
		assert.Contains(t, out, "permission denied")
	})
	t.Run("credentials checked when the mode lets it in", func(t *testing.T) {
		require.NoError(t, os.Chmod(path, 0o666))
		out := dialAs(t)
		line, _, _ := strings.Cut(out, "\n")
		var resp Response
		require.NoError(t, json.Unmarshal([]byte(line), &resp), "%s", out)
		assert.False(t, resp.OK)
		assert.Equal(t, CodeForbidden, resp.Code)
		assert.Equal(t, "connection refused: user id 65534 is not the user id of this proctor (0)", resp.Error)
	})
	assert.Empty(t, b.Calls(), "nothing reached the backend")
}

// copyFile copies the running test binary to dst, executable by all.
func copyFile(t *testing.T, dst string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	in, err := os.Open(self)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
