package cli

import (
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/runner"
)

// guardianCommand is the hidden command that runs the guardian process.
const guardianCommand = "__guardian"

func newGuardianCmd(h *host) *cobra.Command {
	var grace seconds
	cmd := &cobra.Command{
		Use:    guardianCommand,
		Short:  "Stop the process groups of a proctor that died (internal)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runner.Guard(h.stdin, time.Duration(grace)); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().Var(&grace, "grace", "seconds between SIGTERM and SIGKILL")
	return cmd
}

// guardianArgv is the command line that starts proctor's guardian: this
// same executable, found through /proc/self/exe on Linux so that it works
// even when the file was replaced or removed since proctor started.
func guardianArgv(grace time.Duration) []string {
	exe := "/proc/self/exe"
	if runtime.GOOS != "linux" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil
		}
	}
	g := seconds(grace)
	return []string{exe, guardianCommand, "--grace", g.String()}
}
