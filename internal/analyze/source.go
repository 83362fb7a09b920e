package analyze

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/istioprom"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Identity is how an analysis reaches an Azure Monitor workspace: the Microsoft Entra ID
// credential asked for its tokens and the transport its queries take.
type Identity struct {
	// Credential returns the credential; nil is azidentity's default chain (environment, workload
	// identity, managed identity, Azure CLI, Azure Developer CLI). The Azure DevOps task passes its
	// Azure Resource Manager connection's.
	Credential func() (azcore.TokenCredential, error)
	// Transport carries the queries (nil: the default); tests reach a stand-in through it.
	Transport http.RoundTripper
}

// Prepare builds the Measurer in's source names for the objects cfg names, and the gate's
// Settings, judging from changedAt (the split's last change). At a split that gives green nothing
// (in.Split, Blue_100), Istio's metrics judge blue against green's traffic in the equally long
// window before changedAt (greenBefore). Paired load (--source loadtest)
// measures its own traffic, which starts now and takes each interval itself, so its settings start
// the window now and do not sleep between looks. A bad credential or client is an error; nothing
// has been sent.
func Prepare(in Inputs, cfg config.Config, changedAt time.Time, id Identity) (Measurer, Settings, error) {
	settings := Settings{ChangedAt: changedAt, Window: in.Window, Interval: in.Interval,
		MaxErrorIncrease: in.MaxErrorIncrease / 100, MaxSlowIncrease: in.MaxSlowIncrease / 100, Confidence: in.Confidence,
		Split: in.Split}
	if in.Source == SourceLoadtest {
		p := &Paired{URL: verify.BaseURL(in.Gateway) + cfg.URIPrefix, Host: verify.ExactHost(cfg.Hosts), Header: cfg.Header,
			Method: in.Method, Body: body(in.Data), Rate: in.Rate, Concurrency: in.Concurrency, Timeout: max(10*time.Second, 2*in.LatencySLO),
			Interval: in.Interval, Window: in.Window, SLO: in.LatencySLO}
		settings.ChangedAt = time.Now()
		settings.Sleep = func(context.Context, time.Duration) error { return nil }
		return p.Measure, settings, nil
	}
	api, azure, err := prometheusAPI(in, id)
	if err != nil {
		return nil, settings, err
	}
	version := func(v config.Version) istioprom.Version {
		return istioprom.Version{Name: string(v), Workload: cfg.Objects[v].Deployment, Service: cfg.Objects[v].Service}
	}
	matchers, err := in.Matchers()
	if err != nil {
		return nil, settings, err
	}
	base := istioprom.Config{Endpoint: istioprom.Redact(in.PrometheusURL), Namespace: cfg.Namespace,
		Blue: version(config.Blue), Green: version(config.Green), SLO: in.LatencySLO, Azure: azure, Matchers: matchers}
	if err := judgeable(in.Split, changedAt); err != nil {
		return nil, settings, err
	}
	if in.Split.Known && in.Split.Green == 0 && in.Split.Mirror == 0 {
		// The bake after full promotion: green serves nothing since the change, so blue is judged
		// against green's own traffic just before it.
		settings.GreenBefore = changedAt
		return greenBefore(api, base, changedAt), settings, nil
	}
	measure := func(ctx context.Context, start, end time.Time) (istioprom.Result, error) {
		c := base
		c.Start, c.End = start, end
		return istioprom.Measure(ctx, api, c)
	}
	return measure, settings, nil
}

// prometheusAPI is the API --prometheus-url names: an Azure Monitor workspace's query endpoint
// authenticates with Microsoft Entra ID tokens for its cloud's Prometheus scope (unless a token file
// or basic auth is given), anything else with the given files.
func prometheusAPI(in Inputs, id Identity) (v1.API, bool, error) {
	scope, azure := istioprom.AzureScope(in.PrometheusURL)
	if !azure || in.TokenFile != "" || in.Token != "" || in.Username != "" {
		api, err := istioprom.NewClient(in.PrometheusURL, istioprom.Auth{TokenFile: in.TokenFile, Username: in.Username,
			PasswordFile: in.PasswordFile, Token: in.Token, Password: in.Password})
		return api, azure, err
	}
	credential := id.Credential
	if credential == nil {
		credential = func() (azcore.TokenCredential, error) { return azidentity.NewDefaultAzureCredential(nil) }
	}
	cred, err := credential()
	if err != nil {
		return nil, true, fmt.Errorf("the Azure identity for the Azure Monitor workspace: %w", err)
	}
	api, err := istioprom.NewAzureClient(in.PrometheusURL, scope, cred, id.Transport)
	return api, true, err
}

// body is the paired load's request body: nil for none.
func body(data string) []byte {
	if data == "" {
		return nil
	}
	return []byte(data)
}
