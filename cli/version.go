package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(h *host) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print proctor's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(h.stdout, "proctor %s\n", versionString())
			return nil
		},
	}
}

// versionString reports the module version and VCS revision recorded in the
// binary's build information, e.g. "v1.2.0" or "(devel) commit 1a2b3c4d5e6f".
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " commit " + rev + modified
	}
	return v
}
