package aks

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"k8s.io/client-go/rest"
)

// ServerAppScope is the scope of tokens AKS clusters with Microsoft Entra ID integration accept: the
// AKS AAD server application, the same for every such cluster.
const ServerAppScope = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"

// NeedsToken reports whether cfg authenticates through an exec plugin (kubelogin) or an auth
// provider, which mlcanary replaces with a token from the connection's credential.
func NeedsToken(cfg *rest.Config) bool {
	return cfg.ExecProvider != nil || cfg.AuthProvider != nil
}

// UseToken makes cfg authenticate with Microsoft Entra ID tokens for the AKS server application from
// cred, instead of running kubelogin. It fetches the first token now so a credential problem shows
// before anything is sent to the cluster, passes it to mask, and refreshes it (masking each new one)
// when azidentity's cache renews it.
func UseToken(ctx context.Context, cfg *rest.Config, cred azcore.TokenCredential, mask func(string)) error {
	src := &tokenSource{cred: cred, mask: mask, seen: map[string]bool{}}
	if _, err := src.token(ctx); err != nil {
		return fmt.Errorf("getting a Microsoft Entra ID token for the AKS API server: %w", err)
	}
	cfg.ExecProvider, cfg.AuthProvider = nil, nil
	cfg.BearerToken, cfg.BearerTokenFile = "", ""
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &bearer{next: rt, src: src} })
	return nil
}

type tokenSource struct {
	cred azcore.TokenCredential
	mask func(string)
	mu   sync.Mutex
	seen map[string]bool
}

func (s *tokenSource) token(ctx context.Context) (string, error) {
	tk, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ServerAppScope}})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen[tk.Token] {
		s.seen[tk.Token] = true
		if s.mask != nil {
			s.mask(tk.Token)
		}
	}
	return tk.Token, nil
}

// bearer sets the Authorization header from the token source on every request (on a clone, as
// RoundTrippers must not modify the caller's request).
type bearer struct {
	next http.RoundTripper
	src  *tokenSource
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tk, err := b.src.token(req.Context())
	if err != nil {
		return nil, fmt.Errorf("getting a Microsoft Entra ID token for the AKS API server: %w", err)
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tk)
	return b.next.RoundTrip(r)
}
