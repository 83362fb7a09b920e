//go:build tools

// Package tools pins Prometheus's server and promtool so `go build github.com/prometheus/prometheus/cmd/...`
// resolves here: internal/analysis's tests backfill Istio-shaped series with promtool and query them
// through a real Prometheus on loopback.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
