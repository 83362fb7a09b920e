package istioprom

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// azureClouds maps the host suffix of an Azure Monitor workspace's query endpoint
// (https://<workspace>.<region>.prometheus.monitor.azure.com) to the Microsoft Entra ID scope its
// tokens must carry (Azure Monitor's "Query Prometheus metrics using the API and PromQL": resource
// https://prometheus.monitor.azure.com; the US Government and China clouds' suffixes as KEDA's and
// Flagger's Azure Monitor providers use them).
var azureClouds = map[string]string{
	".prometheus.monitor.azure.com": "https://prometheus.monitor.azure.com/.default",
	".prometheus.monitor.azure.us":  "https://prometheus.monitor.azure.us/.default",
	".prometheus.monitor.azure.cn":  "https://prometheus.monitor.azure.cn/.default",
}

// AzureScope is the token scope of an Azure Monitor workspace's query endpoint, and false when
// endpoint is not one (then it is a plain Prometheus).
func AzureScope(endpoint string) (string, bool) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	for suffix, scope := range azureClouds {
		if strings.HasSuffix(host, suffix) {
			return scope, true
		}
	}
	return "", false
}

// NewAzureClient returns the Prometheus HTTP API of an Azure Monitor workspace at endpoint,
// authenticated with Microsoft Entra ID tokens for scope from cred (azidentity caches and renews
// them). transport carries the requests (nil: the client library's default).
func NewAzureClient(endpoint, scope string, cred azcore.TokenCredential, transport http.RoundTripper) (v1.API, error) {
	if transport == nil {
		transport = api.DefaultRoundTripper
	}
	c, err := api.NewClient(api.Config{Address: endpoint, RoundTripper: &entraTransport{cred: cred, scope: scope, next: transport}})
	if err != nil {
		return nil, fmt.Errorf("the Azure Monitor client for %s: %w", Redact(endpoint), err)
	}
	return v1.NewAPI(c), nil
}

// entraTransport adds a bearer token for scope to each request.
type entraTransport struct {
	cred  azcore.TokenCredential
	scope string
	next  http.RoundTripper
}

// maxTokenError is how much of azidentity's (multi-line, long) error a message repeats.
const maxTokenError = 300

// aadsts is Microsoft Entra ID's own reason in an azidentity error, e.g. "AADSTS7000215: Invalid
// client secret provided. …".
var aadsts = lazyregexp.New(`AADSTS\d+:[^"\n]*`)

// tokenError is azidentity's error in one line: the credential's first line and Entra ID's AADSTS
// reason when there is one (the rest is the raw response, framed in dashes), else the whole text
// with its whitespace and dashes collapsed, cut at maxTokenError.
func tokenError(err error) string {
	text := err.Error()
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSpace(first)
	if reason := aadsts.FindString(text); reason != "" {
		return first + " " + strings.TrimSpace(reason)
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(text, "----", "")), " ")
	if len(msg) > maxTokenError {
		msg = msg[:maxTokenError] + "…"
	}
	return msg
}
func (t *entraTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tk, err := t.cred.GetToken(req.Context(), policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if err != nil {
		return nil, fmt.Errorf("getting a Microsoft Entra ID token for %s: %s", t.scope, tokenError(err))
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tk.Token)
	return unecho(t.next, r, tk.Token)
}
