package benchstage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// Namespaces: one copy of the objects per tool.
const (
	nsHelm    = "bench-helm"
	nsKubectl = "bench-kubectl"
	nsStage   = "bench-mlcanary"
	nsScale   = "bench-scale"
)

const (
	imageGreen = "myregistry.azurecr.io/model:1"
	imageBlue  = "myregistry.azurecr.io/model:2"
)

// setup writes the kubeconfigs, renders the chart for kubectl, brings both mlcanary namespaces to
// Blue_50 by the documented flow, and fills the scale namespace with unrelated objects.
func (b *bench) setup(ctx context.Context) error {
	for _, ns := range []string{nsHelm, nsKubectl, nsStage, nsScale} {
		if err := b.env.CreateNamespace(ctx, ns); err != nil {
			return err
		}
	}
	b.kubeconfig = b.path("kubeconfig")
	rc := b.env.Config
	if err := writeKubeconfig(b.kubeconfig, rc.Host, rc.CAData, rc.CertData, rc.KeyData, rc.BearerToken); err != nil {
		return err
	}
	var err error
	if b.counter, b.proxied, err = b.countingProxy(); err != nil {
		return err
	}
	for _, w := range []int{50, 40} {
		out, err := b.tool(ctx, b.o.Helm, "template", "mlmodel", b.o.Chart, "--namespace", nsKubectl, "--set", "blueWeight="+strconv.Itoa(w))
		if err != nil {
			return err
		}
		if err := os.WriteFile(b.path(fmt.Sprintf("objects-%d.yaml", w)), out, 0o600); err != nil {
			return err
		}
	}
	say(b.out, "setting up: the documented flow up to Blue_50 in %s and %s…\n", nsStage, nsScale)
	cctx, cancel := context.WithCancel(ctx)
	_, done := b.env.RunController(cctx) // plays the Deployment controller while the flow deploys
	err = b.flow(ctx, nsStage, nsScale)
	cancel()
	<-done
	if err != nil {
		return err
	}
	say(b.out, "setting up: %d unrelated Deployments, Services and VirtualServices in %s…\n", b.o.Unrelated, nsScale)
	return b.unrelated(ctx, nsScale, b.o.Unrelated)
}

// flow performs the documented flow up to Blue_50 in each namespace (in this process: the drains
// between stages are cut to nothing).
func (b *bench) flow(ctx context.Context, namespaces ...string) error {
	cl, err := engine.NewClient(b.env.Config)
	if err != nil {
		return err
	}
	cl.Drain, cl.PollInterval = 0, 20*time.Millisecond
	for _, ns := range namespaces {
		for _, s := range []struct{ stage, image string }{
			{"Blue_0", imageGreen}, {"Blue_100", ""}, {"Blue_Green", ""}, {"Green_100", ""}, {"Blue_0", imageBlue}, {"Blue_50", ""},
		} {
			c := config.Default()
			c.Namespace, c.Image, c.Timeout = ns, s.image, time.Minute
			if c.Stage, err = config.ParseStage(s.stage); err != nil {
				return err
			}
			if _, err := cl.Stage(ctx, c, nil); err != nil {
				return fmt.Errorf("setting up %s: %w", ns, err)
			}
		}
	}
	return nil
}

// unrelated creates n Deployments, n Services and n VirtualServices in ns that have nothing to do
// with the release, eight at a time.
func (b *bench) unrelated(ctx context.Context, ns string, n int) error {
	type item struct {
		gvr schema.GroupVersionResource
		obj map[string]any
	}
	items := make(chan item)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 8 {
		wg.Go(func() {
			for it := range items {
				_, err := b.env.Dynamic.Resource(it.gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: it.obj}, metav1.CreateOptions{})
				if err != nil {
					mu.Lock()
					first = cmpErr(first, fmt.Errorf("creating unrelated %s: %w", it.gvr.Resource, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		name := fmt.Sprintf("other-%04d", i)
		labels := map[string]any{"app": name}
		items <- item{kube.Deployments, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "labels": labels},
			"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "registry.example/" + name + ":1"}}}}}}}
		items <- item{kube.Services, map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": name, "labels": labels},
			"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"port": int64(80)}}}}}
		items <- item{kube.VirtualServices, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": map[string]any{"name": name, "labels": labels},
			"spec": map[string]any{"hosts": []any{name + ".example.com"},
				"http": []any{map[string]any{"route": []any{map[string]any{"destination": map[string]any{"host": name}}}}}}}}
	}
	close(items)
	wg.Wait()
	return first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// run runs one timed command of r with the stage's blue weight, through kubeconfig (the direct
// one unless given), and returns how long the whole process took.
func (b *bench) run(ctx context.Context, r string, weight int, kubeconfig *string) (time.Duration, error) {
	kc := b.kubeconfig
	if kubeconfig != nil {
		kc = *kubeconfig
	}
	var bin string
	var args []string
	switch r {
	case runHelm:
		bin, args = b.o.Helm, []string{"upgrade", "--install", "mlmodel", b.o.Chart, "--namespace", nsHelm, "--kubeconfig", kc, "--set", "blueWeight=" + strconv.Itoa(weight)}
	case runKubectl:
		bin, args = b.o.Kubectl, []string{"apply", "--server-side", "--field-manager=bench", "--kubeconfig", kc, "-n", nsKubectl, "-f", b.path(fmt.Sprintf("objects-%d.yaml", weight))}
	case runStage, runScale, stageRerun:
		ns := nsStage
		if r == runScale {
			ns = nsScale
		}
		bin, args = b.o.Mlcanary, []string{"stage", fmt.Sprintf("Blue_%d", weight), "--namespace", ns, "--kubeconfig", kc}
	default:
		return 0, fmt.Errorf("unknown run %q", r)
	}
	start := time.Now()
	_, err := b.tool(ctx, bin, args...)
	return time.Since(start), err
}

// tool runs bin with args in the bench's own HOME (helm's and kubectl's caches and configuration
// stay in the bench's directory) and returns its standard output.
func (b *bench) tool(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+b.dir, "XDG_CACHE_HOME="+b.path("cache"), "XDG_CONFIG_HOME="+b.path("config"),
		"XDG_DATA_HOME="+b.path("data"), "KUBECONFIG=", "HELM_CACHE_HOME="+b.path("helm-cache"),
		"HELM_CONFIG_HOME="+b.path("helm-config"), "HELM_DATA_HOME="+b.path("helm-data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", bin, args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

func writeKubeconfig(path, host string, ca, cert, key []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["bench"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos["bench"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key, Token: token}
	cfg.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "bench"}
	cfg.CurrentContext = "bench"
	return clientcmd.WriteToFile(*cfg, path)
}
