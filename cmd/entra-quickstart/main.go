// Command entra-quickstart registers a Microsoft Entra app for a sample web app, writes the
// sample's configuration, and proves a real sign-in works. See README.md.
package main

import (
	"context"
	"os"

	"github.com/entra-quickstart/entra-quickstart/internal/cli"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

func main() {
	ctx, stop := cli.WithSignals(context.Background(), os.Stderr, os.Exit)
	code := cli.Main(ctx, os.Args[1:], ui.System())
	stop()
	os.Exit(code)
}
