package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countingCluster is a stand-in API server that only counts requests: bad input must send none.
func countingCluster(t testing.TB) (kubeconfig string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, "not a real cluster", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: secret-token-value}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, requests
}

// TestBadInputExitsTwoWithOneLine: every malformed input is refused with exit code 2 and one line
// naming the input and what is allowed, before any request reaches the cluster.
func TestBadInputExitsTwoWithOneLine(t *testing.T) {
	kubeconfig, requests := countingCluster(t)
	img := "--image=myacr.azurecr.io/model:42"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"stage", "Blue_500", img}, `invalid stage "Blue_500": allowed: Blue_0, Shadow_1..Shadow_100, Blue_1..Blue_99`},
		{[]string{"stage", "Shadow_0"}, `invalid stage "Shadow_0": allowed: Blue_0, Shadow_1..Shadow_100, Blue_1..Blue_99`},
		{[]string{"stage", "Shadow_101"}, `invalid stage "Shadow_101"`},
		{[]string{"stage", "Shadow_010"}, `invalid stage "Shadow_010"`},
		{[]string{"stage", "Blue_050", img}, `invalid stage "Blue_050"`},
		{[]string{"stage", "Blue_-5", img}, `invalid stage "Blue_-5"`},
		{[]string{"stage", "Green_50"}, `invalid stage "Green_50": allowed: Blue_0, Shadow_1..Shadow_100, Blue_1..Blue_99`},
		{[]string{"stage", "blue"}, `invalid stage "blue"`},
		{[]string{"stage", "Blue_0"}, `invalid image "": allowed: a full image reference with a tag or digest`},
		{[]string{"stage", "Blue_0", "--image=model"}, `invalid image "model": allowed: an image reference with a tag or digest`},
		{[]string{"stage", "Blue_0", "--image=MyAcr.io/Model:1"}, `invalid image "MyAcr.io/Model:1"`},
		{[]string{"stage", "Blue_0", img, "--image-repo=x.io/m"}, `invalid image "myacr.azurecr.io/model:42": allowed: either image or image-repo plus image-tag, not both`},
		{[]string{"stage", "Blue_0", "--image-repo=myacr.azurecr.io", "--image-tag=42"}, `invalid image-repo "myacr.azurecr.io": allowed: a repository, not only a registry host`},
		{[]string{"stage", "Blue_0", "--image-tag=42"}, `invalid image-repo "": allowed: a repository`},
		{[]string{"stage", "Blue_0", "--image-repo=x.io/m"}, `invalid image-tag "": allowed: a tag`},
		{[]string{"stage", "Blue_0", img, "-n", "AB_testing"}, `invalid namespace "AB_testing": allowed: a DNS-1123 label`},
		{[]string{"stage", "Blue_0", img, "-n", ""}, `invalid namespace ""`},
		{[]string{"stage", "Blue_0", img, "--app=bad app"}, `invalid app "bad app": allowed: a label value`},
		{[]string{"stage", "Blue_0", img, "--green-deployment=Model-Green"}, `invalid green-deployment "Model-Green": allowed: a DNS-1123 name`},
		{[]string{"stage", "Blue_0", img, "--blue-service=1svc"}, `invalid blue-service "1svc": allowed: a DNS-1035 label`},
		{[]string{"stage", "Blue_0", img, "--blue-service=model-svc-green"}, `invalid blue-service "model-svc-green": allowed: a name different from green-service`},
		{[]string{"stage", "Blue_0", img, "--gateway=gw/x/y"}, `invalid gateway "gw/x/y": allowed: a Gateway name (a DNS-1123 label, e.g. mlmodel-gateway) that mlcanary creates in the namespace, or NAMESPACE/NAME of an existing Gateway to bind to, e.g. istio-system/public-gateway`},
		{[]string{"stage", "Blue_0", img, "--gateway=istio-system/"}, `invalid gateway "istio-system/": allowed: a Gateway name`},
		{[]string{"stage", "Blue_0", img, "--gateway=Istio-System/public-gateway"}, `invalid gateway "Istio-System/public-gateway"`},
		{[]string{"stage", "Blue_0", img, "--gateway=public-gateway.istio-system"}, `invalid gateway "public-gateway.istio-system"`},
		{[]string{"stage", "Blue_0", img, "--gateway=mesh"}, `invalid gateway "mesh": allowed: a Gateway name other than "mesh"`},
		{[]string{"stage", "Blue_0", img, "--virtual-service="}, `invalid virtual-service ""`},
		{[]string{"stage", "Blue_0", img, "--gateway-selector=ingressgateway"}, `invalid gateway-selector "ingressgateway": allowed: one label as key=value`},
		{[]string{"stage", "Blue_0", img, "--hosts=bad host"}, `invalid hosts "bad host"`},
		{[]string{"stage", "Blue_0", img, "--gateway-port=0"}, `invalid gateway-port "0": allowed: a port number from 1 to 65535`},
		{[]string{"stage", "Blue_0", img, "--port=70000"}, `invalid port "70000": allowed: a port number from 1 to 65535`},
		{[]string{"stage", "Blue_0", img, "--port=http"}, `invalid port "http"`},
		{[]string{"stage", "Blue_0", img, "--replicas=-1"}, `invalid replicas "-1": allowed: a whole number from 1 to 1000`},
		{[]string{"stage", "Blue_0", img, "--replicas=0"}, `invalid replicas "0"`},
		{[]string{"stage", "Blue_0", img, "--image-pull-secret=Acr_Pull"}, `invalid image-pull-secret "Acr_Pull"`},
		{[]string{"stage", "Blue_0", img, "--header=X-Api-Version"}, `invalid header "X-Api-Version": allowed: a lower-case HTTP header name`},
		{[]string{"stage", "Blue_0", img, "--header=x api"}, `invalid header "x api"`},
		{[]string{"stage", "Blue_0", img, "--uri-prefix=score"}, `invalid uri-prefix "score": allowed: a URL path starting with "/"`},
		{[]string{"stage", "Blue_0", img, "--readiness-path=http://x/ready"}, `invalid readiness-path "http://x/ready": allowed: an absolute HTTP path starting with "/"`},
		{[]string{"plan", "Blue_0", "--offline", img, "--readiness-path", "ready"}, `invalid readiness-path "ready": allowed: an absolute HTTP path starting with "/"`},
		{[]string{"stage", "Blue_0", img, "--timeout=10parsecs"}, `invalid timeout "10parsecs": allowed: a duration above 0 and at most 24h, such as 10m`},
		{[]string{"stage", "Blue_0", img, "--timeout=0s"}, `invalid timeout "0s": allowed: a duration above 0`},
		{[]string{"stage", "Blue_0", img, "--pod-template=deploy/missing.yaml"}, `invalid pod-template "deploy/missing.yaml": allowed: a file (or - for standard input) holding a Deployment (apps/v1) or a PodTemplateSpec`},
		{[]string{"stage", "Blue_0", img, "--port=8080", "--pod-template=../render/testdata/templates/azureml.yaml"}, `invalid pod-template "../render/testdata/templates/azureml.yaml": allowed: no ports on the scoring container, or ports including 8080 (port), where mlcanary's Services send traffic, on it or on a proxy container in front of it (found containers[model].ports 5001)`},
		{[]string{"stage", "Blue_0", img, "--container=scorer", "--pod-template=../render/testdata/templates/gpu.yaml"}, `invalid pod-template "../render/testdata/templates/gpu.yaml": allowed: a pod template with a container named scorer (container) (found containers model)`},
		{[]string{"stage", "Blue_0", img, "--container=Model"}, `invalid container "Model": allowed: a container name`},
		{[]string{"plan", "Blue_0", "--offline", img, "--pod-template=-"}, `invalid pod-template "-": allowed: a file (or - for standard input) holding a Deployment (apps/v1) or a PodTemplateSpec as YAML or JSON; a multi-document stream (helm template, kustomize build) with exactly one Deployment; this one is empty`},
		{[]string{"stage", "Blue_0", img, "-o", "xml"}, `invalid output "xml": allowed: text, json, yaml, markdown`},
		{[]string{"stage", "Blue_0", img, "--no-such-flag"}, `unknown flag: --no-such-flag`},
		{[]string{"stage"}, `mlcanary stage takes one stage name`},
		{[]string{"stage", "Blue_50", "extra"}, `mlcanary stage takes one stage name`},
		{[]string{"deploy"}, `unknown command "deploy" for "mlcanary"`},
		{[]string{"plan", "Blue_500", "--offline"}, `invalid stage "Blue_500"`},
		{[]string{"status", "-o", "csv"}, `invalid output "csv"`},
		{[]string{"status", "extra"}, `unknown command "extra" for "mlcanary status"`},
		{[]string{"status", "--kubeconfig=/nonexistent/kubeconfig"}, `invalid kubeconfig "/nonexistent/kubeconfig": allowed: the path of a readable kubeconfig file`},
		{[]string{"status", "--context=prod"}, `invalid context "prod": allowed: a context of the kubeconfig: c`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			env := func(k string) (string, bool) {
				if k == "KUBECONFIG" {
					return kubeconfig, true
				}
				return "", false
			}
			code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, tc.args, env)
			msg := errb.String()
			if code != ExitInvalid {
				t.Errorf("exit code %d, want %d (stderr %q)", code, ExitInvalid, msg)
			}
			if !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", msg, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("bad input sent %d requests to the cluster", n)
	}
}

// TestMissingKUBECONFIGIsBadInput: KUBECONFIG naming no existing file is a mistake in the input,
// said in one line with exit 2, as --kubeconfig is.
func TestMissingKUBECONFIGIsBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nope")
	env := func(k string) (string, bool) { return missing, k == "KUBECONFIG" }
	code := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, []string{"status"}, env)
	if want := `invalid KUBECONFIG "` + missing + `": allowed: paths of kubeconfig files, at least one of which exists`; code != ExitInvalid || !strings.Contains(errb.String(), want) {
		t.Errorf("exit %d, stderr %q, want exit 2 and %q", code, errb.String(), want)
	}
}
