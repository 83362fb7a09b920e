// Package engine performs, plans and reports stages against a cluster: it reads the live state,
// checks the stage's preconditions, and then creates, waits, routes and removes in make-before-break
// order. It is the one core the terminal, Azure DevOps and GitHub front ends share.
package engine

import (
	"context"
	"errors"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Logger receives progress lines meant for a person watching the run (one line per call).
type Logger func(format string, args ...any)

// Client runs stages against one cluster.
type Client struct {
	rest *rest.Config
}

// NewClient prepares a Client for the cluster rc points at; it sends no request yet.
func NewClient(rc *rest.Config) (*Client, error) {
	return &Client{rest: rc}, nil
}

var errTODO = errors.New("engine: not implemented yet")

// Stage performs cfg.Stage and returns what holds afterwards.
func (c *Client) Stage(ctx context.Context, cfg config.Config, log Logger) (*summary.Result, error) {
	return nil, errTODO
}

// Status reports the live stage, weights, images and readiness without writing anything.
func (c *Client) Status(ctx context.Context, cfg config.Config) (*summary.Result, error) {
	return nil, errTODO
}
