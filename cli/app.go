package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proctor-run/proctor/config"
	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/fileline"
	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/watch"
)

// appFlags are the flags that locate and configure an app: its Procfile,
// root directory, env files and ports. Several commands share them.
type appFlags struct {
	procfile      string
	root          string
	envFiles      []string
	port          int
	portStep      int
	noEnvOverride bool
}

func (f *appFlags) register(flags *pflag.FlagSet, withPorts bool) {
	flags.StringVarP(&f.procfile, "procfile", "f", "", "Procfile to read (default: Procfile in the root)")
	flags.StringVarP(&f.root, "root", "d", "", "app root directory (default: the Procfile's directory)")
	flags.StringSliceVarP(&f.envFiles, "env", "e", nil, "env files to read, comma-separated; later files win (default: .env in the root, if present)")
	flags.BoolVar(&f.noEnvOverride, "no-env-override", false, "keep variables already set in proctor's environment instead of taking the env files' values")
	if withPorts {
		flags.IntVarP(&f.port, "port", "p", 0, "base port (default: $PORT from the environment or env files, else 5000)")
		flags.IntVar(&f.portStep, "port-step", procfile.DefaultPortStep, "port distance between process types")
	}
}

// paths returns the Procfile path and the root directory, per the rules:
// -f alone puts the root at the Procfile's directory; -d alone looks for
// Procfile in the root.
func (f *appFlags) paths() (procfilePath, root string) {
	root = f.root
	procfilePath = f.procfile
	switch {
	case procfilePath == "" && root == "":
		return "Procfile", "."
	case procfilePath == "":
		return filepath.Join(root, "Procfile"), root
	case root == "":
		return procfilePath, filepath.Dir(procfilePath)
	}
	return procfilePath, root
}

// readEnv reads the env files: those named with -e, else .env in the root
// when it exists.
func (f *appFlags) readEnv(h *host, root string) (env.Vars, error) {
	r := env.Reader{Base: h.environ(), KeepBase: f.noEnvOverride}
	if len(f.envFiles) == 0 {
		return r.ReadOptional(filepath.Join(root, ".env"))
	}
	return r.Read(f.envFiles...)
}

// completeTypes completes the Procfile's process types (those not given
// yet), read from the Procfile that -f and -d point to.
func (f *appFlags) completeTypes(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	path, _ := f.paths()
	entries, err := procfile.ParseFile(path)
	if err != nil && len(entries) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, e := range entries {
		if strings.HasPrefix(e.Name, toComplete) && !slices.Contains(args, e.Name) {
			out = append(out, cobra.CompletionWithDesc(e.Name, e.Command))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// app is a loaded app: where it is, and what its plan is made from (the
// Procfile entries, the ports and the environment every child starts
// from: proctor's own with the env files applied).
type app struct {
	procfilePath string
	root         string
	procfile.App
	typeEnvFiles []typeFiles       // from loadProcesses
	logFiles     map[string]string // type → log_file, as written (relative to the root)
	watch        []watch.Rule      // .proctor's watch, then start's --watch
}

// appendGlob adds glob to typ's rule in rules.
func appendGlob(rules []watch.Rule, typ, glob string) []watch.Rule {
	for i := range rules {
		if rules[i].Type == typ {
			rules[i].Globs = append(rules[i].Globs, glob)
			return rules
		}
	}
	return append(rules, watch.Rule{Type: typ, Globs: []string{glob}})
}

// load reads the Procfile and env files. With procfileOptional, a missing
// default Procfile is not an error (run works without one).
func (f *appFlags) load(h *host, flags *pflag.FlagSet, procfileOptional bool) (*app, error) {
	a := &app{}
	a.procfilePath, a.root = f.paths()
	if info, err := os.Stat(a.root); err != nil || !info.IsDir() {
		return nil, &exitError{exitUsage, fmt.Errorf("root directory %s does not exist", a.root)}
	}
	entries, err := procfile.ParseFile(a.procfilePath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && procfileOptional && f.procfile == "":
	case errors.Is(err, fs.ErrNotExist):
		return nil, &exitError{exitUsage, fmt.Errorf("%s: no such file (use -f to name the Procfile)", a.procfilePath)}
	case err != nil:
		return nil, &exitError{exitUsage, err}
	}
	a.Entries = entries
	vars, err := f.readEnv(h, a.root)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	a.Environ = env.Environ(h.environ(), vars, !f.noEnvOverride)
	if flags.Lookup("port") != nil {
		a.Ports, err = f.resolvePorts(flags, a.Environ)
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
	}
	return a, nil
}

// resolvePorts picks the base port: -p, else $PORT, else 5000. A command
// without the port flags (check) gets the defaults.
func (f *appFlags) resolvePorts(flags *pflag.FlagSet, environ []string) (procfile.Ports, error) {
	p := procfile.Ports{Base: procfile.DefaultPort, Step: procfile.DefaultPortStep}
	if flags.Lookup("port-step") != nil {
		p.Step = f.portStep
	}
	switch {
	case flags.Lookup("port") != nil && flags.Changed("port"):
		p.Base = f.port
	default:
		if v, ok := env.Lookup(environ, "PORT"); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > procfile.MaxPort {
				return p, fmt.Errorf("PORT=%q in the environment is not a port number (1-%d)", v, procfile.MaxPort)
			}
			p.Base = n
		}
	}
	if p.Base < 1 || p.Base > procfile.MaxPort {
		return p, fmt.Errorf("--port %d is not a port number (1-%d)", p.Base, procfile.MaxPort)
	}
	if p.Step < 0 {
		return p, fmt.Errorf("--port-step %d is negative", p.Step)
	}
	return p, nil
}

// loadProcesses applies the processes block of the .proctor in the app's
// root (the defaults come from the current directory, as in foreman; the
// rules belong to the app): the start rules, checked against the
// Procfile's types, and each type's own env files, read after the stack's.
func (f *appFlags) loadProcesses(h *host, a *app) error {
	file, err := config.Find(a.root)
	if err != nil {
		return err
	}
	if a.Rules, err = file.Rules(procfile.Names(a.Entries)); err != nil {
		return err
	}
	for _, p := range file.Processes {
		if len(p.EnvFiles) == 0 {
			continue
		}
		var paths []string
		for _, ref := range p.EnvFiles {
			path := a.path(ref.Name)
			if _, err := os.Stat(path); err != nil {
				return &fileline.Error{File: file.Path, Line: ref.Line, Err: fmt.Errorf("%s: env_file: %s: no such file", p.Type, path)}
			}
			paths = append(paths, path)
		}
		// $NAME in a type's files means what the stack's environment holds.
		vars, err := env.Reader{Base: a.Environ}.Read(paths...)
		if err != nil {
			return err
		}
		if f.noEnvOverride {
			for _, kv := range h.environ() {
				k, _, _ := strings.Cut(kv, "=")
				delete(vars, k)
			}
		}
		if a.TypeEnviron == nil {
			a.TypeEnviron = map[string][]string{}
		}
		a.TypeEnviron[p.Type] = env.Environ(a.Environ, vars, true)
		a.typeEnvFiles = append(a.typeEnvFiles, typeFiles{p.Type, paths})
	}
	for _, p := range file.Processes {
		for _, g := range p.Watch {
			a.watch = appendGlob(a.watch, p.Type, g.Name)
		}
		if p.LogFile.Name != "" {
			if a.logFiles == nil {
				a.logFiles = map[string]string{}
			}
			a.logFiles[p.Type] = p.LogFile.Name
		}
	}
	return nil
}

// path is name relative to the root, unless it is absolute.
func (a *app) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(a.root, name)
}

// typeFiles are the env files of one type, for check's report.
type typeFiles struct {
	typ   string
	paths []string
}

// withPortHint adds to a port out of range the flags that change it.
func withPortHint(err error) error {
	var outside *procfile.PortRangeError
	if errors.As(err, &outside) {
		return fmt.Errorf("%w: choose another base with -p or step with --port-step", err)
	}
	return err
}

// configAliases maps foreman's older key names to proctor's flags.
var configAliases = map[string]string{"concurrency": "formation"}

// configNegated maps foreman's boolean options whose default is on to the
// proctor flag that turns the same thing off: timestamp: false in
// .foreman is --no-timestamp, as foreman honors it; color: false is
// --no-color (color: true stays --color).
var configNegated = map[string]string{"timestamp": "no-timestamp", "prefix": "no-prefix", "color": "no-color"}

// configKey turns a setting into the flag it sets and that flag's value,
// renaming aliases and inverting negated booleans. other is the flag of the
// opposite sense, if any: given on the command line, it wins too.
func configKey(s config.Setting) (key, value, other string, err error) {
	key = s.Key
	if alias, ok := configAliases[key]; ok {
		key = alias
	}
	off, negated := configNegated[key]
	if !negated {
		return key, s.Value, "", nil
	}
	on, err := strconv.ParseBool(s.Value)
	if err != nil {
		return "", "", "", fmt.Errorf("%q is not true or false", s.Value)
	}
	if key == "color" && on {
		return "color", "true", off, nil
	}
	if key == "color" {
		return off, "true", "color", nil
	}
	return off, strconv.FormatBool(!on), "", nil
}

// applyConfig sets the flags of cmd that the command line left unset from
// .proctor or .foreman in the current directory. A key no command knows is
// reported as a warning; a bad value is a usage error naming file and line.
func applyConfig(cmd *cobra.Command, h *host) error {
	// help, version and completion read no settings, and must work even
	// when the defaults file is broken (as --help and --version do).
	switch {
	case cmd.Name() == "help", cmd.Name() == "version",
		cmd.Name() == cobra.ShellCompRequestCmd, cmd.Name() == cobra.ShellCompNoDescRequestCmd,
		cmd.HasParent() && cmd.Parent().Name() == "completion":
		return nil
	}
	file, err := config.Find(".")
	if err != nil {
		return &exitError{exitUsage, err}
	}
	for _, s := range file.Settings {
		key, value, other, err := configKey(s)
		if err != nil {
			return &exitError{exitUsage, &fileline.Error{File: file.Path, Line: s.Line, Err: fmt.Errorf("%s: %w", s.Key, err)}}
		}
		fl := cmd.Flags().Lookup(key)
		if fl == nil {
			if !knownFlag(cmd.Root(), key) {
				fmt.Fprintf(h.stderr, "proctor: %s:%d: unknown key %q (ignored)\n", file.Path, s.Line, s.Key)
			}
			continue
		}
		if fl.Changed || other != "" && cmd.Flags().Changed(other) {
			continue
		}
		if err := cmd.Flags().Set(key, value); err != nil {
			return &exitError{exitUsage, &fileline.Error{File: file.Path, Line: s.Line, Err: fmt.Errorf("%s: %w", s.Key, err)}}
		}
	}
	return nil
}

// knownFlag reports whether any command under root has a flag named name.
func knownFlag(root *cobra.Command, name string) bool {
	if root.Flags().Lookup(name) != nil || root.PersistentFlags().Lookup(name) != nil {
		return true
	}
	for _, c := range root.Commands() {
		if knownFlag(c, name) {
			return true
		}
	}
	return false
}
