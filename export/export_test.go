package export

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/procfile"
)

// sampleInput reads the sample app of testdata/export/sample as proctor
// does: web=2, everything else once, base port 5000.
func sampleInput(t *testing.T) Input {
	t.Helper()
	dir := filepath.Join("..", "testdata", "export", "sample")
	entries, err := procfile.ParseFile(filepath.Join(dir, "Procfile"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := env.Reader{}.Read(filepath.Join(dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	fm, err := procfile.ParseFormation("all=1,web=2")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := procfile.Resolve(entries, &fm, nil)
	if err != nil {
		t.Fatal(err)
	}
	return planned(t, entries, counts, vars)
}

var sampleOptions = Options{
	App:    "sample",
	Root:   "/srv/sample",
	Image:  "registry.example/sample:1.0",
	Expose: []string{"clock_tick"},
}

// TestGolden compares each format's export of the sample app with the tree
// in testdata/export/FORMAT; go test -update rewrites the trees.
func TestGolden(t *testing.T) {
	in := sampleInput(t)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			files, err := Render(format, in, sampleOptions)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "testdata", "export", format)
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				if err := WriteFiles(golden, files); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]string{}
			err = filepath.WalkDir(golden, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(golden, p)
				b, err := os.ReadFile(p)
				want[filepath.ToSlash(rel)] = string(b)
				return err
			})
			if err != nil {
				t.Fatalf("%v (run go test -update to write the golden files)", err)
			}
			for _, f := range files {
				if f.Mode.IsDir() {
					continue
				}
				w, ok := want[f.Path]
				switch {
				case !ok:
					t.Errorf("%s: not in %s (go test -update writes it)", f.Path, golden)
				case w != string(f.Data):
					t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", f.Path, golden, f.Data, w)
				}
				delete(want, f.Path)
			}
			for p := range want {
				t.Errorf("%s/%s: no longer exported", golden, p)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	in := sampleInput(t)
	for _, tc := range []struct {
		name   string
		format string
		edit   func(*Input, *Options)
		want   string
	}{
		{"unknown format", "upstart", nil, "export upstart: format is unknown (choose one of systemd, supervisord, runit, launchd, compose, kubernetes)"},
		{"bad app", Systemd, func(_ *Input, o *Options) { o.App = "my app" }, `export systemd: app name "my app" may hold only letters, digits, '_', '-' and '.', and must start with a letter or digit`},
		{"relative root", Systemd, func(_ *Input, o *Options) { o.Root = "srv" }, `export systemd: root "srv" is not an absolute path`},
		{"expose unknown", Compose, func(_ *Input, o *Options) { o.Expose = []string{"wrker"} }, `export compose: exposed type "wrker" is not a process type of the Procfile (it has release, web, worker, clock_tick)`},
		{"bad name", Systemd, func(in *Input, _ *Options) { *in = withVars(in, env.Vars{"A.B": "1"}) }, `export systemd: variable "A.B" (env files) is not a portable variable name: use letters, digits and '_', not starting with a digit`},
		{"not utf-8", Runit, func(in *Input, _ *Options) { *in = withVars(in, env.Vars{"BIN": "\xff"}) }, `export runit: variable "BIN" (env files) holds bytes that are not UTF-8`},
		{"newline in user", Supervisord, func(_ *Input, o *Options) { o.User = "a\nb" }, `export supervisord: user "a\nb" holds a line break or a NUL byte`},
		{"trailing backslash root", Systemd, func(_ *Input, o *Options) { o.Root = `/srv/x\` }, `export systemd: setting "/srv/x\\" ends with a backslash, which systemd reads as a line continuation`},
		{"no instances", Systemd, func(in *Input, _ *Options) { in.Instances = nil }, "export systemd: formation runs no instance: nothing to export"},
		{"launchd command", Launchd, func(in *Input, _ *Options) { in.Instances[1].Command = "echo \x01" }, `export launchd: command of "web" (Procfile) holds the character U+0001, which an XML property list cannot hold`},
		{"no image", Kubernetes, func(_ *Input, o *Options) { o.Image = "" }, "export kubernetes: image is required: name the container image that holds the app"},
		{"template dir", Systemd, func(_ *Input, o *Options) { o.TemplateDir = "/nonexistent" }, `export systemd: template directory "/nonexistent" is not a directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			in.Instances = append([]procfile.Instance(nil), in.Instances...)
			opts := sampleOptions
			if tc.edit != nil {
				tc.edit(&in, &opts)
			}
			files, err := Render(tc.format, in, opts)
			var e *Error
			if !errors.As(err, &e) || err.Error() != tc.want {
				t.Errorf("Render: %v\nwant:   %s", err, tc.want)
			}
			if files != nil {
				t.Errorf("Render returned files with an error")
			}
		})
	}
}

func TestUserTemplates(t *testing.T) {
	in := sampleInput(t)
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// DIR/FORMAT/NAME wins over DIR/NAME; other templates stay built in.
	write(filepath.Join(dir, "systemd", "target.tmpl"), "[Unit]\nDescription=custom {{ .App }} {{ len .Instances }}\n")
	write(filepath.Join(dir, "target.tmpl"), "not this one\n")
	write(filepath.Join(dir, "compose.yaml.tmpl"), "{{ yaml (composeFile .) }}volumes:\n  data: {}\n")
	write(filepath.Join(dir, "supervisord.conf.tmpl"), "{{ range .Instances }}[program:{{ .ID }}]\nenvironment={{ supervisorEnv .Env }}\n{{ end }}")
	opts := sampleOptions
	opts.TemplateDir = dir

	files, err := Render(Systemd, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files[0].Data); got != "[Unit]\nDescription=custom sample 5\n" {
		t.Errorf("sample.target from the user template = %q", got)
	}
	if !strings.Contains(string(files[1].Data), "PartOf=sample.target") {
		t.Errorf("service units should still come from the built-in template:\n%s", files[1].Data)
	}
	files, err = Render(Compose, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(files[0].Data), "\nvolumes:\n  data: {}\n") || !strings.Contains(string(files[0].Data), "services:") {
		t.Errorf("compose.yaml from the user template:\n%s", files[0].Data)
	}

	// A value the user's template cannot hold is still an error naming it.
	bad := withVars(&in, env.Vars{"BAD": "a\nb"})
	_, err = Render(Supervisord, bad, opts)
	if err == nil || err.Error() != `export supervisord: variable "BAD" (env files) holds a line break, which supervisord's configuration cannot hold` {
		t.Errorf("Render: %v", err)
	}

	write(filepath.Join(dir, "launchd.plist.tmpl"), "{{ .Nope }")
	_, err = Render(Launchd, in, opts)
	if err == nil || !strings.Contains(err.Error(), "launchd.plist.tmpl does not parse") {
		t.Errorf("Render with a broken template: %v", err)
	}
	write(filepath.Join(dir, "launchd.plist.tmpl"), "{{ .Nope }}")
	_, err = Render(Launchd, in, opts)
	if err == nil || !strings.Contains(err.Error(), "launchd.plist.tmpl failed") {
		t.Errorf("Render with a failing template: %v", err)
	}
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	files := []File{
		{Path: "a", Mode: dirMode | 0o700},
		{Path: "a/b/c.txt", Data: []byte("hi\n"), Mode: 0o640},
		{Path: "x.sh", Data: []byte("#!/bin/sh\n"), Mode: 0o755},
	}
	if err := WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]fs.FileMode{"a": fs.ModeDir | 0o700, "a/b/c.txt": 0o640, "x.sh": 0o755} {
		info, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", p, info.Mode(), mode)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestEscapers(t *testing.T) {
	for in, want := range map[string]string{
		"plain":     "plain",
		"":          "''",
		"it's":      `'it'\''s'`,
		"a b$c":     `'a b$c'`,
		"100%":      "100%",
		"new\nline": "'new\nline'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := systemdExec("/bin/sh", "-c", `echo "a\b" 100% $X`), `/bin/sh -c "echo \"a\\b\" 100%% $$X"`; got != want {
		t.Errorf("systemdExec = %s, want %s", got, want)
	}
	if got, want := systemdExec("-weird", "x"), `"-weird" x`; got != want {
		t.Errorf("systemdExec = %s, want %s", got, want)
	}
	if got, want := systemdEnv(Var{"A", "x\ty\x01\"%"}), `"A=x\ty\x01\"%%"`; got != want {
		t.Errorf("systemdEnv = %s, want %s", got, want)
	}
	if got, _ := supervisorCommand("/bin/sh", "-c", `a ;b #c \ "d" 5%`); got != `/bin/sh -c "a "";b ""#c \\ \"d\" 5%%"` {
		t.Errorf("supervisorCommand = %s", got)
	}
	if got, want := xmlEscape("<a href='x'>&\"\r\t</a>"), "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&#xD;&#x9;&lt;/a&gt;"; got != want {
		t.Errorf("xmlEscape = %s, want %s", got, want)
	}
	if got, _ := jsonString("<&>\n"); got != `"<&>\n"` {
		t.Errorf("jsonString = %s", got)
	}
}

// FuzzRender renders every format with arbitrary values and commands: no
// panic, and a format either holds the value or says which one it cannot.
func FuzzRender(f *testing.F) {
	f.Add(hostile, hostileCommand, "web")
	f.Add("", "x", "a_b")
	f.Add("\"'", "echo %s $$", "release")
	f.Add("trailing ", "\x01", "---")
	f.Fuzz(func(t *testing.T, value, command, typ string) {
		entries, err := procfile.ParseBytes([]byte(typ + ": " + command + "\nother: true\n"))
		if err != nil {
			return
		}
		counts, err := procfile.Resolve(entries, nil, nil)
		if err != nil {
			return
		}
		vars := env.Vars{"VALUE": value}
		instances, err := procfile.App{Entries: entries, Ports: procfile.Ports{Base: 5000, Step: 100}, Environ: env.Environ(nil, vars, true)}.Plan(counts)
		if err != nil {
			return
		}
		in := Input{Entries: entries, Instances: instances}
		for _, format := range Formats() {
			files, err := Render(format, in, sampleOptions)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("%s: %v is not an *Error", format, err)
				}
				continue
			}
			if len(files) == 0 {
				t.Errorf("%s: no files and no error", format)
			}
			if !utf8.ValidString(value) {
				t.Errorf("%s accepted a value that is not UTF-8", format)
			}
		}
	})
}

// TestOptionErrors: an error about an option says which, with its value,
// so that a command line can word it with its own flag.
func TestOptionErrors(t *testing.T) {
	in := sampleInput(t)
	for _, tc := range []struct {
		name   string
		format string
		edit   func(*Options)
		want   Error
	}{
		{"app", Systemd, func(o *Options) { o.App = "my app" }, Error{Option: OptionApp, Value: "my app", Valued: true}},
		{"k8s app", Kubernetes, func(o *Options) { o.App = "1app" }, Error{Option: OptionApp, Value: "1app", Valued: true}},
		{"timeout", Systemd, func(o *Options) { o.Timeout = -time.Second }, Error{Option: OptionTimeout}},
		{"no image", Compose, func(o *Options) { o.Image = "" }, Error{Option: OptionImage}},
		{"bad image", Compose, func(o *Options) { o.Image = "a\nb" }, Error{Option: OptionImage, Value: "a\nb", Valued: true}},
		{"workdir", Kubernetes, func(o *Options) { o.WorkDir = "/a\x00" }, Error{Option: OptionWorkDir, Value: "/a\x00", Valued: true}},
		{"expose", Compose, func(o *Options) { o.Expose = []string{"api"} }, Error{Option: OptionExpose, Value: "api", Valued: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := sampleOptions
			tc.edit(&opts)
			_, err := Render(tc.format, in, opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Render: %v, want an *Error", err)
			}
			got := Error{Option: e.Option, Value: e.Value, Valued: e.Valued}
			if got != tc.want {
				t.Errorf("Render: %+v, want %+v", got, tc.want)
			}
			if !strings.HasPrefix(e.What, string(tc.want.Option)) {
				t.Errorf("What %q does not name the option %q", e.What, tc.want.Option)
			}
		})
	}
}
