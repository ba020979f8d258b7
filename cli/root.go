// Package cli is proctor's command line: it turns arguments, the
// environment and .proctor defaults into calls of proctor's packages
// (procfile, env, runner, output, control, export), and their results and
// errors into output and exit codes. Run is the whole of it; package main
// only adds the process's signals and os.Exit.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// exitError ends a command with a given exit code. A nil err exits quietly.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in how proctor was called: exit 2 with a hint.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// host is what a command sees of the process it runs in; tests supply their own.
type host struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	sigs           <-chan os.Signal
	getenv         func(string) string
	environ        func() []string
	args           []string // the command line, without the program name
}

// Run executes proctor with args (without the program name), reading stdin
// and writing stdout and stderr, and returns the exit code; it never calls
// os.Exit. sigs delivers the signals proctor handles (SIGINT, SIGTERM,
// SIGHUP, SIGUSR1, SIGUSR2 and SIGPIPE, as main subscribes them): start
// stops or signals its stack on them, the control commands stop waiting.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	h := &host{stdin: stdin, stdout: stdout, stderr: stderr, sigs: sigs, getenv: os.Getenv, environ: os.Environ, args: args}
	root := newRootCmd(h)
	// Cobra refuses a command line it cannot map to a command (an unknown
	// command; arguments to a command of cobra's own, such as completion
	// bash, that takes none) before any hook of the command has run; what
	// proctor's commands refuse is a *usageError already, and so are bad
	// flags (SetFlagErrorFunc). No command but root has a persistent
	// pre-run hook, so root's runs for every command.
	hooked := false
	preRun := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		hooked = true
		return preRun(cmd, args)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil && !hooked {
		err = &usageError{err}
	}
	return exitCodeFor(err, cmd, stderr)
}

// exitCodeFor reports err of cmd (the command that failed) on stderr and
// maps it to an exit code. A usage error points to cmd's help.
func exitCodeFor(err error, cmd *cobra.Command, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "proctor: %v\n", ee.err)
		}
		return ee.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		path := "proctor"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "proctor: %v\nRun '%s --help' for usage.\n", err, path)
		return exitUsage
	}
	fmt.Fprintf(stderr, "proctor: %v\n", err)
	return exitFail
}

func newRootCmd(h *host) *cobra.Command {
	root := &cobra.Command{
		Use:   "proctor",
		Short: "Run the processes of a Procfile app",
		Long: `proctor runs the processes of an app declared in a Procfile, the local
dev stack of a 12-factor app: each process type with its own PORT, their
output merged into one prefixed stream, and everything stopped cleanly on
Ctrl-C. Defaults for flags may be kept in .proctor (or .foreman) in the
current directory as "key: value" lines.`,
		Version:           versionString(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyConfig(cmd, h)
		},
	}
	root.SetIn(h.stdin)
	root.SetOut(h.stdout)
	root.SetErr(h.stderr)
	root.SetVersionTemplate("proctor {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = false
	root.AddCommand(newCheckCmd(h), newRunCmd(h), newStartCmd(h), newVersionCmd(h), newExportCmd(h),
		newPsCmd(h), newRestartCmd(h), newStopCmd(h), newScaleCmd(h), newLogsCmd(h), newAttachCmd(h), newWaitCmd(h), newDownCmd(h))
	return root
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s: unexpected argument %q", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), args[0])
	}
	return nil
}
