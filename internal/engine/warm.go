package engine

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/ownership"
	"github.com/mlcanary/mlcanary/internal/render"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// Warm does, on objects of its own, the work a process does once per Go type the first time it
// decodes or renders one: encoding/json builds each type's codec on first use (for a Deployment,
// every type a pod spec holds), and Istio's API types, which encode and decode through protojson,
// first build their protobuf message descriptors. A stage does that work between its reads'
// answers and its first write, on its critical path (about 4 ms of a 45 ms Blue_50 on `make
// bench-stage`'s API server); a front end starts Warm in its own goroutine once the inputs
// are read, so the work is done while the kubeconfig is loaded and the first requests are in
// flight, when the process's CPU is otherwise idle. It sends nothing, shares no state with a
// stage (the codecs' caches are safe for concurrent use) and returns nothing: a failure here
// only means a stage pays the cost itself.
func Warm() {
	cfg := config.Default()
	r := routing.NewRouting(true, true, 50, 50)
	if vs, err := render.Unstructured(render.VirtualService(&cfg, r)); err == nil {
		_ = ownership.CheckVirtualService(&cfg, vs)
	}
	if gw, err := render.Unstructured(render.Gateway(&cfg)); err == nil {
		_ = ownership.CheckGateway(gw)
	}
	// A stage renders no Deployment or Service when it only moves traffic, so they are only
	// decoded, from the fields a live one has (the JSON decoder builds a decoder for each struct type
	// the data reaches, and nothing more).
	if d := decoded(liveDeployment); d != nil {
		_, _ = kube.DeploymentOf(d)
	}
	if s := decoded(liveService); s != nil {
		_, _ = kube.ServiceOf(s)
	}
}

func decoded(live string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	if u.UnmarshalJSON([]byte(live)) != nil {
		return nil
	}
	return u
}

// liveDeployment and liveService hold, with empty values, every struct a Deployment and a Service
// as the API server returns them reach (defaults included), for Warm's decoding.
const (
	liveDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{},"annotations":{},"managedFields":[{"fieldsV1":{}}],"ownerReferences":[{}]},` +
		`"spec":{"selector":{"matchLabels":{},"matchExpressions":[{}]},"strategy":{"rollingUpdate":{}},` +
		`"template":{"metadata":{"labels":{}},"spec":{"containers":[{"ports":[{}],"env":[{"valueFrom":{"secretKeyRef":{},"configMapKeyRef":{},"fieldRef":{}}}],` +
		`"resources":{"limits":{},"requests":{}},"readinessProbe":{"httpGet":{"httpHeaders":[{}]},"tcpSocket":{},"exec":{}},` +
		`"livenessProbe":{"httpGet":{}},"startupProbe":{"httpGet":{}},"volumeMounts":[{}],"securityContext":{}}],` +
		`"initContainers":[{}],"volumes":[{"configMap":{},"secret":{},"emptyDir":{}}],"securityContext":{},"tolerations":[{}],"affinity":{}}}},` +
		`"status":{"conditions":[{}]}}`
	liveService = `{"apiVersion":"v1","kind":"Service","metadata":{"labels":{},"managedFields":[{"fieldsV1":{}}]},"spec":{"selector":{},"ports":[{"targetPort":5001}]},"status":{"loadBalancer":{}}}`
)
