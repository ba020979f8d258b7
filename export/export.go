package export

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/proctor-run/proctor/procfile"
)

// The formats Render knows.
const (
	Systemd     = "systemd"
	Supervisord = "supervisord"
	Runit       = "runit"
	Launchd     = "launchd"
	Compose     = "compose"
	Kubernetes  = "kubernetes"
)

// Formats returns the names of every format, in the order the docs present
// them.
func Formats() []string {
	return []string{Systemd, Supervisord, Runit, Launchd, Compose, Kubernetes}
}

// SingleFile reports whether format produces one file that may be printed
// to stdout instead of written into a directory (compose and kubernetes).
func SingleFile(format string) bool {
	return format == Compose || format == Kubernetes
}

// DefaultTimeout is the grace between SIGTERM and SIGKILL, as in proctor's
// own shutdown.
const DefaultTimeout = 5 * time.Second

// Input is the app to export: its Procfile entries and the instances of the
// formation, as procfile.App.Plan lists them, each with its environment.
// That environment is what the units set: plan it from the env files'
// variables alone (procfile.App.Environ), since the exporting machine's own
// environment is never part of an export.
type Input struct {
	// Entries are the Procfile entries in Procfile order.
	Entries []procfile.Entry
	// Instances are the instances to export, in plan order.
	Instances []procfile.Instance
	// Rules are the start rules of .proctor (procfile.App.Rules): after
	// and ready reach the formats that can express them; see Unsupported.
	Rules map[string]procfile.Rules
}

// Options configure an export. Zero values take the defaults documented on
// each field.
type Options struct {
	// App names the app in unit, program, service and file names. Required;
	// it may hold letters, digits, '_', '-' and '.', and starts with a letter
	// or digit.
	App string
	// User runs the processes. Empty means the app name for systemd,
	// supervisord, runit and launchd, and the image's own user for compose
	// and kubernetes (where a User must be a numeric id).
	User string
	// LogDir receives logs where the format writes files; empty means
	// /var/log/APP.
	LogDir string
	// RunDir is offered to templates as .RunDir; empty means /var/run/APP.
	RunDir string
	// Root is the app's directory, the processes' working directory. It must
	// be absolute.
	Root string
	// Timeout is the grace between SIGTERM and SIGKILL at stop; zero means
	// DefaultTimeout. It is rounded up to whole seconds.
	Timeout time.Duration
	// Image is the container image for compose and kubernetes, required there.
	Image string
	// WorkDir is the working directory inside the container for compose and
	// kubernetes; empty leaves the image's WORKDIR.
	WorkDir string
	// Expose names process types that listen on their PORT besides "web":
	// compose publishes their ports, kubernetes gives them a containerPort
	// and a Service.
	Expose []string
	// Secret makes kubernetes put the env files' variables in a Secret
	// instead of a ConfigMap.
	Secret bool
	// TemplateDir holds user templates that replace built-in ones of the
	// same name, looked up as DIR/FORMAT/NAME, then DIR/NAME. Empty uses the
	// built-in templates only.
	TemplateDir string
}

// File is one file of an export.
type File struct {
	// Path is relative to the export directory, with '/' separators.
	Path string
	// Data is the content; nil for a directory.
	Data []byte
	// Mode holds the permission bits, and fs.ModeDir for a directory.
	Mode fs.FileMode
}

// Error is a value an export cannot write: a variable, a command or an
// option the target format cannot hold, or a bad option. Render returns it
// for every problem with the input.
type Error struct {
	// Format is the export format, e.g. "supervisord".
	Format string
	// What names the offending value, e.g. `variable "SECRET" (env files)`
	// or `image "a b"`.
	What string
	// Option is the option at fault when the problem is an option's value
	// (What then reads as Option, followed by the quoted Value when Valued),
	// else "". A command line can name its own flag instead.
	Option Option
	Value  string
	Valued bool
	// Problem says what is wrong with it.
	Problem string
}

// Option names an option of Options in an Error.
type Option string

// The options an Error can be about.
const (
	OptionApp     Option = "app name"
	OptionTimeout Option = "timeout"
	OptionImage   Option = "image"
	OptionWorkDir Option = "work directory"
	OptionExpose  Option = "exposed type"
)

// optionError reports a problem with an option: with its value when
// valued.
func optionError(format string, opt Option, value string, valued bool, problem string) *Error {
	what := string(opt)
	if valued {
		what += " " + strconv.Quote(value)
	}
	return &Error{Format: format, What: what, Option: opt, Value: value, Valued: valued, Problem: problem}
}

// Error reads "export FORMAT: WHAT PROBLEM".
func (e *Error) Error() string {
	return fmt.Sprintf("export %s: %s %s", e.Format, e.What, e.Problem)
}

// varWhat names an env variable in an Error.
func varWhat(name string) string {
	if name == "PORT" || name == "PS" {
		return fmt.Sprintf("variable %s", name)
	}
	return fmt.Sprintf("variable %q (env files)", name)
}

// cmdWhat names the command of a process type in an Error.
func cmdWhat(typ string) string {
	return fmt.Sprintf("command of %q (Procfile)", typ)
}

// varProblem says what no format can hold in a variable, or "".
func varProblem(name, value string) string {
	switch {
	case !validEnvName(name):
		return "is not a portable variable name: use letters, digits and '_', not starting with a digit"
	case !utf8.ValidString(value):
		return "holds bytes that are not UTF-8"
	}
	return ""
}

// instanceVars splits an instance's environment (from the plan) into the
// variables it shares with the others, sorted by name, and its own PORT and
// PS, in that order: the order every format writes them in.
func instanceVars(environ []string) (shared, own []Var, _ *Error) {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if problem := varProblem(k, v); problem != "" {
			return nil, nil, &Error{What: varWhat(k), Problem: problem}
		}
		if k == "PORT" || k == "PS" {
			own = append(own, Var{Name: k, Value: v})
			continue
		}
		shared = append(shared, Var{Name: k, Value: v})
	}
	byName := func(a, b Var) int { return strings.Compare(a.Name, b.Name) }
	slices.SortStableFunc(shared, byName)
	slices.SortFunc(own, byName) // PORT, then PS
	return shared, own, nil
}

// Data is what every template receives as ".". Per-instance templates get
// the same Data with Instance set.
type Data struct {
	// Format is the export format.
	Format string
	// App, User, LogDir, RunDir and Root are the options, defaults applied;
	// Root is absolute. User is empty for compose and kubernetes without a User option.
	App, User, LogDir, RunDir, Root string
	// Timeout is the stop grace in whole seconds.
	Timeout int
	// Image and WorkDir are the container options (compose, kubernetes).
	Image, WorkDir string
	// Secret is true when kubernetes should use a Secret.
	Secret bool
	// Env holds the variables every instance has (the env files'), sorted
	// by name, without PORT and PS (each instance gets its own) and without
	// what a type's own env_file adds.
	Env []Var
	// Instances lists every instance of the formation, in Procfile order and
	// by number within a type; the release instance is among them.
	Instances []*Instance
	// Types lists the process types that have at least one instance, in
	// Procfile order.
	Types []*Type
	// Release is the instance of the "release" entry, nil when there is none
	// in the formation.
	Release *Instance
	// Instance is the instance a per-instance template renders, else nil.
	Instance *Instance
}

// Instance is one process of the formation as templates see it.
type Instance struct {
	// Name is "TYPE.N", the instance's PS.
	Name string
	// Type is the process type and Num the 1-based instance number.
	Type string
	Num  int
	// Port is the instance's PORT.
	Port int
	// Command is the Procfile command, run with /bin/sh -c.
	Command string
	// ID is "APP-TYPE-N": the unit, program, service directory or label
	// name of the instance.
	ID string
	// Release is true for the instance of the "release" entry.
	Release bool
	// Exposed is true when the type listens on its PORT: "web" or a type
	// in Options.Expose.
	Exposed bool
	// Env holds the env files' variables sorted by name, then PORT and PS.
	Env []Var
	// After lists the instances this one starts after (.proctor's after),
	// in plan order.
	After []*Instance
	// Ready is its type's readiness check (.proctor's ready); Kind is
	// empty when none is set.
	Ready procfile.Readiness
	// ReadyTimeout is how long it may take to become ready.
	ReadyTimeout time.Duration
}

// Type is one process type with at least one instance.
type Type struct {
	// Name is the process type; Count its number of instances.
	Name  string
	Count int
	// Port is the PORT of its first instance.
	Port int
	// Command is the Procfile command.
	Command string
	// Release and Exposed are as for Instance.
	Release, Exposed bool
	// Instances are the type's instances by number.
	Instances []*Instance
}

// Var is one environment variable.
type Var struct {
	Name, Value string
}

// format is what each format provides to Render.
type format struct {
	// check validates the data for the format, returning an *Error.
	check func(d *Data) error
	// render produces the files from the templates.
	render func(d *Data, t *templates) ([]File, error)
	// userDefault is true when User defaults to the app name.
	userDefault bool
}

var formats = map[string]format{
	Systemd:     {check: checkSystemd, render: renderSystemd, userDefault: true},
	Supervisord: {check: checkSupervisord, render: renderSupervisord, userDefault: true},
	Runit:       {check: checkRunit, render: renderRunit, userDefault: true},
	Launchd:     {check: checkLaunchd, render: renderLaunchd, userDefault: true},
	Compose:     {check: checkCompose, render: renderCompose},
	Kubernetes:  {check: checkKubernetes, render: renderKubernetes},
}

// Render produces the files of an export in memory; nothing is written. It
// validates every option and value first and returns an *Error for the
// first one the format cannot hold, naming it.
func Render(name string, in Input, opts Options) ([]File, error) {
	f, ok := formats[name]
	if !ok {
		return nil, &Error{Format: name, What: "format", Problem: fmt.Sprintf("is unknown (choose one of %s)", strings.Join(Formats(), ", "))}
	}
	d, err := newData(name, f, in, opts)
	if err != nil {
		return nil, err
	}
	if err := f.check(d); err != nil {
		return nil, err
	}
	t, err := loadTemplates(name, opts.TemplateDir)
	if err != nil {
		return nil, err
	}
	return f.render(d, t)
}

// newData applies the defaults and checks what every format needs.
func newData(format string, f format, in Input, opts Options) (*Data, error) {
	bad := func(what, problem string, args ...any) error {
		return &Error{Format: format, What: what, Problem: fmt.Sprintf(problem, args...)}
	}
	if err := checkAppName(opts.App); err != nil {
		return nil, optionError(format, OptionApp, opts.App, true, err.Error())
	}
	if !filepath.IsAbs(opts.Root) {
		return nil, bad("root "+fmt.Sprintf("%q", opts.Root), "is not an absolute path")
	}
	if opts.Timeout < 0 {
		return nil, optionError(format, OptionTimeout, "", false, "is negative")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	d := &Data{
		Format:  format,
		App:     opts.App,
		User:    opts.User,
		LogDir:  opts.LogDir,
		RunDir:  opts.RunDir,
		Root:    filepath.Clean(opts.Root),
		Timeout: int((opts.Timeout + time.Second - 1) / time.Second),
		Image:   opts.Image,
		WorkDir: opts.WorkDir,
		Secret:  opts.Secret,
	}
	if d.User == "" && f.userDefault {
		d.User = d.App
	}
	if d.LogDir == "" {
		d.LogDir = "/var/log/" + d.App
	}
	if d.RunDir == "" {
		d.RunDir = "/var/run/" + d.App
	}
	for what, s := range map[string]string{"user": d.User, "log directory": d.LogDir, "run directory": d.RunDir, "root": d.Root} {
		if err := checkText(s); err != nil {
			return nil, bad(fmt.Sprintf("%s %q", what, s), "%v", err)
		}
	}
	for opt, s := range map[Option]string{OptionImage: d.Image, OptionWorkDir: d.WorkDir} {
		if err := checkText(s); err != nil {
			return nil, optionError(format, opt, s, true, err.Error())
		}
	}
	if SingleFile(format) && d.Image == "" {
		return nil, optionError(format, OptionImage, "", false, "is required: name the container image that holds the app")
	}
	known := map[string]bool{}
	for _, e := range in.Entries {
		known[e.Name] = true
	}
	exposed := map[string]bool{"web": true}
	for _, t := range opts.Expose {
		if !known[t] {
			return nil, optionError(format, OptionExpose, t, true, "is not a process type of the Procfile (it has "+strings.Join(procfile.Names(in.Entries), ", ")+")")
		}
		exposed[t] = true
	}

	byType := map[string]*Type{}
	for _, pi := range in.Instances {
		if !utf8.ValidString(pi.Command) || strings.ContainsAny(pi.Command, "\n\r\x00") {
			return nil, bad(cmdWhat(pi.Type), "holds a line break, a NUL byte or bytes that are not UTF-8")
		}
		inst := &Instance{
			Name:    pi.Name,
			Type:    pi.Type,
			Num:     pi.Num,
			Port:    pi.Port,
			Command: pi.Command,
			ID:      fmt.Sprintf("%s-%s-%d", d.App, pi.Type, pi.Num),
			Release: pi.Type == procfile.ReleaseType,
			Exposed: exposed[pi.Type],
		}
		shared, own, err := instanceVars(pi.Env)
		if err != nil {
			return nil, bad(err.What, "%s", err.Problem)
		}
		inst.Env = append(shared, own...)
		r := in.Rules[pi.Type]
		inst.Ready = r.Ready
		inst.ReadyTimeout = cmp.Or(r.ReadyTimeout, procfile.DefaultReadyTimeout)
		d.Instances = append(d.Instances, inst)
		if inst.Release {
			if d.Release != nil {
				return nil, bad(fmt.Sprintf("process type %q", pi.Type), "runs once before the others; it can have one instance, not more")
			}
			d.Release = inst
		}
		t := byType[pi.Type]
		if t == nil {
			t = &Type{Name: pi.Type, Port: pi.Port, Command: pi.Command, Release: inst.Release, Exposed: inst.Exposed}
			byType[pi.Type] = t
			d.Types = append(d.Types, t)
		}
		t.Count++
		t.Instances = append(t.Instances, inst)
	}
	if len(d.Instances) == 0 {
		return nil, bad("formation", "runs no instance: nothing to export")
	}
	d.Env = sharedVars(d.Instances)
	for _, inst := range d.Instances {
		for _, dep := range in.Rules[inst.Type].After {
			for _, other := range d.Instances {
				if other.Type == dep {
					inst.After = append(inst.After, other)
				}
			}
		}
	}
	return d, nil
}

// sharedVars are the variables every instance has, with the same value,
// but PORT and PS: the env files' (a type's own env_file adds to its
// instances only).
func sharedVars(instances []*Instance) []Var {
	if len(instances) == 0 {
		return nil
	}
	var out []Var
	for _, v := range instances[0].Env {
		if v.Name == "PORT" || v.Name == "PS" {
			continue
		}
		everywhere := true
		for _, other := range instances[1:] {
			if !slices.Contains(other.Env, v) {
				everywhere = false
				break
			}
		}
		if everywhere {
			out = append(out, v)
		}
	}
	return out
}

// Unsupported lists, in one line, what of the app's start rules and
// per-type settings format cannot express, or "" when it expresses all:
// proctor export prints it on stderr, so that nobody believes the export
// holds what it does not.
func Unsupported(format string, in Input, logFiles, watched []string) string {
	var after, checks, kinds []string
	for _, e := range in.Entries {
		r, ok := in.Rules[e.Name]
		if !ok {
			continue
		}
		if len(r.After) > 0 {
			after = append(after, e.Name)
		}
		if r.Ready.Kind != "" {
			checks = append(checks, e.Name)
			kinds = append(kinds, string(r.Ready.Kind))
		}
	}
	var missing []string
	list := func(what string, types []string) {
		if len(types) > 0 {
			missing = append(missing, fmt.Sprintf("%s (%s)", what, strings.Join(types, ", ")))
		}
	}
	switch format {
	case Systemd:
		list("ready checks: units start in order, not on readiness", checks)
	case Compose:
		var no []string
		for i, k := range kinds {
			if _, ok := composeHealthcheck(procfile.Readiness{Kind: procfile.ReadyKind(k)}, 0, 0); !ok {
				no = append(no, checks[i]+" "+k)
			}
		}
		list("ready checks a healthcheck cannot hold", no)
	case Kubernetes:
		list("after: Kubernetes has no start order", after)
		var no []string
		for i, k := range kinds {
			if k == string(procfile.ReadyLog) {
				no = append(no, checks[i])
			}
		}
		list("log ready checks", no)
	default:
		list("after", after)
		list("ready checks", checks)
	}
	list("log_file: the target keeps the logs", logFiles)
	list("watch", watched)
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("export %s: not exported: %s", format, strings.Join(missing, "; "))
}

// checkAppName requires a name safe as a file, unit, program and label name.
func checkAppName(name string) error {
	if name == "" {
		return errors.New("is empty")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '_' || c == '-' || c == '.') && i > 0:
		default:
			return errors.New("may hold only letters, digits, '_', '-' and '.', and must start with a letter or digit")
		}
	}
	return nil
}

// checkText rejects what no format can carry in a one-line setting.
func checkText(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("holds bytes that are not UTF-8")
	case strings.ContainsAny(s, "\n\r\x00"):
		return errors.New("holds a line break or a NUL byte")
	}
	return nil
}

// validEnvName reports whether name matches [A-Za-z_][A-Za-z0-9_]*, the
// names every target (systemd in particular) accepts.
func validEnvName(name string) bool {
	if name == "" || ('0' <= name[0] && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// templates are a format's templates, built-in ones overridden by the user's.
type templates struct {
	format string
	set    map[string]*template.Template
}

// loadTemplates parses the built-in templates of format, each replaced by a
// file of the same name in dir (DIR/FORMAT/NAME or DIR/NAME) when present.
func loadTemplates(format, dir string) (*templates, error) {
	entries, err := fs.ReadDir(builtin, "templates/"+format)
	if err != nil {
		return nil, fmt.Errorf("export %s: built-in templates: %w", format, err)
	}
	if dir != "" {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, &Error{Format: format, What: fmt.Sprintf("template directory %q", dir), Problem: "is not a directory"}
		}
	}
	t := &templates{format: format, set: map[string]*template.Template{}}
	for _, e := range entries {
		name := e.Name()
		src, err := fs.ReadFile(builtin, path.Join("templates", format, name))
		if err != nil {
			return nil, err
		}
		origin := "built-in template " + format + "/" + name
		if dir != "" {
			for _, p := range []string{filepath.Join(dir, format, name), filepath.Join(dir, name)} {
				b, err := os.ReadFile(p)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return nil, &Error{Format: format, What: "template " + p, Problem: fmt.Sprintf("cannot be read: %v", err)}
				}
				src, origin = b, p
				break
			}
		}
		tt, err := template.New(origin).Option("missingkey=error").Funcs(funcs(format)).Parse(string(src))
		if err != nil {
			return nil, &Error{Format: format, What: "template " + origin, Problem: fmt.Sprintf("does not parse: %v", err)}
		}
		t.set[name] = tt
	}
	return t, nil
}

// execute renders template name with data. An *Error raised by a template
// function (a value the format cannot hold) is returned as it is.
func (t *templates) execute(name string, data any) ([]byte, error) {
	tt, ok := t.set[name]
	if !ok {
		return nil, fmt.Errorf("export %s: no template %s", t.format, name)
	}
	var buf bytes.Buffer
	if err := tt.Execute(&buf, data); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Format: t.format, What: "template " + tt.Name(), Problem: fmt.Sprintf("failed: %v", err)}
	}
	return buf.Bytes(), nil
}

// perInstance returns Data for the template of one instance.
func (d *Data) perInstance(inst *Instance) *Data {
	c := *d
	c.Instance = inst
	return &c
}

// WriteFiles writes files into dir, creating dir and the directories the
// files need. Each file is written to a temporary name and renamed into
// place, so a reader never sees half a file.
func WriteFiles(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if f.Mode.IsDir() {
			if err := os.MkdirAll(p, f.Mode.Perm()); err != nil {
				return err
			}
			if err := os.Chmod(p, f.Mode.Perm()); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFile(p, f.Data, f.Mode.Perm()); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
