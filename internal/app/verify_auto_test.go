package app

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// gatewayService creates, in namespace ns, an ingress gateway Service labelled istio=value whose
// load balancer is at address (none: pending) with its http2 port port, as a cloud controller
// leaves it.
func gatewayService(t *testing.T, env *testenv.Env, ns, value, address string, port int64) {
	t.Helper()
	ctx := context.Background()
	svc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": value, "namespace": ns, "labels": map[string]any{"istio": value}},
		"spec": map[string]any{"type": "LoadBalancer", "selector": map[string]any{"istio": value},
			"ports": []any{map[string]any{"name": "http2", "port": port, "targetPort": 8080, "protocol": "TCP"}}}}}
	out, err := env.Dynamic.Resource(kube.Services).Namespace(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if address != "" {
		out.Object["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": address}}}}
		if _, err := env.Dynamic.Resource(kube.Services).Namespace(ns).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIntegrationVerifyGatewayAuto: `verify --gateway auto` sends its requests to the load-balancer
// address and http2 port of the ingress gateway Service --gateway-selector names (here the gateway
// simulator's, on loopback); a load balancer still pending is one sentence, exit 1.
func TestIntegrationVerifyGatewayAuto(t *testing.T) {
	env := shared.Env(t)
	env.StartController(t)
	live := stageBlue30(t, env, "verify-auto")
	kubeconfig := env.Kubeconfig(t)
	u, err := url.Parse(gateway(t, live.Weights, live.Routes, 0))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.ParseInt(u.Port(), 10, 64)
	gatewayService(t, env, "verify-auto", "verify-auto-gateway", u.Hostname(), port)
	gatewayService(t, env, "verify-auto", "verify-pending-gateway", "", 80)

	code, out, errOut := run(t.Context(), "verify", "--gateway", "auto", "--gateway-selector", "istio=verify-auto-gateway", "--kubeconfig", kubeconfig, "-n", "verify-auto", "-c", "8")
	if code != ExitOK || !strings.Contains(out, "### mlcanary verify: ✅ traffic matches the live routes") || !strings.Contains(out, u.Host) {
		t.Errorf("--gateway auto: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	code, _, errOut = run(t.Context(), "verify", "--gateway", "auto", "--gateway-selector", "istio=verify-pending-gateway", "--kubeconfig", kubeconfig, "-n", "verify-auto")
	want := "mlcanary: reading the ingress gateway's address (--gateway auto): the load balancer of ingress gateway Service verify-auto/verify-pending-gateway has no address yet (status.loadBalancer.ingress is empty: still pending)"
	if code != ExitFailed || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("pending: exit %d, stderr %q, want one line starting %q", code, errOut, want)
	}
	// Without a selector the stage's detection picks open-source Istio's gateway (every test API
	// server has it), whose load balancer is at 20.10.0.1: the report names that address.
	code, out, _ = run(t.Context(), "verify", "--gateway", "auto", "--kubeconfig", kubeconfig, "-n", "verify-auto", "--request-timeout", "1ms", "--requests", "1", "--route-requests", "1")
	if !strings.Contains(out, "20.10.0.1") {
		t.Errorf("detected: exit %d, stdout:\n%s", code, out)
	}
}
