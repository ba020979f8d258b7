package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newRestartCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "restart NAME",
		Short: "Restart an instance, or every instance of a type, of the running stack",
		Long: `Restart one instance (web.2) or every instance of a process type (web, one
after another) of the stack that proctor start runs here: SIGTERM to its
process group, SIGKILL after start's --timeout, then the same command again
with the same PORT. The rest of the stack keeps running. restart returns
once the last instance has started again; a stopped instance is started.`,
		Example: `  proctor restart web.2
  proctor restart worker`,
		Args:              exactlyOneName,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Restart(ctx, args[0]); err != nil {
				return clientError(err, "restart")
			}
			fmt.Fprintf(h.stdout, "restarted %s\n", args[0])
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}
