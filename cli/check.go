package cli

import (
	"errors"
	"fmt"
	"io/fs"
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
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the Procfile and env files",
		Long: `Validate the Procfile and the env files, reporting every problem with its
file and line. Prints "valid procfile detected (TYPES)" and exits 0 when all
is well; prints each problem on stderr and exits 1 otherwise.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, problems := checkApp(h, &flags, cmd.Flags(), formation)
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(h.stderr, p)
				}
				return &exitError{code: exitFail}
			}
			fmt.Fprintf(h.stdout, "valid procfile detected (%s)\n", strings.Join(procfile.Names(entries), ", "))
			return nil
		},
	}
	flags.register(cmd.Flags(), false)
	cmd.Flags().StringVarP(&formation, "formation", "m", "", `formation to check, e.g. "all=1,web=2"`)
	return cmd
}

// checkApp returns every problem found in the Procfile, the env files and the
// formation, each naming its file and line where there is one, and the
// entries it could read. When those read well it plans the formation, as
// start would with no -p, so a PORT that start would refuse, or a formation
// whose ports run past 65535, is a problem too.
func checkApp(h *host, f *appFlags, flags *pflag.FlagSet, formation string) ([]procfile.Entry, []error) {
	var problems []error
	path, root := f.paths()
	entries, err := procfile.ParseFile(path)
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
		return entries, problems
	}
	var fm *procfile.Formation
	if flags.Changed("formation") {
		parsed, err := procfile.ParseFormation(formation)
		if err != nil {
			return entries, append(problems, err)
		}
		fm = &parsed
	}
	counts, err := procfile.Resolve(entries, fm, nil)
	if err != nil {
		return entries, append(problems, err)
	}
	rules, err := startRules(root, entries)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return entries, problems // the plan would be made of what failed
	}
	app := procfile.App{Entries: entries, Environ: env.Environ(h.environ(), vars, !f.noEnvOverride), Rules: rules}
	if app.Ports, err = f.resolvePorts(flags, app.Environ); err == nil {
		_, err = app.Plan(counts)
	}
	if err != nil {
		problems = append(problems, withPortHint(err))
	}
	return entries, problems
}

// unjoin returns the errors joined in err (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
