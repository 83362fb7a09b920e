package verify

import (
	"context"
	"fmt"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// StatusReader reads the live state of a cluster; *engine.Client satisfies it.
type StatusReader interface {
	Status(ctx context.Context, cfg config.Config) (*summary.Result, error)
}

// TargetFromCluster reads the live weights and header routes through r, so that Verify checks what
// the cluster really has configured rather than what a pipeline intended.
func TargetFromCluster(ctx context.Context, r StatusReader, cfg config.Config) (Target, error) {
	res, err := r.Status(ctx, cfg)
	if err != nil {
		return Target{}, fmt.Errorf("reading the live routes in namespace %s: %w", cfg.Namespace, err)
	}
	return TargetFrom(res, cfg.URIPrefix), nil
}

// TargetFrom takes the weights and header routes out of a status result; path is the default
// route's path (the configured URI prefix).
func TargetFrom(res *summary.Result, path string) Target {
	return Target{Weights: res.Weights, Routes: append([]summary.HeaderRoute(nil), res.Routes...), Path: path, Mirror: res.Mirror}
}
