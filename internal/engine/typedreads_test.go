package engine

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/plan"
)

func liveObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestShapeOfReadsTheTypedDeployment: the facts plan checks of a Deployment are read from the
// typed struct: the selector (and whether it has expressions), the pod labels, every container's
// name, and only the scoring container's ports (the one named model, else the first).
func TestShapeOfReadsTheTypedDeployment(t *testing.T) {
	d := liveObject(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: model-green, namespace: demo, labels: {app: scoring}}
spec:
  replicas: 3
  selector:
    matchLabels: {app: scoring}
    matchExpressions: [{key: tier, operator: Exists}]
  template:
    metadata: {labels: {app: scoring, tier: web}}
    spec:
      containers:
      - {name: proxy, image: envoy, ports: [{containerPort: 9901, name: admin}]}
      - {name: model, image: "registry/model:1", ports: [{containerPort: 5001, name: http}, {containerPort: 9090}]}
`)
	want := plan.Shape{Adopted: true, Selector: map[string]string{"app": "scoring"}, Expressions: true,
		PodLabels: map[string]string{"app": "scoring", "tier": "web"}, Containers: []string{"proxy", "model"},
		Ports: []int32{5001, 9090}, PortNames: []string{"http"}}
	typed := typedDeployment(d)
	if got := shapeOf(d, typed, "model"); !reflect.DeepEqual(got, want) {
		t.Errorf("shapeOf:\n got %+v\nwant %+v", got, want)
	}
	for want, pick := range map[string]struct{ name, image string }{"": {"model", "registry/model:1"}, "proxy": {"proxy", "envoy"}, "absent": {"model", "registry/model:1"}} {
		if name, image := scoringContainer(typed, want); name != pick.name || image != pick.image {
			t.Errorf("scoringContainer(--container %q) = %s, %s; want %s, %s", want, name, image, pick.name, pick.image)
		}
	}
	if got := replicasOf(typed); got != 3 {
		t.Errorf("replicasOf = %d, want 3", got)
	}
	if got := shapeOf(nil, typedDeployment(nil), ""); !reflect.DeepEqual(got, plan.Shape{}) {
		t.Errorf("shapeOf(nil) = %+v, want the zero Shape", got)
	}
	if replicasOf(nil) != 0 {
		t.Error("replicasOf(nil) is not 0")
	}
}

// TestServiceOfTargetPort: where port --port sends, as Kubernetes reads it: a named or numbered
// targetPort, else the port itself (the API server's default).
func TestServiceOfTargetPort(t *testing.T) {
	const head = `
apiVersion: v1
kind: Service
metadata: {name: model-svc-green, namespace: demo, labels: {app.kubernetes.io/managed-by: mlcanary}}
spec:
  selector: {app: model, model_version: green}
  ports:
`
	cases := []struct{ ports, target string }{
		{"  - {port: 5001, targetPort: http}\n  - {port: 80}\n", "http"},
		{"  - {port: 5001, targetPort: 8080}\n", "8080"},
		{"  - {port: 5001}\n", "5001"},
		{"  - {port: 80, targetPort: 5001}\n", ""},
	}
	for _, tc := range cases {
		got := serviceOf(liveObject(t, head+tc.ports), 5001)
		if !got.Exists || got.Adopted || got.TargetPort != tc.target || got.Selector["model_version"] != "green" {
			t.Errorf("%q: %+v, want target port %q of a Service mlcanary created", tc.ports, got, tc.target)
		}
	}
	if got := serviceOf(nil, 5001); got.Exists {
		t.Errorf("serviceOf(nil) = %+v", got)
	}
}
