package export

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctor-run/proctor/env"
)

// runitVars are hostile values chpst's environment directory holds,
// including a newline (written as NUL, which chpst turns back).
var runitVars = env.Vars{
	"HOSTILE": hostile,
	"EMPTY":   "",
	"LEADING": "  two spaces first",
	"UNICODE": "grüße ☃",
}

// TestRunitRuns starts a real runsv on every exported service directory,
// checks each process, its environment and its log, then stops them with
// sv exit and checks that nothing is left.
func TestRunitRuns(t *testing.T) {
	runsv := requireTool(t, "runsv")
	sv := requireTool(t, "sv")
	requireTool(t, "chpst")
	requireTool(t, "svlogd")
	requireRoot(t)
	root := consumerRoot(t)
	logDir := filepath.Join(root, "log")
	in := consumerInput(t, runitVars)
	dir, _ := render(t, Runit, in, Options{App: "sample", User: "root", Root: root, LogDir: logDir})

	type service struct {
		dir  string
		done chan struct{}
		cmd  *exec.Cmd
	}
	var services []*service
	for _, inst := range in.Instances {
		s := &service{dir: filepath.Join(dir, fmt.Sprintf("sample-%s-%d", inst.Type, inst.Num)), done: make(chan struct{})}
		s.cmd = exec.Command(runsv, s.dir)
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		services = append(services, s)
	}
	t.Cleanup(func() {
		for _, s := range services {
			select {
			case <-s.done:
			default: // the test failed with runsv still up
				_ = exec.Command(sv, "exit", s.dir).Run()
				select {
				case <-s.done:
				case <-time.After(5 * time.Second):
					_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
					<-s.done
				}
			}
		}
		killRecorded(t, root)
	})

	waitFiles(t, 20*time.Second, instanceFiles(root, in)...)
	checkInstanceFiles(t, root, in, runitVars)
	for _, inst := range in.Instances {
		current := filepath.Join(logDir, inst.Name, "current")
		waitFor(t, 10*time.Second, "svlogd to write "+current, func() bool {
			b, _ := os.ReadFile(current)
			return strings.Contains(string(b), inst.Name+" says hello")
		})
	}

	// The release ran once: runsv holds it down, wanting it down.
	release := services[0]
	waitFor(t, 10*time.Second, "the release to be down", func() bool {
		out, _ := exec.Command(sv, "status", release.dir).Output()
		return strings.HasPrefix(string(out), "down: ")
	})
	if out, _ := exec.Command(sv, "status", release.dir).Output(); strings.Contains(string(out), "want up") {
		t.Errorf("runsv wants to restart the release: %s", out)
	}

	pids := recordedPIDs(t, root)
	for _, s := range services {
		if out, err := exec.Command(sv, "exit", s.dir).CombinedOutput(); err != nil {
			t.Errorf("sv exit %s: %v\n%s", s.dir, err, out)
		}
	}
	for _, s := range services {
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("runsv %s did not exit within 20s of sv exit", s.dir)
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d outlived runsv", pid)
		}
	}
}

func TestRunitCannotHold(t *testing.T) {
	for _, value := range []string{"trailing space ", "trailing tab\t"} {
		in := consumerInput(t, env.Vars{"BAD": value})
		_, err := Render(Runit, in, Options{App: "sample", Root: "/srv/sample"})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), `variable "BAD" (env files) ends with a space or tab`) {
			t.Errorf("Render with BAD=%q: %v, want an error naming BAD", value, err)
		}
	}
}

// TestRunitEnvFiles checks the env/ files byte for byte: a newline in a
// value is written as NUL, each value ends with a newline.
func TestRunitEnvFiles(t *testing.T) {
	in := consumerInput(t, env.Vars{"MULTI": "a\nb", "EMPTY": ""})
	files, err := Render(Runit, in, Options{App: "sample", Root: "/srv/sample"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sample-web-2/env/MULTI": "a\x00b\n",
		"sample-web-2/env/EMPTY": "\n",
		"sample-web-2/env/PORT":  "5101\n",
		"sample-web-2/env/PS":    "web.2\n",
	}
	for _, f := range files {
		if w, ok := want[f.Path]; ok {
			if string(f.Data) != w {
				t.Errorf("%s = %q, want %q", f.Path, f.Data, w)
			}
			if f.Mode != 0o600 {
				t.Errorf("%s: mode %v, want 0600", f.Path, f.Mode)
			}
			delete(want, f.Path)
		}
	}
	for p := range want {
		t.Errorf("no file %s", p)
	}
}
