// Package demo shows the documented flow end to end on this machine, with no cloud account: it
// starts the same real kube-apiserver + etcd (with Istio's CRDs) the tests use, plays the Deployment
// controller, and drives the real `mlcanary` commands through each stage, printing the summary after
// each and `status` at the end. A last release ends with Blue_50 --analysis on Istio's metrics in a
// real Prometheus (fed by the test gateway: traffic.go), which finds blue degraded and rolls back on
// its own. `make demo` runs it.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/summary"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// Images of the two releases the demo rolls through (nothing pulls them: no kubelet runs).
const (
	ImageA = "myregistry.azurecr.io/model:1"
	ImageB = "myregistry.azurecr.io/model:2"
	ImageC = "myregistry.azurecr.io/model:3"
)

// ModelLoad is how long each new pod's model takes to load in the demo (serve-model --ready-after).
const ModelLoad = 3 * time.Second

// modelTemplate is the pod template the demo deploys both versions from (--pod-template): an
// inference-server-like container with resources, probes and env.
//
//go:embed model.yaml
var modelTemplate []byte

// Run starts the API server, runs the flow, prints to out, and stops everything it started.
func Run(ctx context.Context, out io.Writer) (err error) {
	env, err := testenv.New(testenv.Options{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Stop()) }()
	cctx, cancel := context.WithCancel(ctx)
	ctrl, done := env.RunController(cctx)
	defer func() { cancel(); <-done }()
	// Every pod's model takes ModelLoad to load and answers its readiness probe only then, so the
	// stages that deploy show mlcanary waiting for the model before it routes.
	ctrl.ModelLoadTime(ModelLoad)
	if _, err := fmt.Fprintf(out, "each new pod's model takes %s to load (its readiness probe GET / answers 503 until then): a stage that deploys waits for it before it routes\n", ModelLoad); err != nil {
		return err
	}

	if err := env.CreateNamespace(ctx, "abtesting"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "mlcanary-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a leftover temporary directory harms nothing
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env, kubeconfig); err != nil {
		return err
	}
	template := filepath.Join(dir, "model.yaml")
	if err := os.WriteFile(template, modelTemplate, 0o600); err != nil {
		return err
	}
	tr, err := startTraffic(ctx, dir)
	if err != nil {
		return err
	}
	defer tr.stop()
	return flow(ctx, out, kubeconfig, template, tr.prom.URL)
}

// flow is the documented sequence: model A is live as green; model B goes through every stage.
// Blue_0 deploys from the pod template file template; Blue_Green copies blue's pod template. Then
// model C, which fails five points more requests than B, is analyzed at Blue_50 from Istio's
// metrics in the Prometheus at prometheusURL: degraded, rolled back, the stage exits 1.
func flow(ctx context.Context, out io.Writer, kubeconfig, template, prometheusURL string) (err error) {
	env := func(k string) (string, bool) {
		if k == "KUBECONFIG" {
			return kubeconfig, true
		}
		return "", false
	}
	steps := []struct {
		title string
		args  []string
		quiet bool
		code  int
	}{
		{"first release of model A (becomes green)", []string{"stage", "Blue_0", "--image", ImageA, "--pod-template", template}, true, 0},
		{"", []string{"stage", "Blue_100"}, true, 0},
		{"", []string{"stage", "Blue_Green"}, true, 0},
		{"", []string{"stage", "Green_100"}, true, 0},
		{"Blue_0: deploy model B as blue from the pod template, all traffic still on green", []string{"stage", "Blue_0", "--image", ImageB, "--pod-template", template}, false, 0},
		{"Blue_50: split traffic", []string{"stage", "Blue_50"}, false, 0},
		{"Blue_100: all traffic to blue", []string{"stage", "Blue_100"}, false, 0},
		{"Blue_Green: green gets blue's image and whole pod template", []string{"stage", "Blue_Green"}, false, 0},
		{"Green_100: all traffic to green, blue removed", []string{"stage", "Green_100"}, false, 0},
		{"status", []string{"status"}, false, 0},
		{"Blue_0: deploy model C as blue", []string{"stage", "Blue_0", "--image", ImageC, "--pod-template", template}, false, 0},
		{fmt.Sprintf("Blue_50 with analysis: model C fails %g%% of requests, green %g%%; the gate catches it and rolls back on its own (exit 1)",
			100*BlueFailRate, 100*GreenFailRate),
			[]string{"stage", "Blue_50", "--analysis", "--prometheus-url", prometheusURL, "--window", "2m", "--interval", "2s"}, false, app.ExitFailed},
		{"status: all traffic back on green", []string{"status"}, false, 0},
	}
	defer func() {
		if err == nil {
			err = rolledBack(ctx, env)
		}
	}()
	for _, s := range steps {
		w := out
		if s.quiet {
			w = io.Discard
		}
		if s.title != "" {
			if _, err := fmt.Fprintf(out, "\n=== mlcanary %s   # %s\n", joinArgs(s.args), s.title); err != nil {
				return err
			}
		}
		streams := app.Streams{In: os.Stdin, Out: w, Err: w} // the progress (the wait for the model), then the summary
		if code := app.Run(ctx, streams, s.args, env); code != s.code {
			return fmt.Errorf("mlcanary %s exited with %d, not %d", joinArgs(s.args), code, s.code)
		}
	}
	return nil
}

// rolledBack checks, as the cluster says it (mlcanary status -o json reads the live objects), that
// the analysis's Rollback left all traffic on green.
func rolledBack(ctx context.Context, env app.LookupEnv) error {
	var out, errs bytes.Buffer
	if code := app.Run(ctx, app.Streams{In: os.Stdin, Out: &out, Err: &errs}, []string{"status", "-o", "json"}, env); code != app.ExitOK {
		return fmt.Errorf("mlcanary status -o json exited with %d: %s", code, errs.String())
	}
	var st struct {
		Stage   string
		Weights summary.Weights
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		return fmt.Errorf("reading mlcanary status -o json: %w", err)
	}
	if st.Stage != "Rollback" || st.Weights != (summary.Weights{Green: 100}) {
		return fmt.Errorf("after the analysis, the cluster says stage %s, weights %+v: not rolled back", st.Stage, st.Weights)
	}
	return nil
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

func writeKubeconfig(env *testenv.Env, path string) error {
	rc := env.Config
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["demo"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	cfg.AuthInfos["demo"] = &clientcmdapi.AuthInfo{ClientCertificateData: rc.CertData, ClientKeyData: rc.KeyData, Token: rc.BearerToken}
	cfg.Contexts["demo"] = &clientcmdapi.Context{Cluster: "demo", AuthInfo: "demo"}
	cfg.CurrentContext = "demo"
	return clientcmd.WriteToFile(*cfg, path)
}
