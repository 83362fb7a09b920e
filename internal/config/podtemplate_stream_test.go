package config

import (
	"errors"
	"strings"
	"testing"
)

const jsonDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},"spec":{"template":{"spec":{"containers":[{"name":"model","image":"x"}]}}}}`

func jsonDep(name string) string { return strings.Replace(jsonDeployment, "%s", name, 1) }

// TestTemplateEncodingsRead (breakit9, held): forms editors and tools really write — a UTF-8 byte
// order mark (Windows editors, PowerShell's Out-File), CRLF line endings, a `...` document end, a
// JSON List (kubectl get -o json), a JSON file with a BOM — are read as the same template.
func TestTemplateEncodingsRead(t *testing.T) {
	crlfStream := strings.ReplaceAll("---\n# Source: chart/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: m\n---\n"+deploymentDoc, "\n", "\r\n")
	for name, doc := range map[string]string{
		"BOM + YAML":          "\ufeff" + deploymentDoc,
		"BOM + JSON":          "\ufeff" + jsonDep("scorer"),
		"CRLF stream":         crlfStream,
		"document end":        deploymentDoc + "...\n",
		"JSON List":           `{"apiVersion":"v1","kind":"List","items":[` + jsonDep("scorer") + `]}`,
		"comment header":      "# rendered by kustomize build overlays/prod\n" + deploymentDoc,
		"YAML flow mapping":   "{spec: {containers: [{name: model, image: x}]}}\n",
		"JSON then YAML":      jsonDep("scorer") + "\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
		"jq -c Service, List": `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}` + `{"apiVersion":"v1","kind":"List","items":[` + jsonDep("scorer") + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := Default()
			tm, err := ParsePodTemplate("deploy/model.yaml", []byte(doc), &c)
			if err != nil || tm.Container != "model" {
				t.Fatalf("%v %+v", err, tm)
			}
		})
	}
}

// TestConcatenatedJSONIsEveryObject (breakit9 G12): a stream of JSON objects one after another (what
// `jq -c '.items[]'` writes) is every one of them, not the first alone: two Deployments are refused
// naming both, and a Deployment after other objects is found.
func TestConcatenatedJSONIsEveryObject(t *testing.T) {
	refused := map[string]string{
		"two Deployments, one a line":       jsonDep("scorer") + "\n" + jsonDep("scorer-canary") + "\n",
		"two Deployments, no blank between": jsonDep("scorer") + jsonDep("scorer-canary"),
		"two Deployments, pretty-printed":   strings.ReplaceAll(jsonDep("scorer"), ",", ",\n  ") + "\n\n" + jsonDep("scorer-canary"),
		"two Deployments after a BOM":       "\ufeff" + jsonDep("scorer") + "\n" + jsonDep("scorer-canary"),
	}
	for name, doc := range refused {
		t.Run(name, func(t *testing.T) {
			c := Default()
			_, err := ParsePodTemplate("deploy/model.json", []byte(doc), &c)
			if err == nil || !strings.Contains(err.Error(), "2 Deployments (scorer, scorer-canary)") {
				t.Fatalf("%v; want the 'exactly one Deployment' refusal naming both", err)
			}
		})
	}
	found := map[string]string{
		"a Service then a Deployment":             `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}` + "\n" + jsonDep("scorer"),
		"a ConfigMap, a Deployment, a Service":    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}` + jsonDep("scorer") + `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`,
		"a Deployment then nulls and blank lines": jsonDep("scorer") + "\nnull\n\n",
	}
	for name, doc := range found {
		t.Run(name, func(t *testing.T) {
			c := Default()
			if tm, err := ParsePodTemplate("deploy/model.json", []byte(doc), &c); err != nil || tm.Container != "model" {
				t.Fatalf("%v; want the Deployment's template", err)
			}
		})
	}
}

// TestWrongFileIsNeverEchoed (breakit9 G13): --pod-template pointed at the wrong file (a credentials
// file next to the manifests) is refused, and no refusal prints the file's content beyond a field
// path: not a line (an htpasswd/shadow line whose trailing colon makes it a YAML key), not a value
// a decoder quotes (a time, a kind, an apiVersion, a name), not a duplicated key's line.
func TestWrongFileIsNeverEchoed(t *testing.T) {
	for name, doc := range map[string]string{
		"htpasswd line as a key":       "admin:$6$SECRETHASHxyz:19000:0:99999:7:::\n",
		"two such lines":               "admin:$6$SECRETHASHxyz:1:::\nroot:$6$SECRETHASHabc:2:::\n",
		"the same line twice":          "admin:$6$SECRETHASHxyz:1:::\nadmin:$6$SECRETHASHxyz:1:::\n",
		"a key with spaces":            "user SECRETHASH token:\n",
		"JSON key that is a line":      `{"admin:$6$SECRETHASHxyz:1:::": 1}`,
		"a value a decoder quotes":     "metadata:\n  creationTimestamp: SECRETHASH-not-a-time\nspec:\n  containers: [{name: m, image: x}]\n",
		"a kind that is a line":        "apiVersion: v1\nkind: 'admin:SECRETHASH:::'\nmetadata:\n  name: x\n",
		"an apiVersion that is a line": "apiVersion: 'admin:SECRETHASH'\nkind: Deployment\nmetadata:\n  name: x\n",
		"a name that is a line":        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 'pw=SECRETHASH'\n",
		"a Deployment name in a line":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: 'pw=SECRETHASH'\nspec:\n  replicas: many\n",
		"a broken YAML line":           "password: [SECRETHASH\n",
		"a tab-indented line":          "a:\n\tpassword: SECRETHASH\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := Default()
			_, err := ParsePodTemplate("deploy/.htpasswd", []byte(doc), &c)
			var in *InputError
			if !errors.As(err, &in) || strings.Contains(err.Error(), "SECRETHASH") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("refusal of a file that is not a template: %v", err)
			}
		})
	}
	// A real misspelling is still named with its path.
	c := Default()
	_, err := ParsePodTemplate("deploy/model.yaml", []byte(strings.Replace(deploymentDoc, "image:", "imag:", 1)), &c)
	if err == nil || !strings.Contains(err.Error(), `"spec.template.spec.containers[0].imag"`) {
		t.Fatalf("a misspelled field: %v; want its path", err)
	}
}

// TestBareTemplateInAStreamIsNamed (breakit9 G15): a bare PodTemplateSpec (a document without kind)
// next to other objects is refused saying so — it must be alone in the file — without an empty
// entry in the list of what was found; also next to a Deployment (which template was meant?).
func TestBareTemplateInAStreamIsNamed(t *testing.T) {
	bare := "spec:\n  containers:\n    - name: m\n      image: x\n"
	for name, doc := range map[string]string{
		"a Service and a bare template":    "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\n" + bare,
		"a bare template and a Deployment": bare + "---\n" + deploymentDoc,
		"two bare templates":               bare + "---\n" + bare,
		"a List with a bare template":      "apiVersion: v1\nkind: List\nitems:\n  - spec: {containers: [{name: m, image: x}]}\n  - {apiVersion: v1, kind: Service, metadata: {name: s}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := Default()
			_, err := ParsePodTemplate("deploy/model.yaml", []byte(doc), &c)
			var in *InputError
			if !errors.As(err, &in) || strings.Contains(err.Error(), ", )") || !strings.Contains(err.Error(), "PodTemplateSpec must be alone in the file") {
				t.Fatalf("%v: want it to name the bare PodTemplateSpec document", err)
			}
		})
	}
}

// TestDeploymentSettingsAreRead (breakit9 G6): a Deployment file's rollout settings are read with
// its template (render keeps them on both versions); a bare PodTemplateSpec has none; a paused
// Deployment is refused naming spec.paused (it would never roll out).
func TestDeploymentSettingsAreRead(t *testing.T) {
	c := Default()
	doc := strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  progressDeadlineSeconds: 1800\n  minReadySeconds: 30\n  revisionHistoryLimit: 3\n  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}\n  template:", 1)
	tm, err := ParsePodTemplate("deploy/model.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	s := tm.Deployment
	if *s.ProgressDeadlineSeconds != 1800 || s.MinReadySeconds != 30 || *s.RevisionHistoryLimit != 3 || s.Strategy.RollingUpdate.MaxSurge.IntValue() != 0 || s.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 1 {
		t.Errorf("settings %+v", s)
	}
	recreate := strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  strategy: {type: Recreate}\n  template:", 1)
	if tm, err := ParsePodTemplate("deploy/model.yaml", []byte(recreate), &c); err != nil || tm.Deployment.Strategy.Type != "Recreate" {
		t.Errorf("Recreate: %v", err)
	}
	if tm, err := ParsePodTemplate("deploy/model.yaml", []byte("spec:\n  containers: [{name: m, image: x}]\n"), &c); err != nil || tm.Deployment.ProgressDeadlineSeconds != nil || tm.Deployment.Strategy.Type != "" {
		t.Errorf("a bare PodTemplateSpec: %v %+v", err, tm)
	}
	paused := strings.Replace(deploymentDoc, "spec:\n  template:", "spec:\n  paused: true\n  template:", 1)
	if _, err := ParsePodTemplate("deploy/model.yaml", []byte(paused), &c); err == nil || !strings.Contains(err.Error(), "spec.paused") {
		t.Errorf("a paused Deployment: %v", err)
	}
}
