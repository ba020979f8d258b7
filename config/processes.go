package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/proctor-run/proctor/fileline"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/watch"
)

// ProcessesKey starts the block of per-type settings in .proctor. Its lines
// are YAML (the rest of the file is read as "key: value" lines, which YAML
// reads the same way):
//
//	processes:
//	  web:
//	    after: [db, redis]
//	    ready: http /health
//	    ready_timeout: 90
//	  db:
//	    ready: log "ready to accept connections"
const ProcessesKey = "processes"

// Process is the settings of one process type in the processes block.
type Process struct {
	// Type is the process type; Line is where it is named.
	Type string
	Line int
	// After names the types this one starts after, each with its line.
	After []Ref
	// Ready is its readiness check (the zero value when not set), at
	// ReadyLine.
	Ready     procfile.Readiness
	ReadyLine int
	// ReadyTimeout is ready_timeout; zero when not set.
	ReadyTimeout time.Duration
	// EnvFiles are env_file's paths, relative to the app's root, read after
	// the stack's env files for this type only.
	EnvFiles []Ref
	// LogFile is log_file's path, relative to the app's root: where this
	// type's bare lines are appended too. Empty Name when not set.
	LogFile Ref
	// Watch holds watch's globs, relative to the app's root: a change of
	// a matching file restarts this type.
	Watch []Ref
}

// Ref is a process type named at a line.
type Ref struct {
	Name string
	Line int
}

// processKeys are the keys a process type's settings may hold.
var processKeys = []string{"after", "ready", "ready_timeout", "env_file", "log_file", "watch"}

// yamlLine finds the line in a yaml.v3 syntax error ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseProcesses reads the processes block: text holds its lines, the first
// of which is line first of the file.
func parseProcesses(text string, first int) ([]Process, error) {
	// YAML also ends a line at a lone CR, which the file's lines do not:
	// a line past the block is its last.
	last := first + strings.Count(text, "\n")
	at := func(line int, format string, args ...any) error {
		return &fileline.Error{Line: min(line, last), Err: fmt.Errorf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		// yaml.v3 names a line, but for some errors the line before the
		// one at fault; the first prefix of the block that fails to read
		// is never before it. The later of the two is the line.
		line := firstFailingLine(text)
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			line, msg = max(line, n), m[2]
		}
		return nil, at(first+line-1, "%s: %s", ProcessesKey, msg)
	}
	if len(doc.Content) == 0 {
		return nil, nil // "processes:" with nothing under it
	}
	line := func(n *yaml.Node) int { return min(first+n.Line-1, last) }
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, at(line(root), "%s: expected process types, each with its settings", ProcessesKey)
	}
	var out []Process
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, at(line(k), "%s: expected a process type", ProcessesKey)
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, at(line(k), "%q is set twice (first on line %d)", k.Value, prev)
		}
		seen[k.Value] = line(k)
		p := Process{Type: k.Value, Line: line(k)}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			out = append(out, p)
			continue
		}
		if v.Kind != yaml.MappingNode {
			return nil, at(line(v), "%s: expected its settings (%s)", k.Value, strings.Join(processKeys, ", "))
		}
		keys := map[string]int{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			sk, sv := v.Content[j], v.Content[j+1]
			name := sk.Value
			if prev, dup := keys[name]; dup {
				return nil, at(line(sk), "%s: %q is set twice (first on line %d)", p.Type, name, prev)
			}
			keys[name] = line(sk)
			var err error
			switch {
			case name == "after":
				p.After, err = words(sv, line, "a process type")
			case name == "ready":
				p.ReadyLine = line(sv)
				if sv.Kind != yaml.ScalarNode {
					err = errors.New("expected a check: port, tcp HOST:PORT, http PATH, log REGEX or exec COMMAND")
				} else {
					p.Ready, err = procfile.ParseReadiness(sv.Value)
				}
			case name == "ready_timeout":
				p.ReadyTimeout, err = duration(sv)
			case name == "env_file":
				p.EnvFiles, err = words(sv, line, "a file")
			case name == "watch":
				if p.Watch, err = words(sv, line, "a glob"); err == nil {
					for _, g := range p.Watch {
						if err := watch.CheckGlob(g.Name); err != nil {
							return nil, at(g.Line, "%s: %s: %v", p.Type, name, err) // at the glob's own line
						}
					}
				}
			case name == "log_file":
				if sv.Kind != yaml.ScalarNode || sv.Value == "" {
					err = errors.New("expected a file")
				} else {
					p.LogFile = Ref{sv.Value, line(sv)}
				}
			default:
				err = fmt.Errorf("unknown key (expected %s)", strings.Join(processKeys, ", "))
			}
			if err != nil {
				return nil, at(line(sk), "%s: %s: %v", p.Type, name, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// firstFailingLine returns the 1-based line of text whose end first makes
// the text before it unreadable as YAML; the last line when every prefix
// reads. Blocks are small: trying each prefix costs nothing.
func firstFailingLine(text string) int {
	lines := strings.Split(text, "\n")
	for i := range lines {
		var n yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[:i+1], "\n")), &n) != nil {
			return i + 1
		}
	}
	return len(lines)
}

// words reads a list of words of one kind (process types, files): [a, b],
// a block list, or one word. what names one of them, "a process type".
func words(n *yaml.Node, line func(*yaml.Node) int, what string) ([]Ref, error) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		return nil, fmt.Errorf("expected %s or a list of them", what)
	}
	var out []Ref
	for _, e := range items {
		if e.Kind != yaml.ScalarNode || e.Value == "" {
			return nil, fmt.Errorf("expected %s or a list of them", what)
		}
		out = append(out, Ref{e.Value, line(e)})
	}
	return out, nil
}

// duration reads seconds ("90", "2.5") or a Go duration ("90s", "2m").
func duration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, errors.New("expected seconds")
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		f, ferr := strconv.ParseFloat(n.Value, 64)
		if ferr != nil {
			return 0, fmt.Errorf("%q is not a number of seconds or a duration such as 90s", n.Value)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 || d > 24*time.Hour {
		return 0, fmt.Errorf("%q is out of range (more than 0, at most 24h)", n.Value)
	}
	return d, nil
}

// Rules checks the processes block against the Procfile's types and returns
// each type's start rules. A type or a name in after that the Procfile does
// not have, a type that waits for itself and a cycle are errors at the line
// that says so.
func (f File) Rules(types []string) (map[string]procfile.Rules, error) {
	at := func(line int, format string, args ...any) error {
		return &fileline.Error{File: f.Path, Line: line, Err: fmt.Errorf(format, args...)}
	}
	known := func(name string) bool { return slices.Contains(types, name) }
	rules := map[string]procfile.Rules{}
	for _, p := range f.Processes {
		if !known(p.Type) {
			return nil, at(p.Line, "%s: no such process type in the Procfile (it has %s)", p.Type, strings.Join(types, ", "))
		}
		r := procfile.Rules{Ready: p.Ready, ReadyTimeout: p.ReadyTimeout}
		for _, a := range p.After {
			switch {
			case a.Name == p.Type:
				return nil, at(a.Line, "%s: after: a type cannot wait for itself", p.Type)
			case a.Name == procfile.ReleaseType:
				return nil, at(a.Line, "%s: after: %s always runs first, to completion; leave it out", p.Type, procfile.ReleaseType)
			case !known(a.Name):
				return nil, at(a.Line, "%s: after: no such process type %q in the Procfile (it has %s)", p.Type, a.Name, strings.Join(types, ", "))
			}
			r.After = append(r.After, a.Name)
		}
		rules[p.Type] = r
	}
	// A cycle: follow after from each type, depth first.
	line := map[string]int{}
	for _, p := range f.Processes {
		line[p.Type] = p.Line
	}
	const (
		unseen = iota
		open
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(t string) error
	visit = func(t string) error {
		switch mark[t] {
		case open:
			i := slices.Index(path, t)
			cycle := append(slices.Clone(path[i:]), t)
			return at(line[cycle[0]], "%s: after: a cycle: %s", cycle[0], strings.Join(cycle, " → "))
		case done:
			return nil
		}
		mark[t] = open
		path = append(path, t)
		for _, a := range rules[t].After {
			if err := visit(a); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		mark[t] = done
		return nil
	}
	for _, p := range f.Processes {
		if err := visit(p.Type); err != nil {
			return nil, err
		}
	}
	return rules, nil
}
