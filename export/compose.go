package export

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
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
	Restart         string                       `yaml:"restart"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
	Init            bool                         `yaml:"init"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
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
