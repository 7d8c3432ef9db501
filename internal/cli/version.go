package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// version is set at build time with -ldflags "-X .../internal/cli.version=v1.2.3".
var version = "dev"

func newVersionCmd(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of entra-quickstart",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := &versionResult{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v.Commit = s.Value
					}
				}
			}
			return ui.Render(g.IO.Out, ui.NewStyles(false), g.JSON, v, ExitOK)
		},
	}
}

// versionResult is what version prints.
type versionResult struct {
	ui.Verdict
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	Commit  string `json:"commit,omitempty"`
}

func (v *versionResult) Print(w io.Writer, _ ui.Styles) {
	fmt.Fprintf(w, "entra-quickstart %s (%s %s/%s)\n", v.Version, v.Go, v.OS, v.Arch)
}
