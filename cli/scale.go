package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/procfile"
)

func newScaleCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "scale TYPE=N[,TYPE=N...]",
		Short: "Change the number of instances of process types in the running stack",
		Long: `Change the formation of the stack that proctor start runs here: each TYPE
named gets N instances (0 stops them all); types not named keep theirs. New
instances take the next numbers and their ports (base + step*type + N-1, as
at start); surplus instances stop, highest number first. all=N is not
accepted here: name each type. scale returns once new instances have
started and surplus ones have exited.`,
		Example: `  proctor scale web=3
  proctor scale web=1,worker=4
  proctor scale clock=0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("scale: missing TYPE=N[,TYPE=N...]")
			}
			return nil
		},
		ValidArgsFunction: f.completeScale(h),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := procfile.ParseFormation(strings.Join(args, ","))
			if err != nil {
				return &usageError{err}
			}
			if fm.HasAll {
				return usageErrorf("scale: all=N is not meaningful for a running stack: name each type (e.g. web=2,worker=1)")
			}
			ctx, stop := interruptContext(h)
			defer stop()
			if err := f.client(h).Scale(ctx, fm.Counts); err != nil {
				return clientError(err, "scaling")
			}
			var parts []string
			for _, tc := range fm.Counts {
				parts = append(parts, tc.Type+"="+strconv.Itoa(tc.Count))
			}
			fmt.Fprintf(h.stdout, "scaled %s\n", strings.Join(parts, ","))
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// completeScale completes "TYPE=" with the running stack's types, after
// the pairs already written ("web=2,wor" → "web=2,worker=").
func (f *clientFlags) completeScale(h *host) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const directive = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		done, partial := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			done, partial = toComplete[:i+1], toComplete[i+1:]
		}
		if strings.Contains(partial, "=") {
			return nil, directive
		}
		st, ok := f.stackForCompletion(h, cmd)
		if !ok {
			return nil, directive
		}
		named := map[string]bool{}
		for _, a := range append(slices.Clone(args), strings.Split(done, ",")...) {
			for _, pair := range strings.Split(a, ",") {
				name, _, _ := strings.Cut(pair, "=")
				named[strings.TrimSpace(name)] = true
			}
		}
		var out []cobra.Completion
		for _, t := range st.Types {
			if t == procfile.ReleaseType || named[t] || !strings.HasPrefix(t, partial) {
				continue
			}
			out = append(out, done+t+"=")
		}
		return out, directive
	}
}
