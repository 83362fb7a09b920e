package engine_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sentLine is how the recorder notes a request (requestOf reads it back): method, path and query,
// with a dry run marked.
func sentLine(req *http.Request, dryRun bool) string {
	line := req.Method + " " + req.URL.Path
	if req.URL.RawQuery != "" {
		line += "?" + req.URL.RawQuery
	}
	if dryRun && !strings.Contains(line, "dryRun") {
		line += " (dry run)"
	}
	return line
}

// sentSince returns the requests counted since the last reset, as sentLine noted them.
func (r *recorder) sentSince() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

var namespaced = regexp.MustCompile(`/namespaces/[^/]+/`)

// requestOf names a request by what it does, for the table below: "GET deployments/model-blue",
// "LIST deployments app.kubernetes.io/managed-by=mlcanary", "LIST virtualservices (all namespaces)",
// "WATCH deployments model-blue", "PATCH virtualservices/mlmodel-virtualservice".
func requestOf(line string) string {
	method, rest, _ := strings.Cut(line, " ")
	path, query, _ := strings.Cut(rest, "?")
	q, _ := url.ParseQuery(query)
	all := !strings.Contains(path, "/namespaces/") && !strings.HasSuffix(path, "/namespaces") && !strings.HasPrefix(path, "/api/v1/namespaces")
	parts := strings.Split(strings.Trim(namespaced.ReplaceAllString(path, "/"), "/"), "/")
	resource, name := parts[len(parts)-1], ""
	if method != http.MethodGet || len(parts) >= 2 && !isGroupVersion(parts) {
		resource, name = parts[len(parts)-2], parts[len(parts)-1]
	}
	switch {
	case q.Get("watch") == "true":
		return "WATCH " + resource + " " + strings.TrimPrefix(q.Get("fieldSelector"), "metadata.name=")
	case method == http.MethodGet && name == "":
		s := "LIST " + resource
		if sel := q.Get("labelSelector"); sel != "" {
			s += " " + sel
		}
		if all && resource != "namespaces" {
			s += " (all namespaces)"
		}
		return s
	}
	return method + " " + resource + "/" + name
}

// isGroupVersion reports whether the path ends in a collection (…/v1/deployments), not an object.
func isGroupVersion(parts []string) bool {
	prev := parts[len(parts)-2]
	return prev == "v1" || prev == "v2" || prev == "v1alpha2" || prev == "v1beta1"
}

// Requests a stage sends, named by requestOf.
const (
	getVS      = "GET virtualservices/mlmodel-virtualservice"
	patchVS    = "PATCH virtualservices/mlmodel-virtualservice"
	getGateway = "GET gateways/mlmodel-gateway"
	listHPA    = "LIST horizontalpodautoscalers"
)

// observed is what every stage reads before it decides, at the same time, each object by its name
// (a consistent list would wait for the API server's watch cache: reads.go): the VirtualService
// (its read also says whether Istio is installed), both Deployments, both Services and the Gateway.
var observed = []string{getVS, "GET deployments/model-green", "GET deployments/model-blue",
	"GET services/model-svc-green", "GET services/model-svc-blue", getGateway}

// routesTo is what a stage that displaces a version reads, at the same time, to find every route
// to it: VirtualServices, Ingresses, Gateway API routes.
var routesTo = []string{"LIST virtualservices (all namespaces)", "LIST ingresses", "LIST httproutes (all namespaces)",
	"LIST grpcroutes (all namespaces)", "LIST tcproutes (all namespaces)", "LIST tlsroutes (all namespaces)"}

// peers is what a stage that changes the header routes, or creates the VirtualService, lists to
// find the VirtualServices Istio merges with mlcanary's on its Gateway host, oldest first
// (ownership.GatewayShadows): one paged list, none when the stage lists VirtualServices for
// routesTo anyway. A stage that only moves weights sends none: the VirtualService records the last
// clean check (engine.PeersCheckedAnnotation), and weights do not change the answer.
var peers = []string{"LIST virtualservices (all namespaces)"}

func requests(lists ...[]string) []string { return slices.Concat(lists...) }

// TestRequestsPerStage pins the requests each stage of the documented sequence sends to the real
// API server, what each is for, so a change that adds one shows here and must say why (issue #12,
// "Speed"). A Blue_N that moves traffic sends 7: six reads at the same time (one round trip: the
// VirtualService it decides on, both Deployments and both Services, which are also the safety
// re-check before the route write — each routed version rolled out with the decided image, its
// Service present — and the Gateway it keeps converged, which also gives the ingress selector), then
// its write. A re-run that holds sends the six reads and no write. The CLI adds the lock's create
// and delete (internal/lock): 9 and 8, against the targets of 6 and 4 (0 writes), which
// would need dropping a read that guards the route write (a Service, a Deployment, or the Gateway
// the routes are bound to) or the lock; the reads cost one round trip, not six. A stage that
// waits for a rollout also polls and watches the Deployment it waits for: those requests (at least
// one) are counted apart.
func TestRequestsPerStage(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path) // green only, after a first release: everything is mlcanary's
	// A stage that creates or replaces pods reads the namespace once, for its sidecar-injection
	// label (internal/ingress); a re-run that holds does not.
	getNamespace := "GET namespaces/" + f.ns
	// A stage that creates or replaces blue's pods lists the namespace's Services once, to refuse
	// one of another manager that would select them (exposure.go); a re-run does not.
	listServices := "LIST services"
	cases := []struct {
		run   string
		want  []string
		waits string // the Deployment it waits for
	}{
		{"Blue_0@" + imgB, requests(observed, peers, []string{listHPA, getNamespace, listServices,
			"PATCH services/model-svc-blue", "PATCH deployments/model-blue",
			"GET services/model-svc-green", getGateway, getVS, "GET deployments/model-green", "GET deployments/model-blue", "GET services/model-svc-blue", patchVS}), "model-blue"},
		{"Blue_0@" + imgB, requests(observed, []string{listHPA}), ""}, // a re-run
		{"Shadow_10", requests(observed, []string{patchVS}), ""},      // the mirror: one write, like a weight
		{"Shadow_10", observed, ""},
		{"Blue_50", requests(observed, []string{patchVS}), ""}, // drops the mirror in the same write
		{"Blue_50", observed, ""},
		{"Blue_40", requests(observed, []string{patchVS}), ""},
		{"Blue_100", requests(observed, []string{patchVS}), ""},
		{"Blue_100", observed, ""},
		{"Blue_Green", requests(observed, []string{listHPA, getNamespace}, routesTo, []string{patchVS, "GET deployments/model-green", "PATCH deployments/model-green",
			getGateway, getVS, "GET deployments/model-blue", "GET deployments/model-green", "GET services/model-svc-green", "GET services/model-svc-blue", patchVS}), "model-green"},
		{"Blue_Green", requests(observed, []string{listHPA}), ""},
		{"Green_100", requests(observed, routesTo, []string{patchVS, "GET deployments/model-blue", "DELETE deployments/model-blue", "GET services/model-svc-blue", "DELETE services/model-svc-blue"}), ""},
		{"Green_100", observed, ""},
		{"Rollback", requests(observed, []string{patchVS}), ""},
		{"Rollback", observed, ""},
	}
	for _, tc := range cases {
		f.rec.reset()
		stage, image := cut(tc.run)
		f.stage(stage, image)
		var got []string
		for _, line := range f.rec.sentSince() {
			got = append(got, requestOf(line))
		}
		t.Logf("%s: %d requests\n  %s", tc.run, len(got), strings.Join(got, "\n  "))
		missing, extra := multisetDiff(tc.want, got)
		waited := 0
		extra = slices.DeleteFunc(extra, func(r string) bool {
			wait := tc.waits != "" && (r == "GET deployments/"+tc.waits || r == "WATCH deployments "+tc.waits)
			if wait {
				waited++
			}
			return wait
		})
		if len(missing) > 0 || len(extra) > 0 || (tc.waits != "") != (waited > 0) {
			t.Errorf("%s sent %d requests:\n  %s\nmissing %q, not expected %q (waiting for %q: %d)", tc.run, len(got), strings.Join(got, "\n  "), missing, extra, tc.waits, waited)
		}
	}
}

// multisetDiff returns what want has that got lacks, and what got has that want lacks, counting
// repeats (concurrent reads arrive in any order).
func multisetDiff(want, got []string) (missing, extra []string) {
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	for _, g := range got {
		if left[g] > 0 {
			left[g]--
			continue
		}
		extra = append(extra, g)
	}
	for _, w := range want {
		if left[w] > 0 {
			left[w]--
			missing = append(missing, w)
		}
	}
	return missing, extra
}

// TestFirstReleaseReadsTheNamespaceOnce: a first Blue_0 needs the namespace twice — observe, as
// none of the release's objects exists (is the namespace there?), and the sidecar-injection check,
// as it creates pods — and reads it once.
func TestFirstReleaseReadsTheNamespaceOnce(t *testing.T) {
	f := newFixture(t)
	f.stage("Blue_0", imgA)
	n := 0
	for _, line := range f.rec.sentSince() {
		if requestOf(line) == "GET namespaces/"+f.ns {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the first Blue_0 read namespace %s %d times, want once", f.ns, n)
	}
}
