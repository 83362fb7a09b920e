package istioprom_test

// Endpoints as brownfield users write them (kept from the #10 break-it review).

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/istioprom/promtest"
)

// TestMeasureEndpointsAsPasted: endpoints as brownfield users write them. An Azure Monitor
// workspace's query endpoint pasted with a trailing slash (and in capitals) is still Azure and still
// measured through the stand-in; a Prometheus behind an ingress under /prometheus with basic auth
// (the password from a file with a trailing newline) is measured, and a wrong password is one line
// naming neither the password nor the file's content.
func TestMeasureEndpointsAsPasted(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	prom := promtest.Run(t, promtest.Options{ScrapeInterval: 30 * time.Second, Backfill: promtest.IstioBackfill("ml",
		now.Add(-20*time.Minute), now.Add(5*time.Minute), map[string]promtest.Traffic{"blue": {OK: 40}, "green": {OK: 40}})})
	cfg := func(endpoint string, azure bool) istioprom.Config {
		return istioprom.Config{Endpoint: endpoint, Namespace: "ml", Azure: azure,
			Blue:  istioprom.Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
			Green: istioprom.Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
			Start: now.Add(-10 * time.Minute), End: now, SLO: time.Second}
	}

	t.Run("Azure endpoint with a trailing slash, in capitals", func(t *testing.T) {
		entra := akstest.Start(t)
		ws := promtest.StartAzureMonitor(t, entra, prom)
		endpoint := strings.ToUpper(ws.Endpoint()[:8]) + strings.ToUpper(ws.Endpoint()[8:]) + "/"
		endpoint = "https://" + strings.TrimPrefix(endpoint, "HTTPS://")
		scope, ok := istioprom.AzureScope(endpoint)
		if !ok || scope != promtest.AzureScope {
			t.Fatalf("%s: scope %q, %v", endpoint, scope, ok)
		}
		cred, err := azidentity.NewClientSecretCredential(entra.Tenant, entra.ClientID, entra.Secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Transport: entra.Client(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}},
			DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		api, err := istioprom.NewAzureClient(endpoint, scope, cred, ws.Transport())
		if err != nil {
			t.Fatal(err)
		}
		res, err := istioprom.Measure(context.Background(), api, cfg(endpoint, true))
		if err != nil || res.Blue.Requests != 24000 {
			t.Errorf("blue %d requests (%v), want 24000", res.Blue.Requests, err)
		}
	})

	t.Run("behind /prometheus with basic auth", func(t *testing.T) {
		target, _ := url.Parse(prom.URL)
		rp := httputil.NewSingleHostReverseProxy(target)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != "grafana" || p != "s3cr3t-pw" {
				http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
				return
			}
			if !strings.HasPrefix(r.URL.Path, "/prometheus/api/") {
				http.NotFound(w, r)
				return
			}
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/prometheus")
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		dir := t.TempDir()
		good, bad := filepath.Join(dir, "pw"), filepath.Join(dir, "wrong")
		_ = os.WriteFile(good, []byte("s3cr3t-pw\n"), 0o600)
		_ = os.WriteFile(bad, []byte("wr0ng-pw\n"), 0o600)
		for _, endpoint := range []string{front.URL + "/prometheus", front.URL + "/prometheus/"} {
			api, err := istioprom.NewClient(endpoint, istioprom.Auth{Username: "grafana", PasswordFile: good})
			if err != nil {
				t.Fatal(err)
			}
			res, err := istioprom.Measure(context.Background(), api, cfg(endpoint, false))
			if err != nil || res.Blue.Requests != 24000 {
				t.Errorf("%s: blue %d requests (%v), want 24000", endpoint, res.Blue.Requests, err)
			}
		}
		api, _ := istioprom.NewClient(front.URL+"/prometheus", istioprom.Auth{Username: "grafana", PasswordFile: bad})
		_, err := istioprom.Measure(context.Background(), api, cfg(front.URL+"/prometheus", false))
		if err == nil || strings.Contains(err.Error(), "wr0ng") || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "401") {
			t.Errorf("a wrong password: %v", err)
		}
	})
}
