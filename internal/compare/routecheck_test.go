package compare

import (
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/analysis"
)

// The route check judges compare's actual request (POST, its path, Host, port, the routing header
// and the line's other headers, through mlcanary's Gateway) against the live VirtualService the way
// Istio routes it. Each case's gateway routes by that same VirtualService (gatewaysim with
// routematch), so what the check decides is what the traffic does.

func route(name string, match map[string]any, dests ...any) any {
	r := map[string]any{"name": name, "route": dests}
	if match != nil {
		r["match"] = []any{match}
	}
	return r
}

func dest(host string, weight ...int64) any {
	d := map[string]any{"destination": map[string]any{"host": host}}
	if len(weight) > 0 {
		d["weight"] = weight[0]
	}
	return d
}

func hdr(kind, value string) map[string]any {
	return map[string]any{"x-api-version": map[string]any{kind: value}}
}

var (
	blueRoute  = headerRoute("mlcanary-blue", "blue", "model-svc-blue", nil)
	greenRoute = headerRoute("mlcanary-green", "green", "model-svc-green", nil)
)

// TestRouteCheckRefusesUnreachableVersions (found by the second #11 break-it review, D1): on each
// brownfield VirtualService compare's copy for blue (or green) would not reach that version's own
// Service through the gateway; compare sends nothing and names, in one sentence, the route that
// takes the copy, or says it cannot tell from the gateway's side.
func TestRouteCheckRefusesUnreachableVersions(t *testing.T) {
	t.Parallel()
	blueWith := func(extra map[string]any) any { return headerRoute("mlcanary-blue", "blue", "model-svc-blue", extra) }
	for _, tc := range []struct {
		name  string
		vs    map[string]any
		lines string
		want  string
	}{
		{"another team's route first catches /score", vsOf(
			route("platform-maintenance", map[string]any{"uri": map[string]any{"exact": "/score"}}, dest("model-svc-green")),
			blueRoute, greenRoute, defaultRoute()), "",
			`line 1's copy for blue (POST /score with x-api-version: blue) is taken by route http[0] "platform-maintenance" (uri exact /score → model-svc-green), which sends it to green's Service, not to blue's own Service`},
		{"blue's route only for in-mesh callers", vsOf(blueWith(map[string]any{"gateways": []any{"mesh"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route only through another gateway", vsOf(blueWith(map[string]any{"gateways": []any{"istio-system/internal-gw"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route also needs a tester header", vsOf(blueWith(map[string]any{"headers": map[string]any{
			"x-api-version": map[string]any{"exact": "blue"}, "x-tester": map[string]any{"exact": "qa"}}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route on another path than --path", vsOf(blueWith(map[string]any{"uri": map[string]any{"prefix": "/v2/score"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route only for GET", vsOf(blueWith(map[string]any{"method": map[string]any{"exact": "GET"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route only on port 8443", vsOf(blueWith(map[string]any{"port": int64(8443)}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route only for another authority", vsOf(blueWith(map[string]any{"authority": map[string]any{"exact": "qa.example.com"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route needs a query parameter", vsOf(blueWith(map[string]any{"queryParams": map[string]any{"canary": map[string]any{"exact": "1"}}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route only from labelled workloads", vsOf(blueWith(map[string]any{"sourceLabels": map[string]any{"app": "tester"}}), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's route excludes a header the lines send", vsOf(blueWith(map[string]any{"withoutHeaders": map[string]any{"user-agent": map[string]any{"prefix": "python"}}}), greenRoute, defaultRoute()),
			`{"body": [1, 2], "headers": {"User-Agent": "python-requests/2.32"}}` + "\n",
			`is taken by route http[2] "mlcanary-default"`},
		{"a regex that does not match the whole value", vsOf(route("mlcanary-blue", map[string]any{"headers": hdr("regex", "blu")}, dest("model-svc-blue")), greenRoute, defaultRoute()), "",
			`is taken by route http[2] "mlcanary-default"`},
		{"blue's header route splits 70/30", vsOf(route("mlcanary-blue", map[string]any{"headers": hdr("exact", "blue")}, dest("model-svc-blue", 70), dest("model-svc-green", 30)), greenRoute, defaultRoute()), "",
			`which splits it by weight (green 30, blue 70)`},
		{"green's route sends to blue", vsOf(blueRoute, headerRoute("mlcanary-green", "green", "model-svc-blue", nil), defaultRoute()), "",
			`line 1's copy for green (POST /score with x-api-version: green) is taken by route http[1] "mlcanary-green"`},
		{"a line's own path no route takes", vsOf(blueRoute, greenRoute, defaultRoute()), "[1, 2]\n" + `{"body": [1, 2], "path": "/explain"}` + "\n",
			`no route of VirtualService abtesting/mlmodel-virtualservice takes line 2's copy for blue (POST /explain with x-api-version: blue), so the gateway would answer it 404`},
		{"a line's header another team's earlier route takes", vsOf(
			route("qa-shadow", map[string]any{"headers": map[string]any{"x-tester": map[string]any{"exact": "qa"}}}, dest("qa-svc")), blueRoute, greenRoute, defaultRoute()),
			"[1, 2]\n" + `{"body": [1, 2], "headers": {"X-Tester": "qa"}}` + "\n",
			`line 2's copy for blue (POST /score with x-api-version: blue) is taken by route http[0] "qa-shadow" (header x-tester=qa → qa-svc), which sends it to another Service`},
		{"a route matching a header the gateway sets", vsOf(
			route("trusted", map[string]any{"headers": map[string]any{"x-forwarded-for": map[string]any{"prefix": "10."}}}, dest("model-svc-green")), blueRoute, greenRoute, defaultRoute()), "",
			`may be taken by route http[0] "trusted" (header x-forwarded-for prefix 10. → model-svc-green), but compare cannot tell from the gateway's side: it matches header x-forwarded-for, which the gateway sets itself`},
		{"a delegate", vsOf(map[string]any{"name": "team", "match": []any{map[string]any{"uri": map[string]any{"prefix": "/"}}},
			"delegate": map[string]any{"name": "team-vs", "namespace": "team"}}, blueRoute, greenRoute), "",
			`which delegates to another VirtualService, which compare does not follow`},
		{"a VirtualService only for the mesh", func() map[string]any {
			vs := bothVS()
			delete(vs["spec"].(map[string]any), "gateways")
			return vs
		}(), "", `no route of VirtualService abtesting/mlmodel-virtualservice takes line 1's copy for blue`},
		{"no VirtualService", nil, "", `VirtualService abtesting/mlmodel-virtualservice does not exist`},
		{"a VirtualService for another host", func() map[string]any {
			vs := bothVS()
			vs["spec"].(map[string]any)["hosts"] = []any{"scoring.example.com"}
			return vs
		}(), "", `VirtualService abtesting/mlmodel-virtualservice does not serve the Host compare sends (127.0.0.1:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs := tc.vs
			if vs == nil {
				vs = vsOf()
			}
			gw, green, blue := vsGateway(t, vs)
			o := options(gw)
			o.Live = liveOf(tc.vs)
			lines := tc.lines
			if lines == "" {
				lines = grid(100)
			}
			_, err := Run(t.Context(), strings.NewReader(lines), "reqs.jsonl", o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), "nothing was compared") {
				t.Errorf("%v\nwant it to contain %q", err, tc.want)
			}
			if green.Load()+blue.Load() != 0 {
				t.Errorf("sent %d requests to green and %d to blue before refusing", green.Load(), blue.Load())
			}
		})
	}
}

// TestRouteCheckAcceptsWorkingRoutes (found by the second #11 break-it review, D9): header routes
// that do reach blue and green, written as brownfield VirtualServices write them, are accepted, and
// the comparison proves it: blue, whose labels flip, is reached and found degraded.
func TestRouteCheckAcceptsWorkingRoutes(t *testing.T) {
	t.Parallel()
	n := 1000
	want := flips(t, n, model(0.5, 0.5123, 0), model(0.5, 0.6123, 0))
	plain := func(name, value, host string) any { return headerRoute(name, value, host, nil) }
	for _, tc := range []struct {
		name string
		vs   map[string]any
	}{
		{"mlcanary's own routes", bothVS()},
		{"regex header matches (Envoy full-matches RE2)", vsOf(
			route("blue", map[string]any{"uri": map[string]any{"prefix": "/score"}, "headers": hdr("regex", "bl(ue)?")}, dest("model-svc-blue")),
			route("green", map[string]any{"headers": hdr("regex", "gr.*")}, dest("model-svc-green")), defaultRoute())},
		{"prefix header matches", vsOf(route("blue", map[string]any{"headers": hdr("prefix", "bl")}, dest("model-svc-blue")),
			route("green", map[string]any{"headers": hdr("prefix", "gr")}, dest("model-svc-green")), defaultRoute())},
		{"another team's /explain route on the same header value first", vsOf(
			route("xai-blue", map[string]any{"uri": map[string]any{"prefix": "/explain"}, "headers": hdr("exact", "blue")}, dest("explainer-blue")),
			plain("mlcanary-blue", "blue", "model-svc-blue"), plain("mlcanary-green", "green", "model-svc-green"), defaultRoute())},
		{"100/0 weighted pairs (GitOps templates)", vsOf(
			route("blue", map[string]any{"headers": hdr("exact", "blue")}, dest("model-svc-blue", 100), dest("model-svc-green", 0)),
			route("green", map[string]any{"headers": hdr("exact", "green")}, dest("model-svc-green.abtesting.svc.cluster.local", 100), dest("model-svc-blue", 0)), defaultRoute())},
		{"routes limited to mlcanary's gateway and the mesh", vsOf(
			headerRoute("mlcanary-blue", "blue", "model-svc-blue", map[string]any{"gateways": []any{"mesh", "abtesting/mlmodel-gateway"}}),
			headerRoute("mlcanary-green", "green", "model-svc-green", map[string]any{"gateways": []any{"mlmodel-gateway"}}), defaultRoute())},
		{"several match blocks, one for POST", vsOf(
			map[string]any{"name": "blue", "match": []any{map[string]any{"method": map[string]any{"exact": "GET"}, "headers": hdr("exact", "blue")},
				map[string]any{"method": map[string]any{"exact": "POST"}, "headers": hdr("exact", "blue")}}, "route": []any{dest("model-svc-blue")}},
			plain("mlcanary-green", "green", "model-svc-green"), defaultRoute())},
		{"presence and absence of other headers", vsOf(
			headerRoute("mlcanary-blue", "blue", "model-svc-blue", map[string]any{"headers": map[string]any{"x-api-version": map[string]any{"exact": "blue"},
				"content-type": map[string]any{}}, "withoutHeaders": map[string]any{"x-debug": map[string]any{"exact": "1"}}}),
			plain("mlcanary-green", "green", "model-svc-green"), defaultRoute())},
		{"an earlier route on another port, method or header", vsOf(
			route("admin", map[string]any{"port": int64(15021)}, dest("admin-svc")),
			route("reads", map[string]any{"method": map[string]any{"exact": "GET"}}, dest("cache-svc")),
			route("qa", map[string]any{"headers": map[string]any{"x-tester": map[string]any{}}}, dest("qa-svc")),
			plain("mlcanary-blue", "blue", "model-svc-blue"), plain("mlcanary-green", "green", "model-svc-green"), defaultRoute())},
		{"a VirtualService for the Host compare sends (--host)", func() map[string]any {
			vs := bothVS()
			vs["spec"].(map[string]any)["hosts"] = []any{"*.example.com"}
			return vs
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gw, _, blue := vsGateway(t, tc.vs)
			o := options(gw)
			o.Live = liveOf(tc.vs)
			o.Host = "scoring.example.com"
			r, err := Run(t.Context(), strings.NewReader(grid(n)), "reqs.jsonl", o)
			if err != nil {
				t.Fatalf("routes that reach both versions are refused: %v", err)
			}
			if blue.Load() != int64(n) || r.Verdict != analysis.Degraded || r.Compared-r.Agreed != want {
				t.Errorf("blue reached %d times, %d of %d disagree (want %d): %s: %s", blue.Load(), r.Compared-r.Agreed, r.Compared, want, r.Verdict, r.Reason)
			}
		})
	}
}
