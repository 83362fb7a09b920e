package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

const deploymentDoc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: scorer
spec:
  template:
    spec:
      containers:
        - name: model
          image: registry.example/model:1
`

// TestPodTemplateForms: the forms --pod-template accepts — a Deployment, a bare PodTemplateSpec
// (YAML and JSON), a helm template / kustomize build stream with one Deployment among other kinds,
// a List — and the scoring container each picks.
func TestPodTemplateForms(t *testing.T) {
	cases := []struct {
		name, doc, container, want string
	}{
		{"a Deployment", deploymentDoc, "", "model"},
		{"a bare PodTemplateSpec", "spec:\n  containers:\n    - name: scorer\n      image: x:1\n", "", "scorer"},
		{"a PodTemplateSpec as JSON", `{"metadata":{"labels":{"team":"risk"}},"spec":{"containers":[{"name":"s","image":"x:1"}]}}`, "", "s"},
		{"a helm stream with a Service and a ConfigMap", "---\n# Source: x\napiVersion: v1\nkind: Service\nmetadata:\n  name: model\n---\n" + deploymentDoc + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "", "model"},
		{"a List from kubectl get -o yaml", "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata:\n      name: s\n  - " + strings.ReplaceAll(deploymentDoc, "\n", "\n    ") + "\n", "", "model"},
		{"several containers, one named model", "spec:\n  containers:\n    - name: proxy\n      image: x:1\n    - name: model\n      image: y:1\n", "", "model"},
		{"several containers, --container picks one", "spec:\n  containers:\n    - name: proxy\n      image: x:1\n    - name: scorer\n      image: y:1\n", "scorer", "scorer"},
		{"a selector on the app label only", strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  selector:\n    matchLabels:\n      app: model\n  template:", 1), "", "model"},
		{"the scoring container declares --port among others", "spec:\n  containers:\n    - name: model\n      image: x:1\n      ports:\n        - containerPort: 9102\n        - containerPort: 5001\n", "", "model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Container = tc.container
			tmpl, err := ParsePodTemplate("deploy/model.yaml", []byte(tc.doc), &c)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.Container != tc.want || len(tmpl.Hash) != 24 {
				t.Fatalf("container %q hash %q, want container %q and a 24-digit hash", tmpl.Container, tmpl.Hash, tc.want)
			}
		})
	}
}

// TestPodTemplateRefused: every kind of bad template is one *InputError naming the file as typed,
// the field and what is allowed (exit 2, before anything is sent).
func TestPodTemplateRefused(t *testing.T) {
	two := deploymentDoc + "---\n" + strings.Replace(deploymentDoc, "name: scorer", "name: scorer-canary", 1)
	cases := []struct {
		name, doc, container, want string
	}{
		{"a misspelled field, named with its path", strings.Replace(deploymentDoc, "image: registry", "imagee: registry", 1), "",
			`unknown field "spec.template.spec.containers[0].imagee"`},
		{"a misspelled field in a PodTemplateSpec", "spec:\n  containers:\n    - name: m\n      image: x:1\n      resource: {}\n", "",
			`unknown field "spec.containers[0].resource"`},
		{"a field of the wrong type", "spec:\n  containers:\n    - name: m\n      ports: 5001\n", "", "does not decode"},
		{"a duplicate key", "spec:\n  containers: []\n  containers: []\n", "", "not valid YAML or JSON"},
		{"two Deployments", two, "", "has 2 Deployments (scorer, scorer-canary); keep the one that runs the model"},
		{"no Deployment", "apiVersion: v1\nkind: Service\nmetadata:\n  name: model\n", "", "has no Deployment (found Service model)"},
		{"an empty file", "# nothing\n", "", "is empty"},
		{"no containers", "spec:\n  containers: []\n", "", "has no containers"},
		{"a Deployment of extensions/v1beta1", strings.Replace(deploymentDoc, "apps/v1", "extensions/v1beta1", 1), "", `not apps/v1`},
		{"its own selector", strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  selector:\n    matchLabels:\n      app: scorer\n  template:", 1), "",
			"allowed: no spec.selector, or only app=model (app): mlcanary selects each version's pods by app=model,model_version=blue|green (found spec.selector app=scorer)"},
		{"a selector with expressions", strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  selector:\n    matchExpressions:\n      - {key: tier, operator: Exists}\n  template:", 1), "",
			"(found spec.selector matchExpressions)"},
		{"a model_version label", "metadata:\n  labels:\n    model_version: v3\nspec:\n  containers:\n    - name: m\n      image: x:1\n", "",
			"allowed: no model_version label: mlcanary sets it to blue or green on each version's pods (found spec.template.metadata.labels.model_version=v3)"},
		{"another app label", "metadata:\n  labels:\n    app: scorer\nspec:\n  containers:\n    - name: m\n      image: x:1\n", "",
			"(found spec.template.metadata.labels.app=scorer)"},
		{"a port other than --port", "spec:\n  containers:\n    - name: m\n      image: x:1\n      ports:\n        - containerPort: 8080\n", "",
			"allowed: no ports on the scoring container, or ports including 5001 (port), where mlcanary's Services send traffic, on it or on a proxy container in front of it (found containers[m].ports 8080)"},
		{"several containers, none named model", "spec:\n  containers:\n    - name: a\n      image: x:1\n    - name: b\n      image: y:1\n", "",
			"allowed: one container, or one named model, or container naming the scoring container (found containers a, b)"},
		{"--container names no container", deploymentDoc, "scorer", "allowed: a pod template with a container named scorer (container) (found containers model)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Container = tc.container
			_, err := ParsePodTemplate("deploy/model.yaml", []byte(tc.doc), &c)
			var in *InputError
			if !errors.As(err, &in) || in.Input != FlagPodTemplate || in.Value != "deploy/model.yaml" {
				t.Fatalf("got %v, want an InputError naming pod-template deploy/model.yaml", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `invalid pod-template "deploy/model.yaml": allowed: `) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("got %q, want one line containing %q", msg, tc.want)
			}
		})
	}
}

// TestPodTemplateInput: --pod-template through Inputs, as every front end sets it: a file path, -
// for standard input, a missing file (named as typed, without its path repeated), and a template
// checked against the --port the user gave.
func TestPodTemplateInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.yaml")
	if err := os.WriteFile(path, []byte(deploymentDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (Config, error) {
		var in Inputs
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		in.AddFlags(fs)
		in.Stdin = strings.NewReader(stdin)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return in.Config("Blue_0")
	}
	c, err := run("", "--image=r.example/m:1", "--pod-template="+path)
	if err != nil || c.Template == nil || c.Template.Source != path || c.Template.Container != "model" {
		t.Fatalf("file: %+v, %v", c.Template, err)
	}
	c, err = run(deploymentDoc, "--image=r.example/m:1", "--pod-template=-")
	if err != nil || c.Template == nil || c.Template.Source != "-" {
		t.Fatalf("stdin: %+v, %v", c.Template, err)
	}
	if c, err = run("", "--image=r.example/m:1"); err != nil || c.Template != nil {
		t.Fatalf("no template: %+v, %v", c.Template, err)
	}
	_, err = run("", "--image=r.example/m:1", "--pod-template=deploy/missing.yaml")
	if err == nil || err.Error() != `invalid pod-template "deploy/missing.yaml": allowed: `+AllowedPodTemplate+`; this one cannot be read: open: no such file or directory` {
		t.Fatalf("missing file: %v", err)
	}
	_, err = run("spec:\n  containers:\n    - name: m\n      image: x:1\n      ports: [{containerPort: 5001}]\n", "--image=r.example/m:1", "--port=8080", "--pod-template=-")
	if err == nil || !strings.Contains(err.Error(), "ports including 8080 (port)") {
		t.Fatalf("port conflict: %v", err)
	}
	_, err = run("", "--image=r.example/m:1", "--container=Model")
	if err == nil || !strings.HasPrefix(err.Error(), `invalid container "Model"`) {
		t.Fatalf("bad container name: %v", err)
	}
}

// TestTemplateHash: the hash ignores the scoring container's image (blue and green run the same
// template with different images) and changes with anything else, the sidecar's image included.
func TestTemplateHash(t *testing.T) {
	parse := func(doc string) string {
		c := Default()
		tmpl, err := ParsePodTemplate("f", []byte(doc), &c)
		if err != nil {
			t.Fatal(err)
		}
		return tmpl.Hash
	}
	base := "spec:\n  containers:\n    - name: model\n      image: a:1\n    - name: side\n      image: s:1\n"
	if parse(base) != parse(strings.Replace(base, "a:1", "a:2", 1)) {
		t.Error("the scoring container's image changed the hash")
	}
	if parse(base) == parse(strings.Replace(base, "s:1", "s:2", 1)) {
		t.Error("the sidecar's image did not change the hash")
	}
	if parse(base) == parse(base+"  serviceAccountName: reader\n") {
		t.Error("the service account did not change the hash")
	}
}

// TestProxyContainerMayServeThePort: the model listens on 8080 behind an auth proxy sidecar that
// serves --port 5001 (oauth2-proxy, an nginx in front of an inference server; breakit9 G18). The
// Services send to the pod's 5001, which a container of the pod serves, so the template is
// accepted with the model as the scoring container; a pod where no container serves --port is not.
func TestProxyContainerMayServeThePort(t *testing.T) {
	proxy := "    - name: auth-proxy\n      image: quay.io/oauth2-proxy/oauth2-proxy:v7.7.1\n      args: [\"--http-address=0.0.0.0:5001\", \"--upstream=http://127.0.0.1:8080\"]\n      ports: [{name: http, containerPort: 5001}]\n"
	model := "    - name: model\n      image: x:1\n      ports: [{name: model, containerPort: 8080}]\n      readinessProbe: {httpGet: {path: /ready, port: 8080}}\n"
	for name, tc := range map[string]struct {
		doc, err string
	}{
		"proxy first":                    {"spec:\n  containers:\n" + proxy + model, ""},
		"proxy second":                   {"spec:\n  containers:\n" + model + proxy, ""},
		"native sidecar proxy":           {"spec:\n  initContainers:\n" + strings.Replace(proxy, "      ports:", "      restartPolicy: Always\n      ports:", 1) + "  containers:\n" + model, ""},
		"init container (not a sidecar)": {"spec:\n  initContainers:\n" + proxy + "  containers:\n" + model, "containers[model].ports 8080"},
		"no container serves --port":     {"spec:\n  containers:\n" + model + strings.ReplaceAll(proxy, "5001", "9000"), "containers[model].ports 8080"},
	} {
		t.Run(name, func(t *testing.T) {
			c := Default()
			c.Container = "model"
			tpl, err := ParsePodTemplate("deploy/model.yaml", []byte(tc.doc), &c)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("want an error naming %q, got %v", tc.err, err)
			case err == nil && tpl.Container != "model":
				t.Errorf("scoring container %q, want model", tpl.Container)
			}
		})
	}
}
