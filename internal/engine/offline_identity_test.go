package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/plan"
)

// TestOfflinePlanIsWhatAStageSends: for every stage, the objects plan --offline prints are byte for
// byte the apply bodies the real engine sends to a real API server from the same assumed state —
// reached on the API server by performing the same earlier stages (plan.Assumed) with the same
// images and clock. The one field the real bodies carry that the offline ones cannot is
// metadata.resourceVersion (the live VirtualService's optimistic lock): it is dropped from the
// real bodies before comparing, and nothing else is. The deletes are the same too. Each stage runs
// with the documented defaults, with other inputs (hosts, ports, replicas, a pull secret) and bound
// to a Gateway in another namespace.
func TestOfflinePlanIsWhatAStageSends(t *testing.T) {
	inputs := map[string]func(*testing.T, *fixture, *config.Config){
		"defaults": func(*testing.T, *fixture, *config.Config) {},
		"inputs": func(_ *testing.T, _ *fixture, c *config.Config) {
			c.Hosts, c.GatewayPort, c.Port, c.Replicas, c.ImagePullSecret = []string{"model.example.com"}, 8080, 8000, 2, "acr-pull"
		},
		// A Gateway of another namespace (the offline plan assumes it exists).
		"platform-gateway": func(t *testing.T, f *fixture, c *config.Config) {
			ns, _ := platformGateway(t, f)
			c.Gateway = ns + "/public-gateway"
		},
	}
	for _, stage := range []string{"Blue_0", "Shadow_10", "Blue_50", "Blue_100", "Blue_Green", "Green_100", "Rollback"} {
		for name, set := range inputs {
			t.Run(stage+"_"+name, func(t *testing.T) { offlineIsWhatAStageSends(t, stage, set) })
		}
	}
}

func offlineIsWhatAStageSends(t *testing.T, stage string, set func(*testing.T, *fixture, *config.Config)) {
	f := newFixture(t)
	images := map[config.Version]string{config.Green: imgA, config.Blue: imgB}
	cfg := f.cfg(stage, "")
	set(t, f, &cfg)
	for _, p := range plan.Assumed(cfg.Stage) {
		before := cfg
		before.Stage, before.Image = p.Stage, ""
		if p.Stage.Kind == config.KindBlue0 {
			before.Image = images[p.Image]
		}
		if _, err := f.run(before); err != nil {
			t.Fatalf("reaching the assumed state, %s: %v", p.Stage, err)
		}
	}
	if cfg.Stage.Kind == config.KindBlue0 {
		cfg.Image = imgB
	}
	sent := &sentBodies{}
	f.rec.beforeWrite = sent.record
	if _, err := f.run(cfg); err != nil {
		t.Fatal(err)
	}
	f.rec.beforeWrite = nil

	res, err := engine.Offline(context.Background(), cfg, engine.OfflineOptions{Now: f.cl.Now(), GreenImage: imgA, BlueImage: imgB})
	if err != nil {
		t.Fatal(err)
	}
	want := sent.lastApplied(t)
	if len(want) == 0 {
		t.Fatal("the stage sent no object")
	}
	t.Logf("%d objects, %d deletes", len(want), len(sent.deletes))
	if len(res.Manifests) != len(want) {
		t.Fatalf("offline plan has %d objects, the stage sent %d:\noffline:\n%s\nsent:\n%s", len(res.Manifests), len(want), join(res.Manifests), join(want))
	}
	for i := range want {
		if !bytes.Equal(res.Manifests[i], want[i]) {
			t.Errorf("object %d differs:\noffline: %s\nsent:    %s", i, res.Manifests[i], want[i])
		}
	}
	var deletes []string
	for _, ch := range res.Changes {
		if strings.HasSuffix(ch, " would be deleted") {
			deletes = append(deletes, strings.TrimSuffix(ch, " would be deleted"))
		}
	}
	if got, want := strings.Join(deletes, "; "), strings.Join(sent.deletes, "; "); got != want {
		t.Errorf("offline plan deletes %q, the stage deleted %q", got, want)
	}
}

// sentBodies records the writes a stage sends to the API server (recorder.beforeWrite).
type sentBodies struct {
	mu      sync.Mutex
	applies []sentApply
	deletes []string // "Kind ns/name"
}

type sentApply struct {
	path string
	body []byte
}

var kindOfResource = map[string]string{"deployments": "Deployment", "services": "Service", "virtualservices": "VirtualService", "gateways": "Gateway"}

func (s *sentBodies) record(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Method {
	case http.MethodPatch:
		s.applies = append(s.applies, sentApply{path: req.URL.Path, body: body})
	case http.MethodDelete:
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		n := len(parts)
		s.deletes = append(s.deletes, kindOfResource[parts[n-2]]+" "+parts[n-3]+"/"+parts[n-1])
	}
}

// lastApplied is, per object, the last body sent, in the order first sent, without
// metadata.resourceVersion (re-encoded as the dynamic client encodes an object).
func (s *sentBodies) lastApplied(t *testing.T) []json.RawMessage {
	var order []string
	last := map[string][]byte{}
	for _, a := range s.applies {
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(a.body); err != nil {
			t.Fatal(err)
		}
		body := a.body // byte for byte, unless it carries a resourceVersion
		if u.GetResourceVersion() != "" {
			unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
			var err error
			if body, err = u.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
		if _, seen := last[a.path]; !seen {
			order = append(order, a.path)
		}
		last[a.path] = body
	}
	out := make([]json.RawMessage, len(order))
	for i, p := range order {
		out[i] = last[p]
	}
	return out
}

func join(bodies []json.RawMessage) string {
	s := make([]string, len(bodies))
	for i, b := range bodies {
		s[i] = string(b)
	}
	return strings.Join(s, "\n")
}
