package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/internal/proctest"
)

// TestGuardStopsTokenCarriers: a guardian whose proctor died stops the
// processes that carry the run's token though proctor never listed their
// group: one whose "+PGID" had not been written yet (kill -9 just after the
// shell started, what the stress suite's kill -9 once hit) and one that left
// for a session of its own. A process without the token is left alone.
func TestGuardStopsTokenCarriers(t *testing.T) {
	forEachGuardian(t, func(t *testing.T, g guardianImpl) {
		dir := t.TempDir()
		runToken := fmt.Sprintf("run-%d", time.Now().UnixNano())
		// Every process of this test carries mark, so cleanup finds them all.
		mark := proctest.Token{Var: "GUARD_TEST_TOKEN", Value: runToken}
		t.Cleanup(func() { mark.Kill(t) })
		start := func(script string, carrier bool) {
			cmd := exec.Command("/bin/sh", "-c", script)
			cmd.Env = append(os.Environ(), mark.Env())
			if carrier {
				cmd.Env = append(cmd.Env, guardTokenEnv+"="+runToken)
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			require.NoError(t, cmd.Start())
			go cmd.Wait() // reap the shell; its sleep is adopted elsewhere
		}
		// Each writes the pid of its sleep once it runs.
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "unlisted")+"; wait", true)
		start("setsid sh -c 'echo $$ > "+filepath.Join(dir, "escaped")+"; exec sleep 1000' & wait", true)
		start("sleep 1000 & echo $! > "+filepath.Join(dir, "stranger")+"; wait", false)
		pid := map[string]int{}
		for _, name := range []string{"unlisted", "escaped", "stranger"} {
			require.Eventually(t, func() bool {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !strings.HasSuffix(string(b), "\n") {
					return false
				}
				pid[name], err = strconv.Atoi(strings.TrimSpace(string(b)))
				return err == nil
			}, 10*time.Second, 5*time.Millisecond, "%s wrote its pid", name)
		}

		// proctor's last words: the token, then it dies (end of file).
		runGuardian(t, g, 2*time.Second, "="+runToken+"\n")

		for _, name := range []string{"unlisted", "escaped"} {
			assert.False(t, procAlive(pid[name]), "%s (pid %d) was stopped", name, pid[name])
		}
		assert.True(t, procAlive(pid["stranger"]), "a process without the token was left alone")
	})
}

// procAlive reports whether pid runs (a zombie has no environment left in
// /proc: it has ended).
func procAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z'
}
