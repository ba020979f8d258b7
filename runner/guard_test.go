package runner

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadGuardEvents(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		groups []int
		token  string
		bye    bool
	}{
		{"empty", "", nil, "", false},
		{"adds", "+10\n+20\n", []int{10, 20}, "", false},
		{"remove", "+10\n+20\n-10\n", []int{20}, "", false},
		{"bye", "+10\nbye\n+20\n", []int{10}, "", true},
		{"garbage ignored", "+x\n?5\n+\n+1\n+-3\n+30\n", []int{30}, "", false},
		{"no final newline", "+10\n+11", []int{10, 11}, "", false},
		{"the token", "=0f3a\n+10\n", []int{10}, "0f3a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, token, bye := readGuardEvents(strings.NewReader(tt.in))
			assert.Equal(t, tt.bye, bye)
			assert.Equal(t, tt.token, token)
			var got []int
			for g := range groups {
				got = append(got, g)
			}
			assert.ElementsMatch(t, tt.groups, got)
		})
	}
}

// startGroup starts sh -c script as the leader of a new process group.
func startGroup(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

func TestStopGroupsTerm(t *testing.T) {
	cmd := startGroup(t, "sleep 1000 & sleep 1000")
	pgid := cmd.Process.Pid
	// Reap every child as init would: once earlier tests made this process
	// a subreaper, the orphaned sleeps come back to it, and a zombie still
	// counts as a member of its group.
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for {
			if _, err := syscall.Wait4(-1, nil, 0, nil); errors.Is(err, syscall.ECHILD) {
				return
			}
		}
	}()
	start := time.Now()
	stopGroups(map[int]bool{pgid: true}, 5*time.Second, 5*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second, "the group should empty on SIGTERM, before the grace period ends")
	select {
	case <-reaped:
	case <-time.After(10 * time.Second):
		t.Fatal("children still alive after stopGroups")
	}
	assert.False(t, groupAlive(pgid))
}

func TestStopGroupsKillsAfterGrace(t *testing.T) {
	ready := t.TempDir() + "/ready"
	cmd := startGroup(t, "trap '' TERM; touch "+ready+"; while :; do sleep 0.05; done")
	pgid := cmd.Process.Pid
	require.Eventually(t, func() bool { return fileExists(ready) }, 5*time.Second, 5*time.Millisecond)
	stopGroups(map[int]bool{pgid: true}, 100*time.Millisecond, 5*time.Millisecond)
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())
}
