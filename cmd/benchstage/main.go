// Command benchstage is `make bench-stage` (internal/benchstage): it times one traffic shift made by
// helm, kubectl and mlcanary on a local API server and prints the ratios. A development tool; not
// shipped. MLCANARY, HELM and KUBECTL name the binaries; BENCH_ROUNDS the rounds (default 25: the
// 95 % interval of a median is then its 8th to 18th value of 25, against the 4th to 12th of 15).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"

	"github.com/mlcanary/mlcanary/internal/benchstage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rounds := 25
	if s := os.Getenv("BENCH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-stage: BENCH_ROUNDS %q is not a number\n", s)
			os.Exit(2)
		}
		rounds = n
	}
	err := benchstage.Run(ctx, os.Stdout, benchstage.Options{
		Mlcanary: os.Getenv("MLCANARY"), Helm: os.Getenv("HELM"), Kubectl: os.Getenv("KUBECTL"),
		Rounds: rounds, Unrelated: 2000, Chart: "internal/benchstage/testdata/chart",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-stage:", err)
		os.Exit(1)
	}
}
