package procfile

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ReadyKind is how an instance's readiness is checked.
type ReadyKind string

// The readiness checks. The zero ReadyKind is ReadyPort, reported but not
// required by anything.
const (
	// ReadyPort: a socket of the instance's own processes listens on its
	// PORT.
	ReadyPort ReadyKind = "port"
	// ReadyTCP: a TCP connection to Arg (HOST:PORT) succeeds.
	ReadyTCP ReadyKind = "tcp"
	// ReadyHTTP: GET http://127.0.0.1:PORT followed by Arg (a path) answers
	// with a status below 400.
	ReadyHTTP ReadyKind = "http"
	// ReadyLog: a line of the instance's output matches the regular
	// expression Arg.
	ReadyLog ReadyKind = "log"
	// ReadyExec: the command Arg, run with /bin/sh -c in the instance's
	// environment, exits 0.
	ReadyExec ReadyKind = "exec"
)

// Readiness is the check that says an instance is ready.
type Readiness struct {
	Kind ReadyKind
	Arg  string
}

// String is the check as written in .proctor: "log ready to accept", "port".
func (r Readiness) String() string {
	if r.Kind == "" {
		return string(ReadyPort)
	}
	if r.Arg == "" {
		return string(r.Kind)
	}
	return string(r.Kind) + " " + r.Arg
}

// ParseReadiness reads a check written "port", "tcp HOST:PORT",
// "http PATH", "log REGEX" or "exec COMMAND". The argument of log may be
// wrapped in double or single quotes, which are removed.
func ParseReadiness(s string) (Readiness, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(s), " ")
	arg = strings.TrimSpace(arg)
	r := Readiness{Kind: ReadyKind(kind), Arg: arg}
	switch r.Kind {
	case ReadyPort:
		if arg != "" {
			return Readiness{}, fmt.Errorf("port takes no argument (it is the instance's PORT), not %q", arg)
		}
	case ReadyTCP:
		host, port, err := net.SplitHostPort(arg)
		if err != nil {
			return Readiness{}, fmt.Errorf("tcp needs HOST:PORT, not %q", arg)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > MaxPort {
			return Readiness{}, fmt.Errorf("tcp %q: %q is not a port number (1-%d)", arg, port, MaxPort)
		}
		if host == "" {
			r.Arg = net.JoinHostPort("127.0.0.1", port)
		}
	case ReadyHTTP:
		if arg == "" {
			r.Arg = "/"
		} else if !strings.HasPrefix(arg, "/") {
			return Readiness{}, fmt.Errorf("http needs a path starting with /, not %q", arg)
		}
	case ReadyLog:
		if len(arg) >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg[len(arg)-1] == arg[0] {
			arg = arg[1 : len(arg)-1]
		}
		if arg == "" {
			return Readiness{}, errors.New("log needs a regular expression")
		}
		if _, err := regexp.Compile(arg); err != nil {
			return Readiness{}, fmt.Errorf("log %q: %v", arg, err)
		}
		r.Arg = arg
	case ReadyExec:
		if arg == "" {
			return Readiness{}, errors.New("exec needs a command")
		}
	default:
		return Readiness{}, fmt.Errorf("unknown check %q (expected port, tcp HOST:PORT, http PATH, log REGEX or exec COMMAND)", kind)
	}
	return r, nil
}

// DefaultReadyTimeout is how long an instance that others wait for, or that
// has a readiness check of its own, may take to become ready.
const DefaultReadyTimeout = 60 * time.Second

// Rules are a process type's optional start rules, from .proctor.
type Rules struct {
	// After names the types whose every instance must be ready before an
	// instance of this type starts.
	After []string
	// Ready is the check that makes an instance ready; the zero value is
	// ReadyPort.
	Ready Readiness
	// ReadyTimeout bounds the wait for readiness when it matters (Ready is
	// set, or another type waits for this one); zero means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// StartOrder groups the types into the stages .proctor's after gives them:
// the types that wait for nothing first, then those that wait only for
// types of earlier stages, and so on; Procfile order within a stage. The
// rules must hold no cycle (config checks that).
func (a App) StartOrder() [][]string {
	stage := map[string]int{}
	var stageOf func(typ string, depth int) int
	stageOf = func(typ string, depth int) int {
		if s, ok := stage[typ]; ok {
			return s
		}
		s := 0
		if depth <= len(a.Entries) { // a cycle cannot recur forever
			for _, dep := range a.Rules[typ].After {
				s = max(s, stageOf(dep, depth+1)+1)
			}
		}
		stage[typ] = s
		return s
	}
	var out [][]string
	for _, e := range a.Entries {
		s := stageOf(e.Name, 0)
		for len(out) <= s {
			out = append(out, nil)
		}
		out[s] = append(out[s], e.Name)
	}
	return out
}
