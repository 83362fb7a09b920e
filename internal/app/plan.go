package app

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/manifest"
	"github.com/mlcanary/mlcanary/internal/secret"
	"github.com/mlcanary/mlcanary/internal/summary"
)

func newPlanCommand(s Streams, env LookupEnv) *cobra.Command {
	var f clusterFlags
	var offline bool
	var greenImage string
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "plan STAGE",
		Short: "Show what a stage would change; --offline needs no cluster",
		Long: "With --offline, perform STAGE against an in-memory cluster in the state the documented flow\n" +
			"leaves before it, contacting no cluster, and print the objects it sends and the traffic split.\n" +
			"Otherwise read the cluster, check the preconditions and send every write as a server-side dry\n" +
			"run, printing a diff of live vs desired.",
		Args: exactArgs(1, "one stage name ("+config.StageNames+")"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.config(args[0])
			if err != nil {
				return err
			}
			objectsOnly := f.output == "yaml" || f.output == "json"
			if err := checkGreenImage(greenImage, offline); err != nil {
				return err
			}
			var res *summary.Result
			if offline {
				res, err = engine.Offline(cmd.Context(), cfg, engine.OfflineOptions{GreenImage: greenImage})
				if err == nil && objectsOnly {
					err = noPlaceholder(res, cfg)
				}
			} else {
				var client *engine.Client
				if client, err = f.connect(env); err == nil {
					res, err = client.Plan(kube.WithCommand(cmd.Context(), "mlcanary plan"), cfg)
				}
			}
			if err != nil {
				return err
			}
			return printPlan(s, res, f.output, showSecrets)
		},
	}
	f.add(cmd)
	f.in.Stdin = s.In // --pod-template -
	cmd.Flags().Lookup("output").Usage = "output format: text or markdown (the plan for a person), yaml or json (only the objects: a YAML stream, a v1 List)"
	config.BoolVarP(cmd.Flags(), &offline, "offline", "", false, "contact no cluster; assume the stage's preconditions hold")
	config.BoolVarP(cmd.Flags(), &showSecrets, flagShowSecrets, "", false, "with -o yaml|json: print credentials in the objects (env values, secret-looking args, SAS signatures…) as they are, for a tool that applies them; without it they read "+secret.Redacted)
	cmd.Flags().StringVar(&greenImage, flagGreenImage, "", "with --offline: the image green runs on the cluster (for -o yaml|json of a stage that writes it)")
	return cmd
}

// flagShowSecrets is plan's --show-secrets.
const flagShowSecrets = "show-secrets"

// printPlan prints the plan in format. text and markdown are for a person: the objects (offline)
// or the diff (against a cluster) before the summary, credentials redacted. yaml and json are for
// other tools, as kubectl's -o: Out carries only the objects the stage sends (a YAML stream, or a v1
// List), which `kubectl apply --dry-run=server -f -`, `istioctl analyze -` and kubeconform read as
// they are, and the summary goes to Err, where a person still sees it and no pipe does. Out is as
// likely a pipeline's log as a pipe, so its credentials are redacted too (secret.Object) unless
// showSecrets (--show-secrets) asks for them as they are.
func printPlan(s Streams, res *summary.Result, format string, showSecrets bool) error {
	switch format {
	case "yaml", "json":
		bodies := res.Manifests
		if !showSecrets {
			bodies = make([]json.RawMessage, len(res.Manifests))
			for i, b := range res.Manifests {
				r, err := secret.JSON(b)
				if err != nil {
					return err
				}
				bodies[i] = r
			}
		}
		if err := manifest.Write(s.Out, bodies, format); err != nil {
			return err
		}
		return writeResult(Streams{Out: s.Err}, res, "text")
	case "text":
		if res.Objects != "" {
			if _, err := fmt.Fprint(s.Out, res.Objects, "---\n"); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprint(s.Out, res.Diff); err != nil {
			return err
		}
	case "markdown":
		if err := writeResult(s, res, format); err != nil {
			return err
		}
		if body, lang := res.Objects+res.Diff, map[bool]string{true: "yaml", false: "diff"}[res.Objects != ""]; body != "" {
			_, err := fmt.Fprintf(s.Out, "\n```%s\n%s```\n", lang, body)
			return err
		}
		return nil
	}
	return writeResult(s, res, format)
}
