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

// supervisordVars are hostile values supervisord can hold: no newline, one
// kind of quote each, no ';' or '#' after white space.
var supervisordVars = env.Vars{
	"DQ":    "a b \"double\" 100% %(ENV_HOME)s $HOME ${PATH} \\ & < > x#y z;w\ttab",
	"SQ":    "it's 50% off & <more>",
	"EMPTY": "",
}

// TestSupervisordRuns starts a real supervisord on the export and checks
// each program's PORT, PS, working directory and environment, then stops it
// and checks that every process it started is gone.
func TestSupervisordRuns(t *testing.T) {
	supervisord := requireTool(t, "supervisord")
	supervisorctl := requireTool(t, "supervisorctl")
	requireRoot(t)
	root := consumerRoot(t)
	logDir := filepath.Join(root, "log")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := consumerInput(t, supervisordVars)
	dir, _ := render(t, Supervisord, in, Options{App: "sample", User: "root", Root: root, LogDir: logDir, Timeout: 3e9})

	run := t.TempDir()
	conf := filepath.Join(run, "supervisord.conf")
	sock := filepath.Join(run, "supervisor.sock")
	mainConf := fmt.Sprintf(`[supervisord]
nodaemon=true
user=root
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s

[unix_http_server]
file=%[2]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[2]s

[include]
files = %[3]s/*.conf
`, run, sock, dir)
	if err := os.WriteFile(conf, []byte(mainConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(supervisord, "-n", "-c", conf)
	cmd.Dir = run
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(run, "supervisord.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done is closed when supervisord has exited; waitErr is then set.
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default: // the test failed with supervisord still up
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		killRecorded(t, root)
	})
	fail := func(format string, args ...any) {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(run, "supervisord.log"))
		t.Fatalf(format+"\nsupervisord.log:\n%s", append(args, b)...)
	}

	select {
	case <-done:
		fail("supervisord exited at start: %v", waitErr)
	default:
	}
	waitFiles(t, 20*time.Second, instanceFiles(root, in)...)
	checkInstanceFiles(t, root, in, supervisordVars)

	// The release ran once and stays exited; the others run.
	status := func() string {
		b, _ := exec.Command(supervisorctl, "-c", conf, "status").CombinedOutput()
		return string(b)
	}
	state := func(st, program string) string {
		for _, line := range strings.Split(st, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == program {
				return f[1]
			}
		}
		return ""
	}
	waitFor(t, 10*time.Second, "the release to be EXITED", func() bool {
		return state(status(), "sample:sample-release-1") == "EXITED"
	})
	for _, inst := range in.Instances[1:] {
		// RUNNING once it has stayed up startsecs (1 s).
		program := fmt.Sprintf("sample:sample-%s-%d", inst.Type, inst.Num)
		waitFor(t, 10*time.Second, program+" to be RUNNING", func() bool {
			return state(status(), program) == "RUNNING"
		})
	}
	for _, inst := range in.Instances {
		log := filepath.Join(logDir, inst.Name+".log")
		waitFor(t, 10*time.Second, log, func() bool {
			b, _ := os.ReadFile(log)
			return strings.Contains(string(b), inst.Name+" says hello")
		})
	}

	pids := recordedPIDs(t, root)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("supervisord: %v", waitErr)
		}
	case <-time.After(20 * time.Second):
		fail("supervisord did not stop within 20s of SIGTERM")
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d outlived supervisord", pid)
		}
	}
}

func TestSupervisordCannotHold(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"newline", "a\nb", "line break"},
		{"cr", "a\rb", "line break"},
		{"both quotes", `it's "x"`, "both ' and \""},
		{"leading quote", `"quoted"`, "starts or ends with a quote"},
		{"comment", "a ;b", "comment"},
		{"hash comment", "a\t#b", "comment"},
		{"hostile", hostile, "line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := consumerInput(t, env.Vars{"OK": "fine", "BAD": tc.value})
			_, err := Render(Supervisord, in, Options{App: "sample", Root: "/srv/sample"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Render: %v, want an *Error", err)
			}
			if !strings.Contains(err.Error(), `variable "BAD" (env files)`) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render: %v, want it to name BAD and say %q", err, tc.want)
			}
		})
	}
}
