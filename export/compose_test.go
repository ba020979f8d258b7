package export

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/proctor-run/proctor/env"
)

// composeVars are hostile values, with references to variables the loader
// knows, which must not be interpolated.
var composeVars = env.Vars{
	"HOSTILE": hostile,
	"DOLLARS": "$$ $HOME ${HOME} ${HOME:-x} $",
	"YAMLISH": "yes",
	"NUMBER":  "0x10",
	"NULL":    "null",
	"EMPTY":   "",
	"UNICODE": "grüße ☃\u2028",
}

// loadCompose loads a compose file with the Compose specification's
// reference loader, with HOME and PATH set for interpolation.
func loadCompose(t *testing.T, dir string, data []byte) *types.Project {
	t.Helper()
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: data}},
		Environment: types.Mapping{"HOME": "/home/exporter", "PATH": "/usr/bin"},
	}
	p, err := loader.LoadWithContext(t.Context(), details, func(o *loader.Options) {
		o.SkipResolveEnvironment = true
	})
	if err != nil {
		t.Fatalf("compose-go cannot load the export: %v\n%s", err, data)
	}
	return p
}

func TestComposeLoads(t *testing.T) {
	in := consumerInput(t, composeVars)
	in.Instances[1].Command = hostileCommand + " && echo $HOME ${PATH} $$"
	dir := t.TempDir()
	files, err := Render(Compose, in, Options{App: "Sample.App", Root: "/srv/sample", Image: "registry.example/sample:$1", WorkDir: "/app", User: "1000:1000", Expose: []string{"worker"}, Timeout: 8e9})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "compose.yaml" {
		t.Fatalf("files: %v, want compose.yaml", files)
	}
	p := loadCompose(t, dir, files[0].Data)
	if p.Name != "sample-app" {
		t.Errorf("project name %q, want sample-app", p.Name)
	}
	if len(p.Services) != len(in.Instances) {
		t.Errorf("%d services, want %d: %v", len(p.Services), len(in.Instances), p.ServiceNames())
	}
	for _, inst := range in.Instances {
		name := fmt.Sprintf("%s-%d", inst.Type, inst.Num)
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		if s.Image != "registry.example/sample:$1" {
			t.Errorf("%s: image %q", name, s.Image)
		}
		if want := (types.ShellCommand{"/bin/sh", "-c", inst.Command}); !reflect.DeepEqual(s.Command, want) {
			t.Errorf("%s: command\n%q\nwant\n%q", name, s.Command, want)
		}
		if s.WorkingDir != "/app" || s.User != "1000:1000" {
			t.Errorf("%s: working_dir %q, user %q", name, s.WorkingDir, s.User)
		}
		wantEnv := map[string]string{"PORT": fmt.Sprint(inst.Port), "PS": inst.Name}
		for k, v := range composeVars {
			wantEnv[k] = v
		}
		if len(s.Environment) != len(wantEnv) {
			t.Errorf("%s: %d variables, want %d", name, len(s.Environment), len(wantEnv))
		}
		for k, v := range wantEnv {
			got := s.Environment[k]
			if got == nil || *got != v {
				t.Errorf("%s: $%s = %v, want %q", name, k, got, v)
			}
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) != 8*time.Second {
			t.Errorf("%s: stop_grace_period %v, want 8s", name, s.StopGracePeriod)
		}
		if s.Init == nil || !*s.Init {
			t.Errorf("%s: init is not true", name)
		}
		if inst.Type == "release" {
			if s.Restart != "no" || len(s.DependsOn) != 0 || len(s.Ports) != 0 {
				t.Errorf("%s: restart %q, depends_on %v, ports %v; want no, none, none", name, s.Restart, s.DependsOn, s.Ports)
			}
			continue
		}
		if s.Restart != "always" {
			t.Errorf("%s: restart %q, want always", name, s.Restart)
		}
		dep, ok := s.DependsOn["release-1"]
		if len(s.DependsOn) != 1 || !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully || !dep.Required {
			t.Errorf("%s: depends_on %+v, want release-1 completed successfully", name, s.DependsOn)
		}
		wantPort := types.ServicePortConfig{Mode: "ingress", Target: uint32(inst.Port), Published: fmt.Sprint(inst.Port), Protocol: "tcp"}
		if len(s.Ports) != 1 || !reflect.DeepEqual(s.Ports[0], wantPort) {
			t.Errorf("%s: ports %+v, want %+v", name, s.Ports, wantPort)
		}
	}
}

func TestComposeNeedsImage(t *testing.T) {
	in := consumerInput(t, nil)
	_, err := Render(Compose, in, Options{App: "sample", Root: "/srv/sample"})
	if err == nil || err.Error() != "export compose: image is required: name the container image that holds the app" {
		t.Errorf("Render without an image: %v", err)
	}
}
