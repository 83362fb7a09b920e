package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// AutoGateway as the gateway address (--gateway auto, verify-gateway: auto) asks Check to read the
// ingress gateway Service's load-balancer address from the cluster (GatewayFinder).
const AutoGateway = "auto"

// GatewayFinder reads the URL of the ingress gateway's load balancer for cfg; *engine.Client is one.
type GatewayFinder interface {
	IngressAddress(ctx context.Context, cfg config.Config) (string, error)
}

// Check reads the live weights and header routes through r and measures the gateway against them:
// what `mlcanary verify` does, and what a stage front end does right after a stage. A gateway of
// AutoGateway is first read from the cluster (r must be a GatewayFinder).
func Check(ctx context.Context, r StatusReader, cfg config.Config, o Options) (*Report, error) {
	if o.Gateway == AutoGateway {
		f, ok := r.(GatewayFinder)
		if !ok {
			return nil, errors.New("--gateway auto needs a cluster to read the ingress gateway's address from")
		}
		addr, err := f.IngressAddress(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("reading the ingress gateway's address (--gateway auto): %w", err)
		}
		o.Gateway = addr
	}
	target, err := TargetFromCluster(ctx, r, cfg)
	if err != nil {
		return nil, err
	}
	return Verify(ctx, target, o)
}

// Checker runs Check against the cluster a front end is connected to.
type Checker func(ctx context.Context, o Options) (*Report, error)

// Outcome is the verification that followed a stage: not asked for, skipped, or run.
type Outcome struct {
	// Report is the measurement; nil when verification did not run or could not measure.
	Report *Report
	// Skipped says why an asked-for verification did not run ("" when it ran or was not asked for).
	Skipped string
	// Err is why the verification failed, one sentence; nil when traffic matches or it did not run.
	Err error
}

// AfterStage verifies traffic right after a stage, when o asks for it (o != nil) and the stage held
// (res != nil and stageErr == nil). A dry run is skipped: nothing changed, so there is nothing new
// to verify. Every front end calls this, so they decide and word the outcome alike.
func AfterStage(ctx context.Context, o *Options, res *summary.Result, stageErr error, check Checker) Outcome {
	switch {
	case o == nil || res == nil || stageErr != nil:
		return Outcome{}
	case res.DryRun:
		return Outcome{Skipped: "dry run: the stage changed nothing, so traffic was not verified"}
	}
	r, err := check(ctx, *o)
	if err != nil {
		return Outcome{Err: fmt.Errorf("%s holds, but traffic could not be verified: %w", res.Stage, err)}
	}
	out := Outcome{Report: r}
	if !r.Passed {
		out.Err = fmt.Errorf("%s holds, but traffic through %s does not match the live routes: %s", res.Stage, r.Gateway, firstProblem(r.Problems))
	}
	return out
}

// WillRun reports whether AfterStage will measure traffic, so a front end can announce it first.
func WillRun(o *Options, res *summary.Result, stageErr error) bool {
	return o != nil && res != nil && stageErr == nil && !res.DryRun
}

// Ran reports whether a verification was attempted (whatever its result).
func (o Outcome) Ran() bool { return o.Report != nil || o.Err != nil }

// Verified is the front ends' `verified` output: "true" or "false" when a verification ran, ""
// when it was not asked for or skipped.
func (o Outcome) Verified() string {
	if !o.Ran() {
		return ""
	}
	return fmt.Sprint(o.Err == nil)
}

// Markdown is what the run summary gets after the stage's own: the report, the reason a check
// could not measure, or why verification was skipped; "" when none was asked for.
func (o Outcome) Markdown() string {
	switch {
	case o.Report != nil:
		return Markdown(o.Report)
	case o.Err != nil:
		return "### mlcanary verify: ❌ not verified\n\n" + summary.Escape(o.Err.Error()) + "\n"
	case o.Skipped != "":
		return "### mlcanary verify: skipped\n\n" + summary.Escape(o.Skipped) + "\n"
	}
	return ""
}

// firstProblem is the first of a report's problems, saying how many more there are.
func firstProblem(ps []string) string {
	if len(ps) > 1 {
		return fmt.Sprintf("%s (and %d more problems in the report)", ps[0], len(ps)-1)
	}
	return strings.Join(ps, "")
}
