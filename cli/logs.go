package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/control"
)

func newLogsCmd(h *host) *cobra.Command {
	var (
		f       clientFlags
		color   bool
		noColor bool
	)
	cmd := &cobra.Command{
		Use:   "logs [NAME...]",
		Short: "Stream the output of the running stack",
		Long: `Stream the output of the stack that proctor start runs here, from now on,
in start's text format ("HH:MM:SS web.1 | line"; timestamps as start was
told), until interrupted (Ctrl-C) or until the stack stops. NAMEs (instances
such as web.2, or types such as web) keep only their lines; proctor's own
system lines always come through. Colors are on when stdout is a terminal,
off with NO_COLOR or --no-color, forced with --color. A reader too slow for
the stack loses lines (a system line says how many) rather than slowing it.`,
		Example: `  proctor logs
  proctor logs web worker.2
  proctor logs --no-color | grep -i error`,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			colored := wantColor(h, &startFlags{color: color, noColor: noColor})
			err := f.client(h).Logs(ctx, args, colored, h.stdout)
			var we *control.WriteError
			var intr *interrupted
			switch {
			case err == nil, errors.As(err, &intr):
				return nil // the stack stopped, or the user did
			case errors.As(err, &we):
				return writeErr(we.Err)
			}
			return clientError(err, "")
		},
	}
	f.registerWith(cmd.Flags(), "")
	cmd.Flags().BoolVarP(&color, "color", "c", false, "force colored output (even when not a terminal or NO_COLOR is set)")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "never color the output")
	// logs always follows; -f is accepted as docker, overmind and tail
	// users type it (so --procfile has no short name here).
	cmd.Flags().BoolP("follow", "f", true, "follow the output (always on: logs streams until Ctrl-C or the stack's end)")
	return cmd
}
