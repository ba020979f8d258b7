package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/procfile"
	"github.com/proctor-run/proctor/runner"
)

// Exit codes of run when the command cannot be started, as in sh.
const (
	exitNotExecutable = 126
	exitNotFound      = 127
)

func newRunCmd(h *host) *cobra.Command {
	var flags appFlags
	cmd := &cobra.Command{
		Use:   "run [flags] COMMAND [ARGS...]",
		Short: "Run a one-off command with the app's environment",
		Long: `Run one command (a console, a migration) with the app's environment: the
env files plus PORT set to the base port, in the root directory. COMMAND may
be the name of a Procfile entry, which runs that entry's command. A single
COMMAND holding spaces or shell syntax runs with /bin/sh -c; otherwise COMMAND
and ARGS are executed directly, each argument kept whole. proctor replaces
itself with the command, so stdin, stdout, stderr and signals are the
command's own, and its exit code is proctor's (127 when it is not found,
126 when it cannot be executed).`,
		Example: `  proctor run rails console
  proctor run web
  proctor run 'echo $PORT && env | sort'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("run: missing COMMAND")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := flags.load(h, cmd.Flags(), true)
			if err != nil {
				return err
			}
			if len(a.Entries) > 0 {
				if err := flags.loadProcesses(h, a); err != nil {
					return &exitError{exitUsage, err}
				}
			}
			// `proctor run web` runs web's command with web's own env
			// files too.
			typ := ""
			if len(args) == 1 && slices.Contains(procfile.Names(a.Entries), args[0]) {
				typ = args[0]
			}
			environ := a.OneOffEnv(typ)
			argv := commandLine(a, args)
			path, err := lookPath(argv[0], a.root, environ)
			if err != nil {
				return err
			}
			// path may be relative to the current directory, which
			// changes next.
			if path, err = filepath.Abs(path); err != nil {
				return &exitError{exitFail, err}
			}
			if err := os.Chdir(a.root); err != nil {
				return &exitError{exitFail, err}
			}
			err = syscall.Exec(path, argv, environ)
			// Only reached when exec failed.
			return execError(argv[0], err)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after COMMAND belong to it
	flags.register(cmd.Flags(), true)
	return cmd
}

// commandLine turns run's arguments into the argv to execute.
func commandLine(a *app, args []string) []string {
	if len(args) == 1 {
		for _, e := range a.Entries {
			if e.Name == args[0] {
				return []string{"/bin/sh", "-c", e.Command}
			}
		}
		if strings.ContainsAny(args[0], " \t\n|&;<>()$`\\\"'*?[#~=%") && !exists(filepath.Join(a.root, args[0])) {
			return []string{"/bin/sh", "-c", args[0]}
		}
	}
	return args
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lookPath finds the program to exec for run, as the shell of an instance
// would (runner.FindProgram), with run's messages and exit codes.
func lookPath(name, root string, environ []string) (string, error) {
	path, err := runner.FindProgram(name, environ, root)
	switch {
	case errors.Is(err, runner.ErrCommandNotFound):
		return "", &exitError{exitNotFound, fmt.Errorf("run: %s: command not found", name)}
	case errors.Is(err, runner.ErrNoSuchFile):
		return "", &exitError{exitNotFound, fmt.Errorf("run: %s: no such file", name)}
	case errors.Is(err, runner.ErrNotExecutable):
		return "", &exitError{exitNotExecutable, fmt.Errorf("run: %s: permission denied", name)}
	}
	return path, err
}

func execError(name string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return &exitError{exitNotFound, fmt.Errorf("run: %s: %w", name, err)}
	default:
		return &exitError{exitNotExecutable, fmt.Errorf("run: %s: %w", name, err)}
	}
}
