package istiovalidate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestEngineFixturesAdmitted: the engine's brownfield tests against the real API server keep
// what each case left on the cluster (the VirtualService and Gateway mlcanary wrote, merged with
// what others own) as golden files; Istio's webhook must admit every one of them.
func TestEngineFixturesAdmitted(t *testing.T) {
	files, err := filepath.Glob("../../internal/engine/testdata/istio-*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("engine fixtures: %v %v", files, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(data, &objs); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, o := range objs {
			if err := Verdict(o); err != nil {
				t.Errorf("%s: Istio rejects the %s mlcanary left: %v", filepath.Base(file), o["kind"], err)
			}
		}
	}
	t.Logf("%d engine fixtures admitted by Istio", len(files))
}
