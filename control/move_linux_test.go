package control

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoveNoReplace(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from"), filepath.Join(dir, "to")
	require.NoError(t, os.WriteFile(from, []byte("a"), 0o600))
	require.NoError(t, os.WriteFile(to, []byte("b"), 0o600))

	assert.ErrorIs(t, moveNoReplace(from, to), fs.ErrExist)
	got, err := os.ReadFile(to)
	require.NoError(t, err)
	assert.Equal(t, "b", string(got), "the existing file is left alone")
	_, err = os.Lstat(from)
	require.NoError(t, err, "nothing moved")

	require.NoError(t, os.Remove(to))
	require.NoError(t, moveNoReplace(from, to))
	got, err = os.ReadFile(to)
	require.NoError(t, err)
	assert.Equal(t, "a", string(got))
	_, err = os.Lstat(from)
	assert.ErrorIs(t, err, fs.ErrNotExist, "moved, not copied")
}
