// Command demo runs mlcanary's documented flow against a local API server (see internal/demo).
// It is a development tool, run by `make demo`; it is not shipped.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/mlcanary/mlcanary/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
