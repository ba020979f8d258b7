package export

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/proctor-run/proctor/procfile"
)

// compose: one compose.yaml with a service per instance, named TYPE-N
// (web-1, web-2), all from Options.Image. Compose interpolates "$" in every
// string of the file, so each '$' is written as "$$" and the process gets
// it back as written. The release becomes a service that runs once
// (restart "no"), and every other service depends on it with condition
// service_completed_successfully.

// composeProject is the part of the Compose specification proctor writes.
type composeProject struct {
	Name     string                     `yaml:"name"`
	Services map[string]*composeService `yaml:"services"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Command         []string                     `yaml:"command"`
	WorkingDir      string                       `yaml:"working_dir,omitempty"`
	User            string                       `yaml:"user,omitempty"`
	Environment     map[string]string            `yaml:"environment"`
	Ports           []string                     `yaml:"ports,omitempty"`
	DependsOn       map[string]composeDependency `yaml:"depends_on,omitempty"`
	Healthcheck     *composeHealth               `yaml:"healthcheck,omitempty"`
	Restart         string                       `yaml:"restart"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
	Init            bool                         `yaml:"init"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealth struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

// composeHealthInterval is how often a healthcheck made from a ready check
// runs; its retries cover the check's ready_timeout.
const composeHealthInterval = 2 * time.Second

// composeHealthcheck makes a healthcheck of a ready check, for a service
// on port: http and exec can be (http through the image's wget or curl),
// port, tcp and log cannot without tools the image may lack, or at all.
func composeHealthcheck(r procfile.Readiness, port int, timeout time.Duration) (*composeHealth, bool) {
	var cmd string
	switch r.Kind {
	case procfile.ReadyHTTP:
		url := "'" + strings.ReplaceAll(fmt.Sprintf("http://127.0.0.1:%d%s", port, r.Arg), "'", `'\''`) + "'"
		cmd = fmt.Sprintf("wget -q -O /dev/null %s || curl -fsS -o /dev/null %s", url, url)
	case procfile.ReadyExec:
		cmd = r.Arg
	default:
		return nil, false
	}
	retries := max(1, int((timeout+composeHealthInterval-1)/composeHealthInterval))
	return &composeHealth{
		Test:     []string{"CMD-SHELL", composeEscape(cmd)},
		Interval: composeHealthInterval.String(),
		Timeout:  composeHealthInterval.String(),
		Retries:  retries,
	}, true
}

// composeEscape writes each '$' as "$$", Compose's literal dollar.
func composeEscape(s string) string {
	return strings.ReplaceAll(s, "$", "$$")
}

// composeName is an instance's service name, "TYPE-N": process type names
// ([A-Za-z0-9_-]) are valid service names as they stand.
func composeName(inst *Instance) string {
	return fmt.Sprintf("%s-%d", inst.Type, inst.Num)
}

// composeProjectName lowercases the app name and turns '.' into '-', as
// Compose project names allow only [a-z0-9_-].
func composeProjectName(app string) string {
	return strings.ReplaceAll(strings.ToLower(app), ".", "-")
}

// composeFile returns the Compose model of d.
func composeFile(d *Data) *composeProject {
	p := &composeProject{Name: composeProjectName(d.App), Services: map[string]*composeService{}}
	for _, inst := range d.Instances {
		s := &composeService{
			Image:           composeEscape(d.Image),
			Command:         []string{"/bin/sh", "-c", composeEscape(inst.Command)},
			WorkingDir:      composeEscape(d.WorkDir),
			User:            composeEscape(d.User),
			Environment:     map[string]string{},
			Restart:         "always",
			StopGracePeriod: fmt.Sprintf("%ds", d.Timeout),
			Init:            true,
		}
		for _, v := range inst.Env {
			s.Environment[v.Name] = composeEscape(v.Value)
		}
		if inst.Exposed {
			s.Ports = []string{fmt.Sprintf("%d:%d", inst.Port, inst.Port)}
		}
		if inst.Release {
			s.Restart = "no"
		} else if d.Release != nil {
			s.DependsOn = map[string]composeDependency{composeName(d.Release): {Condition: "service_completed_successfully"}}
		}
		s.Healthcheck, _ = composeHealthcheck(inst.Ready, inst.Port, inst.ReadyTimeout)
		for _, dep := range inst.After {
			if s.DependsOn == nil {
				s.DependsOn = map[string]composeDependency{}
			}
			cond := "service_started"
			if _, ok := composeHealthcheck(dep.Ready, dep.Port, dep.ReadyTimeout); ok {
				cond = "service_healthy"
			}
			s.DependsOn[composeName(dep)] = composeDependency{Condition: cond}
		}
		p.Services[composeName(inst)] = s
	}
	return p
}

// yamlString encodes v as a YAML document, indented by two spaces.
func yamlString(v any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkCompose has nothing to add: YAML holds every UTF-8 string.
func checkCompose(d *Data) error { return nil }

func renderCompose(d *Data, t *templates) ([]File, error) {
	b, err := t.execute("compose.yaml.tmpl", d)
	if err != nil {
		return nil, err
	}
	return []File{{Path: "compose.yaml", Data: b, Mode: 0o600}}, nil
}
