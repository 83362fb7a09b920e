package istiovalidate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/resource"

	"github.com/mlcanary/mlcanary/internal/app"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/manifest"
)

// analyzed are the plans Istio's analyzer reads: every stage, in the documented flow's flags, with
// every object flag changed (but the Gateway selector: the analyzer's stand-in for the cluster's
// ingress gateway carries istio=ingressgateway), and bound to an existing Gateway.
var analyzed = map[string][]string{
	"documented": {"--image=acr.io/model:42"},
	"every flag": {"--image=acr.io/team/model:7", "--app=scorer", "--green-deployment=g", "--blue-deployment=b",
		"--green-service=g-svc", "--blue-service=b-svc", "--gateway=gw", "--virtual-service=vs",
		"--hosts=a.example.com,b.example.com", "--gateway-port=8443", "--port=8080", "--replicas=3",
		"--image-pull-secret=regcred", "--header=x-model", "--uri-prefix=/v2/score"},
	"existing gateway": {"--image=acr.io/model:42", "--gateway=istio-system/public-gateway", "--hosts=model.example.com"},
}

var stages = []string{"Blue_0", "Shadow_1", "Shadow_10", "Shadow_100", "Blue_1", "Blue_50", "Blue_99", "Blue_100", "Blue_Green", "Green_100", "Rollback"}

// TestIstioAnalyzesPlansClean runs Istio's own analysis — what `istioctl analyze --use-kube=false
// FILE` runs: every analyzer, the default ingress gateway added as a stand-in for the cluster's —
// over the `mlcanary plan STAGE --offline -o yaml` output of every stage, and requires no message
// at Error level. A stage sends only what it changes (Blue_50: the VirtualService), so the plan is
// analyzed over the objects of the state it assumes, as the cluster holds them (a VirtualService
// naming a Gateway absent from the analysis is an error): that state is reached as the offline
// plan reaches it, by performing the stages plan.Assumed lists on an in-memory cluster.
func TestIstioAnalyzesPlansClean(t *testing.T) {
	for name, flags := range analyzed {
		for _, stage := range stages {
			t.Run(name+"/"+stage, func(t *testing.T) {
				out := planYAML(t, stage, flags)
				if len(out) == 0 {
					t.Fatal("the plan has no object")
				}
				for _, m := range analyze(t, merge(t, assumedState(t, stage, flags), out)) {
					if m.Type.Level() == diag.Error {
						t.Errorf("%s", m.String())
					} else {
						t.Logf("%s", m.String())
					}
				}
			})
		}
	}
}

// assumedState is the YAML of every object an offline plan of stage (with flags) assumes on the
// cluster (engine.Assumed, the state engine.Offline plans on), the image given by flags serving
// as both versions' image.
func assumedState(t *testing.T, stage string, flags []string) string {
	t.Helper()
	var in config.Inputs
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	in.AddFlags(fs)
	if err := fs.Parse(append([]string{"-n", "demo"}, flags...)); err != nil {
		t.Fatal(err)
	}
	cfg, err := in.Config(stage)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mem, err := engine.Assumed(ctx, cfg, engine.OfflineOptions{GreenImage: cfg.Image})
	if err != nil {
		t.Fatalf("reaching the state %s assumes: %v", stage, err)
	}
	var bodies []json.RawMessage
	for _, gvr := range []schema.GroupVersionResource{kube.Gateways, kube.Services, kube.Deployments, kube.VirtualServices} {
		for _, ns := range []string{cfg.Namespace, "istio-system"} {
			objs, err := mem.List(ctx, gvr, ns)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				data, err := o.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				bodies = append(bodies, data)
			}
		}
	}
	var b bytes.Buffer
	if err := manifest.Write(&b, bodies, "yaml"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// merge is the YAML of the objects of base and plan, an object of plan replacing base's of the
// same kind, namespace and name: what the cluster holds after the stage.
func merge(t *testing.T, base, plan string) string {
	t.Helper()
	var objs []manifest.Object
	at := map[string]int{}
	for _, stream := range []string{base, plan} {
		parsed, err := manifest.Parse(stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parsed {
			meta := o["metadata"].(map[string]any)
			k := fmt.Sprint(o["kind"], "/", meta["namespace"], "/", meta["name"])
			if i, ok := at[k]; ok {
				objs[i] = o
				continue
			}
			at[k] = len(objs)
			objs = append(objs, o)
		}
	}
	var bodies []json.RawMessage
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, data)
	}
	var b bytes.Buffer
	if err := manifest.Write(&b, bodies, "yaml"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestIstioAnalyzerControl: the same analysis reports an error for a plan whose VirtualService
// names a Gateway that does not exist, so a clean result above means something.
func TestIstioAnalyzerControl(t *testing.T) {
	flags := analyzed["documented"]
	out := planYAML(t, "Blue_0", flags)
	bad := strings.ReplaceAll(out, "  - mlmodel-gateway\n", "  - no-such-gateway\n")
	if bad == out {
		t.Fatal("the control did not change the plan")
	}
	for _, m := range analyze(t, merge(t, assumedState(t, "Blue_0", flags), bad)) {
		if m.Type.Level() == diag.Error {
			return
		}
	}
	t.Error("Istio's analyzer found no error in a VirtualService naming a missing Gateway")
}

// planYAML runs `mlcanary plan STAGE --offline -n demo -o yaml` in process, with --green-image the
// --image of flags (as assumedState: one image serving as both versions').
func planYAML(t *testing.T, stage string, flags []string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args := append([]string{"plan", stage, "--offline", "-n", "demo", "-o", "yaml"}, flags...)
	for _, f := range flags {
		if image, ok := strings.CutPrefix(f, "--image="); ok {
			args = append(args, "--green-image="+image)
		}
	}
	streams := app.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}
	if code := app.Run(context.Background(), streams, args, func(string) (string, bool) { return "", false }); code != 0 {
		t.Fatalf("mlcanary %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// analyze runs Istio's local analysis over the YAML stream in namespace demo, as `istioctl analyze
// --use-kube=false` reads files (Istio's kinds; Istio leaves Services, Pods… of files out, so its
// destination-host analyzer does not run), and returns every message.
func analyze(t *testing.T, stream string) diag.Messages {
	t.Helper()
	sa := local.NewIstiodAnalyzer(analyzers.AllCombined(), resource.Namespace("demo"), resource.Namespace("istio-system"), nil)
	if err := sa.AddDefaultResources(); err != nil {
		t.Fatal(err)
	}
	if err := sa.AddReaderKubeSource([]local.ReaderSource{{Name: "plan", Reader: strings.NewReader(stream)}}); err != nil {
		t.Fatalf("Istio cannot read the plan: %v", err)
	}
	cancel := make(chan struct{})
	defer close(cancel)
	res, err := sa.Analyze(cancel)
	if err != nil {
		t.Fatal(err)
	}
	return res.Messages
}
