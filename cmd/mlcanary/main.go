// Command mlcanary moves an ML model between blue and green versions on Kubernetes + Istio,
// one stage per run, from Azure DevOps, GitHub Actions or a terminal.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlcanary/mlcanary/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, app.StdStreams(), os.Args[1:], os.LookupEnv)
	stop()
	os.Exit(code)
}
