package istioprom_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
)

// TestAzureMonitorStandIn: the Azure Monitor stand-in in front of a real Prometheus (fed by
// promtool) takes a Prometheus-scope token from the Entra ID stand-in, passes istioprom's six
// queries on and refuses what Azure refuses; istioprom measures through it (blue agrees), says in
// one line that the identity needs Monitoring Data Reader when the role is missing, and a token for
// another audience (Azure Resource Manager's) is refused.
func TestAzureMonitorStandIn(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	prom := promtest.Run(t, promtest.Options{ScrapeInterval: 30 * time.Second, Backfill: promtest.IstioBackfill("ml",
		now.Add(-20*time.Minute), now.Add(5*time.Minute), map[string]promtest.Traffic{"blue": {OK: 40}, "green": {OK: 40}})})
	entra := akstest.Start(t)
	ws := promtest.StartAzureMonitor(t, entra, prom)
	cred, err := azidentity.NewClientSecretCredential(entra.Tenant, entra.ClientID, entra.Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Transport: entra.Client(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
		DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	api, err := istioprom.NewAzureClient(ws.Endpoint(), promtest.AzureScope, cred, ws.Transport())
	if err != nil {
		t.Fatal(err)
	}
	measure := func() (istioprom.Result, error) {
		return istioprom.Measure(context.Background(), api, istioprom.Config{Endpoint: ws.Endpoint(), Namespace: "ml", Azure: true,
			Blue:  istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
			Green: istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
			Start: now.Add(-10 * time.Minute), End: now, SLO: time.Second})
	}
	res, err := measure()
	if err != nil {
		t.Fatal(err)
	}
	if res.Blue.Requests != 24000 || res.Green.Requests != 24000 {
		t.Errorf("blue %d, green %d requests, want 600 s × 40/s = 24000 each", res.Blue.Requests, res.Green.Requests)
	}
	if d := analysis.Judge(res.Shares(0.01, 0.01), 0.99); d.Verdict != analysis.Agrees {
		t.Errorf("%s", d.Verdict)
	}
	if got := len(ws.Queries()); got != 6 {
		t.Errorf("%d queries passed on, want 6: %q", got, ws.Queries())
	}

	ws.SetReader(false)
	_, err = measure()
	if err == nil || !strings.Contains(err.Error(), "client error: 403") || !strings.Contains(err.Error(), "Monitoring Data Reader role") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("without the role: %v", err)
	}
	t.Log(err)
	ws.SetReader(true)

	// Straight to the API with a token: what Azure refuses is refused, what it answers reaches
	// Prometheus.
	client := &http.Client{Transport: ws.Transport()}
	ask := func(token, path string, form url.Values) int {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ws.Endpoint()+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	token := func(scope string) string {
		tk, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Token
	}
	prometheusToken := token(promtest.AzureScope)
	day := strings.NewReplacer("NOW", now.Format(time.RFC3339))
	for _, c := range []struct {
		path, form string
		want       int
	}{
		{"/api/v1/query", `query=istio_requests_total{reporter="destination"}[905s]`, http.StatusOK},
		{"/api/v1/query", `query=sum by (destination_workload) (rate(istio_requests_total{response_code=~"5.."}[5m]))`, http.StatusOK},
		{"/api/v1/query", `query={__name__="istio_requests_total",reporter="source"}`, http.StatusOK},
		{"/api/v1/query", `query=istio_requests_total{destination_workload=~".{2,}"}`, http.StatusOK}, // braces in a value
		{"/api/v1/query", `query={reporter="destination"}`, http.StatusBadRequest},
		{"/api/v1/query", `query={__name__=~"istio_.*"}`, http.StatusBadRequest},
		{"/api/v1/query", `query=istio_requests_total{__name__!~"x"}`, http.StatusBadRequest},
		{"/api/v1/query", `query=istio_requests_total[33d]`, http.StatusBadRequest},
		{"/api/v1/query", `query=max_over_time(istio_requests_total[5w:1h])`, http.StatusBadRequest},
		{"/api/v1/query_range", day.Replace(`query=istio_requests_total&start=NOW&end=NOW&step=60`), http.StatusOK},
		{"/api/v1/query_range", `query=istio_requests_total&start=0&end=3000000&step=3600`, http.StatusBadRequest},
		{"/api/v1/series", day.Replace(`match[]=istio_requests_total{reporter="source"}&start=NOW`), http.StatusOK},
		{"/api/v1/series", day.Replace(`match[]=istio_requests_total{reporter=~"s.*"}&start=NOW`), http.StatusBadRequest},
		{"/api/v1/series", `match[]=istio_requests_total&start=0`, http.StatusBadRequest},
		{"/api/v1/label/__name__/values", ``, http.StatusOK},
		{"/api/v1/label/reporter/values", ``, http.StatusBadRequest},
		{"/api/v1/status/config", ``, http.StatusBadRequest},
	} {
		form, err := url.ParseQuery(strings.ReplaceAll(c.form, "+", "%2B"))
		if err != nil {
			t.Fatal(err)
		}
		if got := ask(prometheusToken, c.path, form); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.path, c.form, got, c.want)
		}
	}
	if got := ask(token("https://management.azure.com//.default"), "/api/v1/query", url.Values{"query": {"istio_requests_total"}}); got != http.StatusUnauthorized {
		t.Errorf("a token for Azure Resource Manager: %d, want 401", got)
	}
	if got := ask("", "/api/v1/query", url.Values{"query": {"istio_requests_total"}}); got != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", got)
	}
	var noSeries *istioprom.NoSeriesError
	if _, err := istioprom.Measure(context.Background(), api, istioprom.Config{Endpoint: ws.Endpoint(), Namespace: "m1", Azure: true,
		Blue: istioprom.Version{Name: "blue", Workload: "model-blue"}, Green: istioprom.Version{Name: "green", Workload: "model-green"},
		Start: now.Add(-10 * time.Minute), End: now, SLO: time.Second}); !errors.As(err, &noSeries) {
		t.Errorf("a typo'd namespace through Azure: %v", err)
	}
}
