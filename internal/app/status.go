package app

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/lock"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newStatusCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the live stage, weights, images, readiness and last change",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.statusConfig()
			if err != nil {
				return err
			}
			rc, err := f.kube.restConfig(env)
			if err != nil {
				return err
			}
			client, err := engine.NewClient(rc)
			if err != nil {
				return err
			}
			ctx := kube.WithCommand(cmd.Context(), "mlcanary status")
			res, err := client.Status(ctx, cfg)
			if err != nil {
				return err
			}
			if res.Lock, err = heldLock(ctx, rc, cfg); err != nil { // status still shows the routes
				res.Notes = append(res.Notes, "the namespace's lock was not read: "+err.Error())
			}
			return writeResult(s, res, f.output)
		},
	}
	f.add(cmd)
	f.in.Stdin = s.In // --pod-template -
	return cmd
}

// heldLock reads the namespace's lock (--lock-name): the run holding it, or nil when it is free.
func heldLock(ctx context.Context, rc *rest.Config, cfg config.Config) (*summary.Lock, error) {
	s, err := lock.NewStore(rc)
	if err != nil {
		return nil, err
	}
	r, held, err := lock.Read(ctx, s, cfg.Namespace, cfg.Lock.Name)
	if err != nil || !held {
		return nil, err
	}
	return &summary.Lock{Lease: cfg.Namespace + "/" + cfg.Lock.Name, Holder: r.Holder.Run, Stage: r.Holder.Stage,
		Since: r.Since, RenewedAt: r.Renewed, Expired: r.Stale()}, nil
}
