package procfile_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/procfile"
)

func TestParseReadiness(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want procfile.Readiness
		text string // String(); the input when empty
	}{
		{in: "port", want: procfile.Readiness{Kind: procfile.ReadyPort}},
		{in: "tcp 127.0.0.1:6379", want: procfile.Readiness{Kind: procfile.ReadyTCP, Arg: "127.0.0.1:6379"}},
		{in: "tcp :6379", want: procfile.Readiness{Kind: procfile.ReadyTCP, Arg: "127.0.0.1:6379"}, text: "tcp 127.0.0.1:6379"},
		{in: "tcp [::1]:80", want: procfile.Readiness{Kind: procfile.ReadyTCP, Arg: "[::1]:80"}},
		{in: "http /health?full=1", want: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/health?full=1"}},
		{in: "http", want: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/"}, text: "http /"},
		{in: `log "ready to accept connections"`, want: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "ready to accept connections"}, text: "log ready to accept connections"},
		{in: "log 'Listening on .*:3000'", want: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "Listening on .*:3000"}, text: "log Listening on .*:3000"},
		{in: "exec pg_isready -h localhost", want: procfile.Readiness{Kind: procfile.ReadyExec, Arg: "pg_isready -h localhost"}},
		{in: "  exec   test -f ready  ", want: procfile.Readiness{Kind: procfile.ReadyExec, Arg: "test -f ready"}, text: "exec test -f ready"},
	} {
		got, err := procfile.ParseReadiness(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		text := tt.text
		if text == "" {
			text = tt.in
		}
		assert.Equal(t, text, got.String(), tt.in)
	}
	for in, want := range map[string]string{
		"":             `unknown check "" (expected port, tcp HOST:PORT, http PATH, log REGEX or exec COMMAND)`,
		"ping host":    `unknown check "ping" (expected port, tcp HOST:PORT, http PATH, log REGEX or exec COMMAND)`,
		"port 80":      `port takes no argument (it is the instance's PORT), not "80"`,
		"tcp db":       `tcp needs HOST:PORT, not "db"`,
		"tcp db:http":  `tcp "db:http": "http" is not a port number (1-65535)`,
		"tcp db:70000": `tcp "db:70000": "70000" is not a port number (1-65535)`,
		"http health":  `http needs a path starting with /, not "health"`,
		"log":          "log needs a regular expression",
		`log ""`:       "log needs a regular expression",
		"log a[":       "log \"a[\": error parsing regexp: missing closing ]: `[`",
		"exec":         "exec needs a command",
	} {
		_, err := procfile.ParseReadiness(in)
		assert.EqualError(t, err, want, "%q", in)
	}
	assert.Equal(t, "port", procfile.Readiness{}.String(), "the zero check is port")
}

func TestStartOrder(t *testing.T) {
	app := procfile.App{
		Entries: []procfile.Entry{{Name: "web"}, {Name: "db"}, {Name: "redis"}, {Name: "probe"}, {Name: "clock"}},
		Rules: map[string]procfile.Rules{
			"web":   {After: []string{"db", "redis"}},
			"probe": {After: []string{"web"}},
			"redis": {After: []string{"db"}},
		},
	}
	assert.Equal(t, [][]string{{"db", "clock"}, {"redis"}, {"web"}, {"probe"}}, app.StartOrder())
	assert.Equal(t, [][]string{{"web", "db", "redis", "probe", "clock"}}, procfile.App{Entries: app.Entries}.StartOrder(), "no rules: one stage")
}
