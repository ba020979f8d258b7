package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportApp makes an app directory named "shop" with a Procfile and .env.
func exportApp(t *testing.T, procfileText, dotenv string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "shop")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Procfile"), []byte(procfileText), 0o644); err != nil {
		t.Fatal(err)
	}
	if dotenv != "" {
		if err := os.WriteFile(filepath.Join(root, ".env"), []byte(dotenv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func runExport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(append([]string{"export"}, args...), strings.NewReader(""), &out, &errb, make(chan os.Signal, 1))
	return code, out.String(), errb.String()
}

func TestExportComposeToStdout(t *testing.T) {
	t.Setenv("PROCTOR_EXPORT_LEAK", "from the exporting machine")
	t.Setenv("PORT", "7000") // the OS environment plays no part
	root := exportApp(t, "web: serve $PORT\nworker: work\n", "PORT=6000\nGREETING=hi $$ there\n")
	code, out, errOut := runExport(t, "compose", "-d", root, "--image", "shop:1", "-m", "web=2,worker=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name: shop\n", "web-1:", "web-2:", "worker-1:", `PORT: "6000"`, `PORT: "6001"`, `PORT: "6100"`, "PS: web.2", "serve $$PORT", "- 6001:6001"} {
		if !strings.Contains(out, want) {
			t.Errorf("compose.yaml lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PROCTOR_EXPORT_LEAK") || strings.Contains(out, "7000") {
		t.Errorf("the OS environment leaked into the export:\n%s", out)
	}
}

func TestExportWritesDir(t *testing.T) {
	t.Setenv("PORT", "7000")
	root := exportApp(t, "release: migrate\nweb: serve\n", "")
	dir := filepath.Join(t.TempDir(), "units")
	code, out, errOut := runExport(t, "systemd", dir, "-f", filepath.Join(root, "Procfile"), "-u", "deploy", "--timeout", "9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"shop.target", "shop-release-1.service", "shop-web-1.service"} {
		if !strings.Contains(out, "wrote "+filepath.Join(dir, name)+"\n") {
			t.Errorf("stdout does not list %s:\n%s", name, out)
		}
	}
	unit, err := os.ReadFile(filepath.Join(dir, "shop-web-1.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=deploy\n", "WorkingDirectory=" + root + "\n", `Environment="PORT=5100"`, "TimeoutStopSec=9\n", "Requires=shop-release-1.service\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("shop-web-1.service lacks %q:\n%s", want, unit)
		}
	}
}

func TestExportPortFlag(t *testing.T) {
	root := exportApp(t, "web: serve\n", "PORT=6000\n")
	code, out, errOut := runExport(t, "kubernetes", "-d", root, "--image", "shop:1", "-p", "8000", "-a", "store")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "containerPort: 8000") || !strings.Contains(out, "name: store-web") {
		t.Errorf("kubernetes export ignores -p or -a:\n%s", out)
	}
}

func TestExportErrors(t *testing.T) {
	root := exportApp(t, "web: serve\n", "BAD=\"two\nlines\"\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no format", nil, "export: missing FORMAT"},
		{"unknown format", []string{"upstart", "x"}, `export: unknown format "upstart"`},
		{"no dir", []string{"systemd", "-d", root}, "export systemd: missing DIR"},
		{"no image", []string{"compose", "-d", root}, "export compose: --image is required"},
		{"bad formation", []string{"runit", "DIR", "-d", root, "-m", "wrker=1"}, `formation: unknown process type "wrker"`},
		{"newline", []string{"supervisord", "DIR", "-d", root}, `export supervisord: variable "BAD" (env files) holds a line break`},
		{"bad expose", []string{"compose", "DIR", "-d", root, "--image", "x", "--expose", "api"}, `export compose: --expose "api" is not a process type`},
		{"bad image", []string{"kubernetes", "-d", root, "--image", "a\nb"}, `export kubernetes: --image "a\nb" holds a line break`},
		{"bad workdir", []string{"compose", "-d", root, "--image", "x", "--workdir", "/a\x00"}, `export compose: --workdir "/a\x00" holds`},
		{"bad app name", []string{"kubernetes", "-d", root, "--image", "x", "-a", "1app"}, `export kubernetes: app name "1app" must start with a letter: Kubernetes Service names are DNS-1035 labels (choose one with -a)`},
		{"missing env", []string{"launchd", "DIR", "-d", root, "-e", filepath.Join(root, "nope.env")}, "nope.env"},
		{"too many", []string{"compose", "a", "b"}, `export: unexpected argument "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if a == "DIR" {
					args[i] = dir
				}
			}
			code, out, errOut := runExport(t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not say %q", errOut, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created by a failed export", dir)
			}
		})
	}
}

// TestExportRules: the .proctor of the root reaches the export (a
// readiness probe, a type's env file), and what the target cannot hold is
// said once on stderr.
func TestExportRules(t *testing.T) {
	root := exportApp(t, "web: serve\ndb: pg\n", "A=1\n")
	proctor := "processes:\n  web:\n    after: db\n    watch: [app/**]\n  db:\n    ready: http /health\n    env_file: .env.db\n"
	if err := os.WriteFile(filepath.Join(root, ".proctor"), []byte(proctor), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ".env.db"), []byte("DB_ONLY=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runExport(t, "kubernetes", "-d", root, "--image", "shop:1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"readinessProbe:", "path: /health", "name: DB_ONLY"} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q:\n%s", want, out)
		}
	}
	want := "proctor: export kubernetes: not exported: after: Kubernetes has no start order (web); watch (web)\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}
