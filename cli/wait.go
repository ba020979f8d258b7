package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/control"
)

func newWaitCmd(h *host) *cobra.Command {
	var (
		f       clientFlags
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait [TYPE...]",
		Short: "Wait until process types of the running stack are ready",
		Long: `Wait until every instance of the TYPEs named is ready, for scripts and
other terminals: a type with a ready check in .proctor is ready when it
passes, any other when a process of the instance listens on its PORT.
Without TYPEs, wait waits for the types whose readiness .proctor defines (a
ready check, or another type starts after them), or, when it defines none,
until every instance is running. wait exits 0 once they are ready, and 1
with the reason on timeout or when the stack stops first.`,
		Example: `  proctor wait                     # the stack is up
  proctor wait db redis --timeout 30s && bin/rails db:migrate`,
		ValidArgsFunction: f.completeNames(h, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return usageErrorf("wait: --timeout %s is negative", timeout)
			}
			ctx, stop := interruptContext(h)
			defer stop()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			client := f.client(h)
			err := client.Wait(ctx, args)
			if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &exitError{exitFail, fmt.Errorf("wait: not ready after %s%s", timeout, notReady(client, args))}
			}
			if err != nil {
				return clientError(err, "")
			}
			fmt.Fprintln(h.stdout, "ready")
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long, e.g. 30s (default: no limit)")
	return cmd
}

// notReady lists the instances of types (all, when none) that are not
// ready, for the message of a timeout: ": db.1 (running, not ready)".
func notReady(client *control.Client, types []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	st, err := client.Status(ctx)
	if err != nil {
		return ""
	}
	var parts []string
	for _, p := range st.Processes {
		if len(types) > 0 && !slices.Contains(types, p.Type) || p.Ready {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", p.Name, p.State))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; not ready: " + strings.Join(parts, ", ")
}
