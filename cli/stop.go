package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newStopCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop an instance, or every instance of a type, of the running stack",
		Long: `Stop one instance (web.2) or every instance of a process type (web) of the
stack that proctor start runs here, without stopping the rest: SIGTERM to
its process group, SIGKILL after start's --timeout. It stays stopped (even
under --restart) until restarted or scaled. stop returns once it has
exited.`,
		Example: `  proctor stop worker.1
  proctor stop clock`,
		Args:              exactlyOneName,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Stop(ctx, args[0]); err != nil {
				return clientError(err, "stop")
			}
			fmt.Fprintf(h.stdout, "stopped %s\n", args[0])
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}
