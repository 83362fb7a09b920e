package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/golden"
)

// loadTemplate parses testdata/templates/name as --pod-template does, for c.
func loadTemplate(t *testing.T, c *config.Config, name string) *config.PodTemplate {
	t.Helper()
	path := filepath.Join("testdata", "templates", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := config.ParsePodTemplate(path, data, c)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestDeploymentFromTemplate: blue's Deployment rendered from each realistic template under
// testdata/templates, in the wire form the engine sends — a GPU model (nvidia.com/gpu limits,
// tolerations, nodeSelector, a shared-memory volume), an Azure ML inference server (port 5001,
// liveness and readiness probes on /, AZUREML_* env, resources, securityContext) and a
// workload-identity pod from a helm stream (the azure.workload.identity/use label, its service
// account, an init container and a metrics sidecar whose image and port are kept). Every field of
// the template is there; mlcanary's names, labels, selector, image, replicas, pull secret and
// template hash are added.
func TestDeploymentFromTemplate(t *testing.T) {
	for _, name := range []string{"gpu.yaml", "azureml.yaml", "workload-identity.yaml"} {
		t.Run(name, func(t *testing.T) {
			c := config.Default()
			c.ImagePullSecret = "acr-pull"
			c.Replicas = 2
			tmpl := loadTemplate(t, &c, name)
			u, err := Unstructured(Deployment(&c, config.Blue, tmpl, "myregistry.azurecr.io/model:42"))
			if err != nil {
				t.Fatal(err)
			}
			data, err := yaml.Marshal(u.Object)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "templates/"+strings.TrimSuffix(name, ".yaml")+".golden", string(data))
		})
	}
}

// TestTemplateOwnedFields: what mlcanary sets over a template, field by field — version labels
// over the template's own (kept), the image on the scoring container only (a sidecar keeps its
// own), --port added only when the scoring container declares none, the pull secret once, the
// template's name cleared — and that the template itself is never changed (green and blue render
// from the same one).
func TestTemplateOwnedFields(t *testing.T) {
	c := config.Default()
	c.ImagePullSecret = "acr-pull"
	doc := `metadata:
  name: leftover
  labels: {team: risk}
spec:
  imagePullSecrets: [{name: acr-pull}]
  containers:
    - name: model
      image: ignored:1
    - name: side
      image: side:1
`
	tmpl, err := config.ParsePodTemplate("t.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	before := tmpl.Spec.DeepCopy()
	green := Deployment(&c, config.Green, tmpl, "m:1")
	blue := Deployment(&c, config.Blue, tmpl, "m:2")
	p := blue.Spec.Template
	if p.Labels["team"] != "risk" || p.Labels[config.VersionLabel] != "blue" || p.Labels[config.AppLabel] != "model" || p.Name != "" {
		t.Errorf("pod metadata %+v", p.ObjectMeta)
	}
	if p.Spec.Containers[0].Image != "m:2" || p.Spec.Containers[1].Image != "side:1" || len(p.Spec.Containers[1].Ports) != 0 {
		t.Errorf("containers %+v", p.Spec.Containers)
	}
	if ports := p.Spec.Containers[0].Ports; len(ports) != 1 || ports[0].ContainerPort != c.Port {
		t.Errorf("scoring container ports %+v, want --port added", ports)
	}
	if len(p.Spec.ImagePullSecrets) != 1 {
		t.Errorf("pull secrets %+v, want acr-pull once", p.Spec.ImagePullSecrets)
	}
	if green.Annotations[config.TemplateHashAnnotation] != tmpl.Hash || blue.Annotations[config.TemplateHashAnnotation] != tmpl.Hash {
		t.Errorf("template hash annotations %v, %v, want %s on both", green.Annotations, blue.Annotations, tmpl.Hash)
	}
	if green.Spec.Template.Labels[config.VersionLabel] != "green" || green.Spec.Template.Spec.Containers[0].Image != "m:1" {
		t.Errorf("green's pod template %+v", green.Spec.Template)
	}
	if tmpl.Spec.String() != before.String() {
		t.Error("rendering changed the template")
	}
}

// TestDefaultTemplateContainer: without --pod-template the default template's one container is
// named by the live Deployment's scoring container, else --container, else model.
func TestDefaultTemplateContainer(t *testing.T) {
	c := config.Default()
	for _, tc := range []struct{ flag, live, want string }{{"", "", "model"}, {"scorer", "", "scorer"}, {"scorer", "legacy", "legacy"}} {
		c.Container = tc.flag
		d := Deployment(&c, config.Blue, DefaultTemplate(&c, tc.live), "m:1")
		if got := d.Spec.Template.Spec.Containers[0].Name; got != tc.want || d.Annotations != nil {
			t.Errorf("--container %q, live %q: container %q annotations %v, want %q and no template record", tc.flag, tc.live, got, d.Annotations, tc.want)
		}
	}
}

// TestProxyServingThePortAddsNoPortToTheModel: when a proxy container in front of the model serves
// --port (breakit9 G18), the model's container gets no second declaration of --port; the readiness
// probe mlcanary adds goes to --port, through the proxy, as the Services' traffic does.
func TestProxyServingThePortAddsNoPortToTheModel(t *testing.T) {
	c := config.Default()
	c.Container = "model"
	doc := "spec:\n  containers:\n    - name: auth-proxy\n      image: quay.io/oauth2-proxy/oauth2-proxy:v7.7.1\n      ports: [{name: http, containerPort: 5001}]\n    - name: model\n      image: x:1\n"
	tpl, err := config.ParsePodTemplate("deploy/model.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	d := Deployment(&c, config.Blue, tpl, "r.example/model:2")
	for _, ctr := range d.Spec.Template.Spec.Containers {
		switch ctr.Name {
		case "model":
			if len(ctr.Ports) != 0 {
				t.Errorf("model's ports %v, want none (the proxy serves %d)", ctr.Ports, c.Port)
			}
			if ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet == nil || ctr.ReadinessProbe.HTTPGet.Port.IntVal != c.Port {
				t.Errorf("model's readiness probe %v, want GET on %d", ctr.ReadinessProbe, c.Port)
			}
			if ctr.Image != "r.example/model:2" {
				t.Errorf("model's image %q", ctr.Image)
			}
		case "auth-proxy":
			if ctr.Image != "quay.io/oauth2-proxy/oauth2-proxy:v7.7.1" {
				t.Errorf("the proxy's image changed to %q", ctr.Image)
			}
		}
	}
}
