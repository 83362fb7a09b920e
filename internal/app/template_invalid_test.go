package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidPodTemplateExits2 (breakit9 G20): `stage Blue_0` from a pod template the API server
// would reject (requests above limits, a sidecar without an image, a port name over 15
// characters) exits 2 with one line naming pod-template, the file as typed and the field, before
// any cluster is contacted (there is none here: a stage that tried would fail with exit 1).
func TestInvalidPodTemplateExits2(t *testing.T) {
	base := "spec:\n  containers:\n    - name: model\n      image: x\n"
	for name, tc := range map[string]struct{ extra, field string }{
		"requests above limits": {"      resources: {requests: {cpu: \"2\"}, limits: {cpu: \"1\"}}\n", "resources.requests.cpu 2 above limits 1"},
		"sidecar without image": {"    - name: log-shipper\n", "spec.containers[log-shipper].image empty"},
		"port name too long":    {"      ports: [{name: http-scoring-endpoint, containerPort: 5001}]\n", "ports[0].name http-scoring-endpoint"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "model.yaml")
			if err := os.WriteFile(file, []byte(base+tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errs := runCLI(t, filepath.Join(t.TempDir(), "no-kubeconfig"), "stage", "Blue_0", "--image=acr.io/model:2", "--container=model", "--pod-template", file)
			if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, `invalid pod-template "`+file+`"`) || !strings.Contains(errs, tc.field) {
				t.Fatalf("exit %d, %q; want exit 2 naming the file and %q", code, errs, tc.field)
			}
		})
	}
}
