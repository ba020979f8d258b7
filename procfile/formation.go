package procfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/proctor-run/proctor/env"
)

// Port defaults, as in foreman.
const (
	DefaultPort     = 5000
	DefaultPortStep = 100
	// MaxCount bounds one type's instance count; far beyond any one machine.
	MaxCount = 10000
)

// ReleaseType is the name of Heroku's release phase: an entry run once, to
// completion, before the other types start.
const ReleaseType = "release"

// ErrFormation is wrapped by every formation error.
var ErrFormation = errors.New("formation")

// ErrUnknownType is wrapped when a name given as a process type is not in
// the Procfile.
var ErrUnknownType = errors.New("unknown process type")

// Formation says how many instances of each process type run, written
// "all=1,web=2,worker=0". The zero Formation names nothing.
type Formation struct {
	// Counts holds the types named explicitly, in the order written.
	Counts []TypeCount
	// All is the count for types not named; it applies only when HasAll.
	All    int
	HasAll bool
}

// TypeCount is one "TYPE=N" pair. The control protocol carries it as JSON
// ({"type": "web", "count": 2}) in scale requests.
type TypeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

func formationErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormation, fmt.Sprintf(format, args...))
}

// ParseFormation parses "TYPE=N[,TYPE=N...]", where TYPE may be "all".
// Spaces around names, counts and commas are ignored. It checks syntax only;
// Resolve checks the names against a Procfile.
func ParseFormation(s string) (Formation, error) {
	var f Formation
	if strings.TrimSpace(s) == "" {
		return f, formationErr("empty (expected TYPE=N[,TYPE=N...])")
	}
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(pair, "=")
		name, num = strings.TrimSpace(name), strings.TrimSpace(num)
		if !ok || name == "" || num == "" {
			return Formation{}, formationErr("malformed pair %q (expected TYPE=N)", strings.TrimSpace(pair))
		}
		if name != "all" && !validName(name) {
			return Formation{}, formationErr("invalid process type %q", name)
		}
		n, err := strconv.Atoi(num)
		if err != nil || strings.TrimLeft(num, "0123456789") != "" {
			return Formation{}, formationErr("count for %q must be a whole number from 0 to %d, not %q", name, MaxCount, num)
		}
		if n > MaxCount {
			return Formation{}, formationErr("count for %q is %d, more than the limit of %d", name, n, MaxCount)
		}
		if seen[name] {
			return Formation{}, formationErr("%q is named twice", name)
		}
		seen[name] = true
		if name == "all" {
			f.All, f.HasAll = n, true
			continue
		}
		f.Counts = append(f.Counts, TypeCount{Type: name, Count: n})
	}
	return f, nil
}

// named returns the count written for typ, if any.
func (f Formation) named(typ string) (int, bool) {
	for _, tc := range f.Counts {
		if tc.Type == typ {
			return tc.Count, true
		}
	}
	return 0, false
}

// Resolve computes the instance count of every entry, in Procfile order.
//
// formation is nil when none was given: then every type runs once
// (all=1). Otherwise a type the formation does not name gets All when HasAll
// and 0 when not, so "web=2" runs two web instances and nothing else, as in
// foreman. types, when not empty, restricts the run to those types, one
// instance each unless the formation names a count. Unknown names in either
// are errors. The release type runs at most once: all=N gives it 1 (0 for
// all=0), and naming it with a higher count is an error.
func Resolve(entries []Entry, formation *Formation, types []string) ([]int, error) {
	index := make(map[string]int, len(entries))
	for i, e := range entries {
		index[e.Name] = i
	}
	unknown := func(name string) error {
		return fmt.Errorf("%w %q (the Procfile has %s)", ErrUnknownType, name, strings.Join(Names(entries), ", "))
	}
	selected := map[string]bool{}
	for _, t := range types {
		if _, ok := index[t]; !ok {
			return nil, unknown(t) // a TYPE argument, not part of the formation
		}
		selected[t] = true
	}
	if formation != nil {
		for _, tc := range formation.Counts {
			if _, ok := index[tc.Type]; !ok {
				return nil, fmt.Errorf("%w: %w", ErrFormation, unknown(tc.Type))
			}
		}
	}
	counts := make([]int, len(entries))
	for i, e := range entries {
		switch {
		case len(types) > 0 && !selected[e.Name]:
			counts[i] = 0
		case formation == nil:
			counts[i] = 1
		default:
			if n, ok := formation.named(e.Name); ok {
				counts[i] = n
			} else if formation.HasAll && e.Name == ReleaseType {
				// all=N means N of each long-running type; the
				// release phase still runs once (or not, for all=0).
				counts[i] = min(formation.All, 1)
			} else if formation.HasAll {
				counts[i] = formation.All
			} else if len(types) > 0 {
				counts[i] = 1
			}
		}
		if e.Name == ReleaseType && counts[i] > 1 {
			return nil, formationErr("%q runs once before the other types; its count can be 0 or 1, not %d", ReleaseType, counts[i])
		}
	}
	return counts, nil
}

// Instance is one process to run: the Nth instance of a process type, with
// everything it starts with.
type Instance struct {
	// Type is the process type (the Procfile entry's name).
	Type string
	// TypeIndex is the entry's 0-based position in the Procfile.
	TypeIndex int
	// Num is the 1-based instance number.
	Num int
	// Name is "TYPE.NUM", e.g. "web.1"; it is the PS of the process.
	Name string
	// Command is the entry's command.
	Command string
	// Argv is the command's words when it runs without a shell (see
	// Argv); nil when it runs with /bin/sh -c.
	Argv []string
	// Port is the PORT the instance gets.
	Port int
	// Env is the instance's environment (os.Environ form): the app's
	// Environ (or its type's TypeEnviron) with PORT and PS set to the
	// instance's own, last.
	Env []string
}

// Ports is the port assignment: PORT = Base + Step*typeIndex + (num-1).
type Ports struct {
	Base int
	Step int
}

// Port returns the port of instance num (from 1) of the type at typeIndex.
func (p Ports) Port(typeIndex, num int) int {
	return p.Base + p.Step*typeIndex + num - 1
}

// MaxPort is the highest TCP port.
const MaxPort = 65535

// PortRangeError reports an instance whose port would fall outside
// 1..MaxPort: the base port or the step is too large (or too small) for the
// formation.
type PortRangeError struct {
	// Name is the instance, e.g. "web.2".
	Name string
	// Port is the port it would get.
	Port int
}

func (e *PortRangeError) Error() string {
	return fmt.Sprintf("%s would get port %d, outside 1-%d", e.Name, e.Port, MaxPort)
}

// App is what a plan is made from: the Procfile's entries, the port
// assignment and the environment every instance starts from. It is the
// one place that gives an instance its name, PORT and PS.
type App struct {
	// Entries are the Procfile's entries, in order.
	Entries []Entry
	// Ports assigns each instance its PORT.
	Ports Ports
	// Environ is the environment (os.Environ form) every instance and
	// one-off command starts from: for start and run, proctor's own with the
	// env files applied; for export, the env files' variables alone.
	Environ []string
	// Rules holds the start rules of the types that have any (.proctor's
	// processes), by type.
	Rules map[string]Rules
	// TypeEnviron replaces Environ for the types named: the environment
	// with their own env files (.proctor's env_file) applied too.
	TypeEnviron map[string][]string
}

// environ is the environment instances of typ start from.
func (a App) environ(typ string) []string {
	if e, ok := a.TypeEnviron[typ]; ok {
		return e
	}
	return a.Environ
}

// Instance describes instance num (from 1) of the entry at typeIndex. It
// fails with a *PortRangeError when the port would fall outside 1..MaxPort.
func (a App) Instance(typeIndex, num int) (Instance, error) {
	e := a.Entries[typeIndex]
	name := e.Name + "." + strconv.Itoa(num)
	port := a.Ports.Port(typeIndex, num)
	if port < 1 || port > MaxPort {
		return Instance{}, &PortRangeError{Name: name, Port: port}
	}
	environ := env.Set(a.environ(e.Name), "PORT", strconv.Itoa(port))
	environ = env.Set(environ, "PS", name)
	argv, _ := Argv(e.Command)
	return Instance{Type: e.Name, TypeIndex: typeIndex, Num: num, Name: name, Command: e.Command, Argv: argv, Port: port, Env: environ}, nil
}

// Plan lists the instances to run, in Procfile order and by number within a
// type, given the count of every entry (from Resolve).
func (a App) Plan(counts []int) ([]Instance, error) {
	if len(counts) != len(a.Entries) {
		return nil, fmt.Errorf("plan: %d counts for %d entries", len(counts), len(a.Entries))
	}
	var out []Instance
	for i := range a.Entries {
		for n := 1; n <= counts[i]; n++ {
			inst, err := a.Instance(i, n)
			if err != nil {
				return nil, err
			}
			out = append(out, inst)
		}
	}
	return out, nil
}

// OneOffEnv is the environment of a one-off command (proctor run): that of
// typ (empty for a command of no type) with PORT set to the base port, as
// foreman's run gives it, and no PS.
func (a App) OneOffEnv(typ string) []string {
	return env.Set(a.environ(typ), "PORT", strconv.Itoa(a.Ports.Base))
}
