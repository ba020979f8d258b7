package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/control"
)

func newPsCmd(h *host) *cobra.Command {
	var (
		f      clientFlags
		asJSON bool
		stats  bool
	)
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the processes of the running stack",
		Long: `List every instance of the stack that proctor start runs here: its name,
pid, state (starting, running, stopping, stopped, exited, restarting), the
time since its process started, how often it was restarted, its PORT, and
whether something accepts connections on that port (READY: yes, no, or -
for an instance without a port). --json prints an array of objects with the
keys name, type, pid, state, uptime_seconds, restarts, port and ready.

--stats prints figures of the proctor process itself instead, to watch it
for leaks: its pid, goroutines, open file descriptors and heap bytes (with
--json, an object with the keys pid, goroutines, fds and heap_bytes).`,
		Example: `  proctor ps
  proctor ps --json | jq -r '.[] | select(.state != "running") | .name'
  proctor ps -d ~/src/app`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			if stats {
				return printStats(ctx, h, f.client(h), asJSON)
			}
			st, err := f.client(h).Status(ctx)
			if err != nil {
				return clientError(err, "")
			}
			if asJSON {
				b, err := json.MarshalIndent(st.Processes, "", "  ")
				if err != nil {
					return &exitError{exitFail, err}
				}
				_, err = fmt.Fprintf(h.stdout, "%s\n", b)
				return err
			}
			return writeTable(h, st.Processes)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of the table")
	cmd.Flags().BoolVar(&stats, "stats", false, "print proctor's own pid, goroutines, open file descriptors and heap bytes instead")
	return cmd
}

// printStats prints what the stats request reports, as "key  value" lines
// or, asJSON, as one object.
func printStats(ctx context.Context, h *host, c *control.Client, asJSON bool) error {
	pid, st, err := c.Stats(ctx)
	if err != nil {
		return clientError(err, "")
	}
	if asJSON {
		b, err := json.MarshalIndent(struct {
			PID int `json:"pid"`
			control.Stats
		}{pid, st}, "", "  ")
		if err != nil {
			return &exitError{exitFail, err}
		}
		_, err = fmt.Fprintf(h.stdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(h.stdout, "pid         %d\ngoroutines  %d\nfds         %d\nheap_bytes  %d\n", pid, st.Goroutines, st.FDs, st.HeapBytes)
	return err
}

// writeTable prints ps's table.
func writeTable(h *host, procs []control.Process) error {
	tw := tabwriter.NewWriter(h.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPID\tSTATE\tUPTIME\tRESTARTS\tPORT\tREADY")
	for _, p := range procs {
		pid, uptime, port, ready := "-", "-", "-", "-"
		if p.PID != 0 {
			pid = strconv.Itoa(p.PID)
			uptime = formatUptime(time.Duration(p.UptimeSeconds * float64(time.Second)))
		}
		if p.Port != 0 {
			port = strconv.Itoa(p.Port)
			ready = "no"
			if p.Ready {
				ready = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, pid, p.State, uptime, p.Restarts, port, ready)
	}
	return tw.Flush()
}

// formatUptime writes d in its two largest units: 42s, 3m07s, 2h05m,
// 3d04h.
func formatUptime(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}
