package engine_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
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
