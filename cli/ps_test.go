package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/control"
)

// Unit tests of ps's table and uptimes. The end-to-end tests are in
// control_e2e_test.go.

func TestFormatUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                "0s",
		999 * time.Millisecond:           "0s",
		42 * time.Second:                 "42s",
		time.Minute:                      "1m00s",
		3*time.Minute + 7*time.Second:    "3m07s",
		2*time.Hour + 5*time.Minute + 59: "2h05m",
		50*time.Hour + 30*time.Minute:    "2d02h",
	} {
		assert.Equal(t, want, formatUptime(d), "%v", d)
	}
}

func TestWriteTable(t *testing.T) {
	var out bytes.Buffer
	h := &host{stdout: &out}
	require.NoError(t, writeTable(h, []control.Process{
		{Name: "web.1", Type: "web", PID: 4242, State: "running", UptimeSeconds: 125.4, Restarts: 2, Port: 5000, Ready: true},
		{Name: "worker.10", Type: "worker", PID: 7, State: "running", UptimeSeconds: 3, Port: 5100},
		{Name: "clock.1", Type: "clock", State: "stopped", Port: 5200},
		{Name: "job.1", Type: "job", PID: 9, State: "starting"}, // no port
	}))
	assert.Equal(t, strings.Join([]string{
		"NAME       PID   STATE     UPTIME  RESTARTS  PORT  READY",
		"web.1      4242  running   2m05s   2         5000  yes",
		"worker.10  7     running   3s      0         5100  no",
		"clock.1    -     stopped   -       0         5200  no",
		"job.1      9     starting  0s      0         -     -",
		"",
	}, "\n"), out.String())
}
