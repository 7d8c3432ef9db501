// Command entra-quickstart registers a Microsoft Entra app for a sample web app, writes the
// sample's configuration, and proves a real sign-in works. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/entra-quickstart/entra-quickstart/internal/cli"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], ui.System())
	stop()
	os.Exit(code)
}
