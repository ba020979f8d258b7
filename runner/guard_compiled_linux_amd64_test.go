package runner

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompiledGuardianUpToDate: the embedded guardian is what
// guardian/build.sh makes of guardian/guardian.c today, so a change to the
// C source that was not rebuilt (go generate ./runner) fails here. The
// build is reproducible with one compiler, the one named in
// guardian-linux-amd64.cc: with that one a difference fails; with another
// one, whose code may differ, a difference skips the test, saying so.
func TestCompiledGuardianUpToDate(t *testing.T) {
	want, err := os.ReadFile("guardian/guardian-linux-amd64.cc")
	require.NoError(t, err)
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to rebuild the guardian with")
	}
	version, err := exec.Command(cc, "--version").Output()
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(version), "\n")
	out := filepath.Join(t.TempDir(), "guardian")
	build := exec.Command("sh", "guardian/build.sh", out)
	build.Env = append(os.Environ(), "CC="+cc)
	msg, err := build.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	if bytes.Equal(got, compiledGuardianProgram) {
		return
	}
	if built := strings.TrimSpace(string(want)); first != built {
		t.Skipf("guardian.c built here differs from the committed program, which %q made; this machine has %q", built, first)
	}
	t.Error("guardian/guardian-linux-amd64 is not what build.sh makes of guardian.c: run go generate ./runner")
}

// TestCompiledGuardianSealed: the program proctor executes cannot be
// changed once it is in the memfd.
func TestCompiledGuardianSealed(t *testing.T) {
	path := compiledGuardianPath()
	if path == "" && memfdNoexec() {
		t.Skip("vm.memfd_noexec=2: no compiled guardian here")
	}
	require.NotEmpty(t, path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("x"))
		f.Close()
	}
	assert.Error(t, err, "writing to the guardian's memfd")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(got, compiledGuardianProgram))
}
