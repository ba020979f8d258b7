package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/procfile"
)

func newCheckCmd(h *host) *cobra.Command {
	var (
		flags     appFlags
		formation string
		verbose   bool
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the Procfile and env files",
		Long: `Validate the Procfile and the env files, reporting every problem with its
file and line. Prints "valid procfile detected (TYPES)" and exits 0 when all
is well, followed, when .proctor has a processes block, by the start order
and each type's own env files, and with -v by the types that run without a
shell (their command is a plain word list); prints each problem on stderr
and exits 1 otherwise.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, problems := checkApp(h, &flags, cmd.Flags(), formation)
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(h.stderr, p)
				}
				return &exitError{code: exitFail}
			}
			fmt.Fprintf(h.stdout, "valid procfile detected (%s)\n", strings.Join(procfile.Names(a.Entries), ", "))
			for _, line := range describeProcesses(a, verbose) {
				fmt.Fprintln(h.stdout, line)
			}
			return nil
		},
	}
	flags.register(cmd.Flags(), false)
	cmd.Flags().StringVarP(&formation, "formation", "m", "", `formation to check, e.g. "all=1,web=2"`)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also say which types run without a shell")
	return cmd
}

// checkApp returns every problem found in the Procfile, the env files and the
// formation, each naming its file and line where there is one, and the
// entries it could read. When those read well it plans the formation, as
// start would with no -p, so a PORT that start would refuse, or a formation
// whose ports run past 65535, is a problem too.
func checkApp(h *host, f *appFlags, flags *pflag.FlagSet, formation string) (*app, []error) {
	var problems []error
	path, root := f.paths()
	entries, err := procfile.ParseFile(path)
	a := &app{procfilePath: path, root: root, App: procfile.App{Entries: entries}}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		problems = append(problems, fmt.Errorf("%s: no such file", path))
	case err != nil:
		problems = append(problems, unjoin(err)...)
	}
	vars, err := f.readEnv(h, root)
	if err != nil {
		problems = append(problems, err)
	}
	if len(entries) == 0 {
		return a, problems
	}
	var fm *procfile.Formation
	if flags.Changed("formation") {
		parsed, err := procfile.ParseFormation(formation)
		if err != nil {
			return a, append(problems, err)
		}
		fm = &parsed
	}
	counts, err := procfile.Resolve(entries, fm, nil)
	if err != nil {
		return a, append(problems, err)
	}
	a.Environ = env.Environ(h.environ(), vars, !f.noEnvOverride)
	if err := f.loadProcesses(h, a); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return a, problems // the plan would be made of what failed
	}
	if a.Ports, err = f.resolvePorts(flags, a.Environ); err == nil {
		_, err = a.Plan(counts)
	}
	if err != nil {
		problems = append(problems, withPortHint(err))
	}
	return a, problems
}

// describeProcesses says how the types run: with verbose, those that run
// without a shell; and what .proctor's processes block makes of the app
// (the start order by stage, each type's own env files). Without either,
// nothing: the output stays foreman's.
func describeProcesses(a *app, verbose bool) []string {
	var out, direct []string
	for _, e := range a.Entries {
		if _, ok := procfile.Argv(e.Command); ok {
			direct = append(direct, e.Name)
		}
	}
	if verbose && len(direct) > 0 {
		out = append(out, "run without a shell: "+strings.Join(direct, ", "))
	}
	if stages := a.StartOrder(); len(stages) > 1 {
		parts := make([]string, len(stages))
		for i, st := range stages {
			parts[i] = strings.Join(st, ", ")
		}
		out = append(out, "start order: "+strings.Join(parts, " → "))
	}
	for _, tf := range a.typeEnvFiles {
		rel := make([]string, len(tf.paths))
		for i, p := range tf.paths {
			rel[i] = p
			if r, err := filepath.Rel(a.root, p); err == nil {
				rel[i] = r
			}
		}
		out = append(out, fmt.Sprintf("%s reads %s after the stack's env files", tf.typ, strings.Join(rel, ", ")))
	}
	return out
}

// unjoin returns the errors joined in err (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
