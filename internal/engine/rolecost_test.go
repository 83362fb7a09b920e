package engine_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/kube"
)

// roleRecorder is credentials of the README's documented Role (documentedRole) that note every
// request sent with them, as requestOf names it after sentLine.
type roleRecorder struct {
	rc   *rest.Config
	mu   sync.Mutex
	sent []string
}

func newRoleRecorder(t *testing.T, f *fixture) *roleRecorder {
	t.Helper()
	r := &roleRecorder{rc: rest.CopyConfig(documentedRole(t, f))}
	r.rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.sent = append(r.sent, sentLine(req, false))
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return r
}

// run runs stage (with image, "" to keep) through the namespace's lock as every front end does
// (lockFence) and returns the requests it sent, the lock's included, as sentLine notes them, and
// the stage's notes.
func (r *roleRecorder) run(t *testing.T, f *fixture, stage, image string) (sent, notes []string) {
	t.Helper()
	cl := clientFor(t, r.rc)
	c := f.cfg(stage, image)
	r.mu.Lock()
	r.sent = nil
	r.mu.Unlock()
	ctx, release := lockFence(t, r.rc, c)
	res, err := cl.Stage(ctx, c, t.Logf)
	release()
	if err != nil {
		t.Fatalf("%s with the documented Role: %v", stage, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...), res.Notes
}

// explanations are the requests kube.Client sends only to explain an RBAC refusal in a namespace
// (its namespaceHint): a read of the namespace and a VirtualService list of at most one.
func explanations(sent []string, ns string) (n int) {
	for _, s := range sent {
		if strings.HasPrefix(s, "GET /api/v1/namespaces/"+ns+"?") || s == "GET /api/v1/namespaces/"+ns || strings.Contains(s, "limit=1&") || strings.HasSuffix(s, "limit=1") {
			n++
		}
	}
	return n
}

// TestOptionalRefusalsAreNotExplained (#12 break-it K4): under the README's namespace-scoped Role
// a stage that displaces a version (here Rollback from Blue_100) lists VirtualServices and the
// Gateway API's route kinds in all namespaces, and the route kinds in the namespace too; RBAC
// refuses those optional reads, which the stage expects (it narrows to the namespace, or notes what
// it could not check). No such refusal is "explained" with more requests (a read of the namespace
// and a list of one VirtualService): the explanation is for an error the user reads, not for one
// the stage handles. Before the fix: 33 requests, 10 of them explanations.
func TestOptionalRefusalsAreNotExplained(t *testing.T) {
	f := newFixture(t)
	f.reach(states[6].path) // Blue_100 of the next release
	r := newRoleRecorder(t, f)
	sent, _ := r.run(t, f, "Rollback", "")
	t.Logf("Rollback from Blue_100 with the documented Role: %d requests\n  %s", len(sent), strings.Join(sent, "\n  "))
	if n := explanations(sent, f.ns); n > 0 {
		t.Errorf("Rollback with the documented Role sent %d requests, %d of them to explain refusals it then handled", len(sent), n)
	}
}

// virtualServiceLists are the lists of VirtualServices among sent (sentLine), the namespace hint's
// list of one excepted.
func virtualServiceLists(sent []string) (lists []string) {
	for _, s := range sent {
		if strings.HasPrefix(s, "GET ") && strings.Contains(s, "/virtualservices?") && !strings.Contains(s, "limit=1&") {
			lists = append(lists, s)
		}
	}
	return lists
}

// TestWeightOnlyShiftsListNoVirtualServicesUnderTheDocumentedRole (#12 break-it K2): under the
// README's namespace-scoped Role the check of the other VirtualServices on the Gateway can list
// only the namespace's; it is recorded all the same (PeersCheckedAnnotation says which namespaces
// it looked at), so a stage that only moves weights — Blue_50, Blue_40, Blue_100 — sends no
// VirtualService list at all (before: a refused cluster-wide list and a paged list of the
// namespace on each, 12 requests instead of 10). Rollback from Blue_100 removes blue, so it lists
// the VirtualServices once to find every route to blue (readOthers), and its peers check reuses
// that list. The requests of each stage, the lock's included, are logged.
func TestWeightOnlyShiftsListNoVirtualServicesUnderTheDocumentedRole(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green only, set up by an admin
	r := newRoleRecorder(t, f)
	for _, st := range []string{"Blue_0@" + imgB, "Blue_50", "Blue_40", "Blue_50", "Blue_100", "Blue_100", "Rollback"} {
		stage, image := cut(st)
		sent, _ := r.run(t, f, stage, image)
		lists := virtualServiceLists(sent)
		t.Logf("%s with the documented Role: %d requests (%d VirtualService lists)", st, len(sent), len(lists))
		switch stage {
		case "Blue_0": // adds blue's header route: it checks the peers, as documented
			if len(lists) == 0 {
				t.Errorf("Blue_0 with a new image did not check the other VirtualServices")
			}
		case "Rollback": // one list, all namespaces refused then the namespace's, for both checks
			if len(lists) != 2 {
				t.Errorf("Rollback listed VirtualServices %d times, want 2 (refused in all namespaces, then the namespace's) shared by both checks: %q", len(lists), lists)
			}
		default:
			if len(lists) > 0 {
				t.Errorf("%s (weights only) with the documented Role sent %d requests, listing VirtualServices: %q", stage, len(sent), lists)
			}
		}
	}
}

// TestRecordedNoteIsRestatedOnWeightOnlyShifts (#12 break-it K2, a note): another team's older
// VirtualService on mlcanary's Gateway takes the requests with header x-team=a (a note, not a
// refusal). Under the documented Role, Blue_0 checks (the namespace's VirtualServices) and notes
// it; the record keeps the scope and the note, so Blue_50 and Blue_40 list no VirtualService and
// still say the note, marked as recorded by the last check.
func TestRecordedNoteIsRestatedOnWeightOnlyShifts(t *testing.T) {
	f := newFixture(t)
	team := map[string]any{"name": "team-a", "match": []any{map[string]any{"headers": map[string]any{"x-team": map[string]any{"exact": "a"}}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "team-a"}}}}
	applyAs(t, "helm", kube.VirtualServices, f.ns, virtualService("team-a", map[string]any{"hosts": []any{"*"}, "gateways": []any{"mlmodel-gateway"}, "http": []any{team}}))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of one second
	f.reach(states[3].path)
	r := newRoleRecorder(t, f)
	var note string
	for _, st := range []string{"Blue_0@" + imgB, "Blue_50", "Blue_40"} {
		stage, image := cut(st)
		sent, notes := r.run(t, f, stage, image)
		lists := virtualServiceLists(sent)
		i := slices.IndexFunc(notes, func(n string) bool { return strings.Contains(n, "team-a") && strings.Contains(n, "x-team") })
		t.Logf("%s: %d requests, VirtualService lists %q, notes %q", st, len(sent), lists, notes)
		switch {
		case i < 0:
			t.Errorf("%s notes %q; want the note naming team-a's header route", stage, notes)
		case stage == "Blue_0":
			note = notes[i]
			if rec := get(t, kube.VirtualServices, f.ns, "mlmodel-virtualservice").GetAnnotations()[engine.PeersCheckedAnnotation]; !strings.Contains(rec, `"scope":"this namespace"`) || !strings.Contains(rec, "team-a") {
				t.Errorf("Blue_0 recorded %q; want the namespace's scope and the note", rec)
			}
		default:
			if len(lists) > 0 {
				t.Errorf("%s (weights only) listed VirtualServices %q", stage, lists)
			}
			if !strings.HasPrefix(notes[i], note+" (recorded by the last check") {
				t.Errorf("%s restated %q; want Blue_0's note %q, marked as recorded", stage, notes[i], note)
			}
		}
	}
}
