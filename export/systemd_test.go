package export

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/proctor-run/proctor/env"
)

// systemdDump runs systemd-analyze verify on the exported units and returns
// its output. At log level debug, systemd-analyze also prints every unit it
// loaded as systemd parsed it: the environment, the command line (argv,
// before variable substitution), the user and the dependencies.
func systemdDump(t *testing.T, dir string, files []File, debug bool) string {
	t.Helper()
	tool := requireTool(t, "systemd-analyze")
	args := []string{"verify"}
	for _, f := range files {
		args = append(args, filepath.Join(dir, f.Path))
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_TARGET=console", "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	if debug {
		cmd.Env = append(cmd.Env, "SYSTEMD_LOG_LEVEL=debug")
	}
	// The dump goes to stdout, log messages to stderr.
	var out, log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, log.String())
	}
	if debug {
		return out.String()
	}
	return log.String() + out.String()
}

// systemdUnitDump returns the part of a debug dump about one unit.
func systemdUnitDump(t *testing.T, dump, name string) string {
	t.Helper()
	start := strings.Index(dump, "\t-> Unit "+name+":\n")
	if start < 0 {
		t.Fatalf("systemd-analyze did not load %s", name)
	}
	rest := dump[start+1:]
	if end := strings.Index(rest, "\t-> Unit "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// shellSplit splits a command line as systemd prints it (shell quoting)
// with /bin/sh itself.
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", `eval "set -- $1" && printf '%s\0' "$@"`, "sh", line).Output()
	if err != nil {
		t.Fatalf("sh could not split %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestSystemdVerify(t *testing.T) {
	vars := env.Vars{"HOSTILE": hostile, "EMPTY": "", "UNICODE": "grüße ☃", "CTRL": "bell\a esc\x1b"}
	root := consumerRoot(t)
	in := consumerInput(t, vars)
	dir, files := render(t, Systemd, in, Options{App: "sample", User: "root", Root: root, Timeout: 7e9})

	// Plain verify: no complaint at all about the exported units.
	out := systemdDump(t, dir, files, false)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, dir) || strings.Contains(line, "sample") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}

	dump := systemdDump(t, dir, files, true)
	for _, inst := range in.Instances {
		id := fmt.Sprintf("sample-%s-%d.service", inst.Type, inst.Num)
		u := systemdUnitDump(t, dump, id)
		want := []string{
			"\t\tUser: root\n",
			"\t\tWorkingDirectory: " + root + "\n",
			"\t\tKillMode: control-group\n",
			"\t\tTimeoutStopSec: 7s\n",
			"\t\tPartOf: sample.target (origin-file)\n",
			"\t\tWantedBy: sample.target (destination-file)\n",
		}
		if inst.Type == "release" {
			want = append(want, "\t\tType: oneshot\n", "\t\tRemainAfterExit: yes\n", "\t\tRestart: no\n")
		} else {
			want = append(want, "\t\tType: simple\n", "\t\tRestart: always\n",
				"\t\tRequires: sample-release-1.service (origin-file)\n",
				"\t\tAfter: sample-release-1.service (origin-file)\n")
		}
		env := map[string]string{"PORT": fmt.Sprint(inst.Port), "PS": inst.Name}
		for k, v := range vars {
			env[k] = v
		}
		for k, v := range env {
			want = append(want, "\t\tEnvironment: "+k+"="+v+"\n")
		}
		for _, w := range want {
			if !strings.Contains(u, w) {
				t.Errorf("%s: systemd did not read %q", id, w)
			}
		}
		if n := strings.Count(u, "\t\tEnvironment: "); n != len(env) {
			t.Errorf("%s: systemd read %d Environment entries, want %d", id, n, len(env))
		}
		_, line, ok := strings.Cut(u, "\t\t\tCommand Line: ")
		if !ok {
			t.Fatalf("%s: no command line in the dump", id)
		}
		line, _, _ = strings.Cut(line, "\n")
		// systemd replaces "$$" by "$" when it runs the command.
		wantArgv := []string{"/bin/sh", "-c", strings.ReplaceAll(inst.Command, "$", "$$")}
		if got := shellSplit(t, line); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", wantArgv) {
			t.Errorf("%s: systemd parsed ExecStart as\n%q\nwant\n%q", id, got, wantArgv)
		}
	}
	target := systemdUnitDump(t, dump, "sample.target")
	for _, inst := range in.Instances {
		w := fmt.Sprintf("\t\tWants: sample-%s-%d.service (origin-file)\n", inst.Type, inst.Num)
		if !strings.Contains(target, w) {
			t.Errorf("sample.target: systemd did not read %q", w)
		}
	}
}

// TestSystemdUnitSyntax reads the units back with go-systemd's parser.
func TestSystemdUnitSyntax(t *testing.T) {
	in := consumerInput(t, env.Vars{"HOSTILE": hostile})
	files, err := Render(Systemd, in, Options{App: "sample", Root: "/srv/sample"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		opts, err := unit.DeserializeOptions(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		got := map[string]string{}
		for _, o := range opts {
			got[o.Section+"."+o.Name] = o.Value
		}
		if strings.HasSuffix(f.Path, ".target") {
			if got["Install.WantedBy"] != "multi-user.target" {
				t.Errorf("%s: WantedBy = %q", f.Path, got["Install.WantedBy"])
			}
			continue
		}
		for k, v := range map[string]string{"Service.User": "sample", "Service.WorkingDirectory": "/srv/sample", "Service.TimeoutStopSec": "5", "Install.WantedBy": "sample.target", "Unit.PartOf": "sample.target"} {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", f.Path, k, got[k], v)
			}
		}
	}
}
