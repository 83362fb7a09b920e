package istiovalidate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestEveryEngineWriteAdmitted: every VirtualService and Gateway the engine package's tests made
// mlcanary write against the real API server (kept by internal/engine/istiowrites_test.go in
// $MLCANARY_ISTIO_WRITES, as the server stored them) is admitted by Istio's webhook validation.
// `make test` runs the engine tests first and this after; run alone without the variable, it skips.
func TestEveryEngineWriteAdmitted(t *testing.T) {
	dir := os.Getenv("MLCANARY_ISTIO_WRITES")
	if dir == "" {
		t.Skip("MLCANARY_ISTIO_WRITES is not set: run `make test`, which sets it for the engine tests and this one")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("only %d Istio writes kept in %s: the engine tests did not run with MLCANARY_ISTIO_WRITES", len(files), dir)
	}
	kinds := map[string]int{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		kinds[obj["kind"].(string)]++
		if err := Verdict(obj); err != nil {
			t.Errorf("%s: Istio's webhook rejects the %s mlcanary wrote: %v", filepath.Base(file), obj["kind"], err)
		}
	}
	t.Logf("Istio admits all %d writes of the engine tests: %v", len(files), kinds)
}
