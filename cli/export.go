package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/export"
	"github.com/proctor-run/proctor/procfile"
)

// exportFlags are export's own flags; the app's are appFlags.
type exportFlags struct {
	app, user, logDir, runDir string
	templateDir               string
	timeout                   int
	formation                 string
	image, workDir            string
	expose                    []string
	secret                    bool
}

func newExportCmd(h *host) *cobra.Command {
	var (
		flags appFlags
		ef    exportFlags
	)
	cmd := &cobra.Command{
		Use:   "export FORMAT [DIR]",
		Short: "Export the app to systemd, supervisord, runit, launchd, Compose or Kubernetes",
		Long: `Export the app's formation as the configuration of another process manager.
FORMAT is one of: ` + strings.Join(export.Formats(), ", ") + `.

Every instance gets its PORT and PS and the env files' variables (never the
environment proctor runs in, which only resolves the files' $NAME references). The files are written into DIR; compose and
kubernetes print their single file to stdout when DIR is not given. Nothing is
written when any value cannot be held by the format: the error names it.

A "release" entry runs once before the others where the target can order
it (systemd, Compose; a Job in Kubernetes), and as a run-once program
elsewhere. -t DIR replaces built-in templates by files of the same name
(DIR/FORMAT/NAME or DIR/NAME); see the README for the data they receive.`,
		Example: `  proctor export systemd /etc/systemd/system -a myapp -u deploy -m web=2,worker=1
  proctor export supervisord /etc/supervisor/conf.d
  proctor export compose --image myapp:latest > compose.yaml
  proctor export kubernetes --image registry/myapp:1.2 --expose api --secret`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("export: missing FORMAT (one of %s)", strings.Join(export.Formats(), ", "))
			}
			if len(args) > 2 {
				return usageErrorf("export: unexpected argument %q", args[2])
			}
			format := args[0]
			if !knownFormat(format) {
				return usageErrorf("export: unknown format %q (one of %s)", format, strings.Join(export.Formats(), ", "))
			}
			if len(args) == 1 && !export.SingleFile(format) {
				return usageErrorf("export %s: missing DIR, the directory to write the files into", format)
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				var out []cobra.Completion
				for _, f := range export.Formats() {
					if strings.HasPrefix(f, toComplete) {
						out = append(out, f)
					}
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			}
			if len(args) == 1 {
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			format, dir := args[0], ""
			if len(args) == 2 {
				dir = args[1]
			}
			if export.SingleFile(format) && ef.image == "" {
				return usageErrorf("export %s: --image is required: name the container image that holds the app", format)
			}
			if ef.timeout < 0 {
				return usageErrorf("export: --timeout %d is negative", ef.timeout)
			}
			in, root, note, err := exportInput(h, &flags, cmd, format, ef.formation)
			if err != nil {
				return err
			}
			opts := export.Options{
				App:         ef.app,
				User:        ef.user,
				LogDir:      ef.logDir,
				RunDir:      ef.runDir,
				Root:        root,
				Timeout:     time.Duration(ef.timeout) * time.Second,
				Image:       ef.image,
				WorkDir:     ef.workDir,
				Expose:      ef.expose,
				Secret:      ef.secret,
				TemplateDir: ef.templateDir,
			}
			if opts.App == "" {
				opts.App = filepath.Base(root)
			}
			files, err := export.Render(format, in, opts)
			if err != nil {
				return &exitError{exitUsage, withExportFlag(err)}
			}
			if note != "" {
				fmt.Fprintln(h.stderr, "proctor: "+note)
			}
			if dir == "" {
				_, err := h.stdout.Write(files[0].Data)
				return err
			}
			if err := export.WriteFiles(dir, files); err != nil {
				return &exitError{exitFail, fmt.Errorf("export %s: %w", format, err)}
			}
			for _, f := range files {
				if !f.Mode.IsDir() {
					fmt.Fprintf(h.stdout, "wrote %s\n", filepath.Join(dir, filepath.FromSlash(f.Path)))
				}
			}
			return nil
		},
	}
	flags.register(cmd.Flags(), true)
	fl := cmd.Flags()
	fl.StringVarP(&ef.app, "app", "a", "", "app name (default: the root directory's name)")
	fl.StringVarP(&ef.user, "user", "u", "", "user to run the processes as (default: the app name; compose and kubernetes: the image's user)")
	fl.StringVarP(&ef.logDir, "log", "l", "", "log directory (default: /var/log/APP)")
	fl.StringVarP(&ef.runDir, "run", "r", "", "run directory, for templates (default: /var/run/APP)")
	fl.StringVarP(&ef.templateDir, "template", "t", "", "directory of templates that replace the built-in ones")
	fl.IntVar(&ef.timeout, "timeout", int(export.DefaultTimeout/time.Second), "seconds between SIGTERM and SIGKILL when a process is stopped")
	fl.StringVarP(&ef.formation, "formation", "m", "", `formation, e.g. "all=1,web=2" (default: one of each type)`)
	fl.StringVar(&ef.image, "image", "", "container image (required for compose and kubernetes)")
	fl.StringVar(&ef.workDir, "workdir", "", "working directory in the container (compose, kubernetes; default: the image's)")
	fl.StringSliceVar(&ef.expose, "expose", nil, "process types besides web that listen on PORT: published ports (compose), containerPort and Service (kubernetes)")
	fl.BoolVar(&ef.secret, "secret", false, "kubernetes: put the env files' variables in a Secret instead of a ConfigMap")
	return cmd
}

// optionFlags names the flag that sets each export option.
var optionFlags = map[export.Option]string{
	export.OptionTimeout: "--timeout",
	export.OptionImage:   "--image",
	export.OptionWorkDir: "--workdir",
	export.OptionExpose:  "--expose",
}

// withExportFlag words an export error about an option with the flag that
// sets it: "--image is required", `--expose "api" is not a process type`,
// and an app name that cannot be used says to choose one with -a.
func withExportFlag(err error) error {
	var e *export.Error
	if !errors.As(err, &e) || e.Option == "" {
		return err
	}
	if e.Option == export.OptionApp {
		return fmt.Errorf("%w (choose one with -a)", err)
	}
	what := optionFlags[e.Option]
	if e.Valued {
		what += " " + strconv.Quote(e.Value)
	}
	return fmt.Errorf("export %s: %s %s", e.Format, what, e.Problem)
}

func knownFormat(format string) bool {
	for _, f := range export.Formats() {
		if f == format {
			return true
		}
	}
	return false
}

// exportInput reads the Procfile and env files and plans the formation. It
// uses only the env files' variables: the base port is -p, else PORT from
// the env files, else 5000; proctor's own environment plays no part.
func exportInput(h *host, flags *appFlags, cmd *cobra.Command, format, formation string) (in export.Input, root string, note string, err error) {
	procfilePath, root := flags.paths()
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return in, "", "", &exitError{exitUsage, fmt.Errorf("root directory %s does not exist", root)}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return in, "", "", &exitError{exitUsage, fmt.Errorf("root directory %s: %w", root, err)}
	}
	entries, err := procfile.ParseFile(procfilePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return in, "", "", &exitError{exitUsage, fmt.Errorf("%s: no such file (use -f to name the Procfile)", procfilePath)}
	case err != nil:
		return in, "", "", &exitError{exitUsage, err}
	}
	vars, err := flags.readEnv(h, root)
	if err != nil {
		return in, "", "", &exitError{exitUsage, err}
	}
	environ := env.Environ(nil, vars, true)
	ports, err := flags.resolvePorts(cmd.Flags(), environ)
	if err != nil {
		return in, "", "", &exitError{exitUsage, err}
	}
	var fm *procfile.Formation
	if cmd.Flags().Changed("formation") {
		f, err := procfile.ParseFormation(formation)
		if err != nil {
			return in, "", "", usageErrorf("%v", err)
		}
		fm = &f
	}
	counts, err := procfile.Resolve(entries, fm, nil)
	if err != nil {
		return in, "", "", usageErrorf("%v", err)
	}
	a := &app{procfilePath: procfilePath, root: root, App: procfile.App{Entries: entries, Ports: ports, Environ: environ}}
	if err := flags.loadProcesses(h, a); err != nil {
		return in, "", "", &exitError{exitUsage, err}
	}
	instances, err := a.Plan(counts)
	if err != nil {
		return in, "", "", &exitError{exitUsage, withPortHint(err)}
	}
	in = export.Input{Entries: entries, Instances: instances, Rules: a.Rules}
	// What the export cannot hold, said once, on stderr.
	var logs, watched []string
	for _, e := range entries {
		if a.logFiles[e.Name] != "" {
			logs = append(logs, e.Name)
		}
		for _, w := range a.watch {
			if w.Type == e.Name {
				watched = append(watched, e.Name)
			}
		}
	}
	return in, abs, export.Unsupported(format, in, logs, watched), nil
}
