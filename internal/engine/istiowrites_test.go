package engine_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// IstioWritesEnv names a directory where every VirtualService and Gateway the engine tests'
// stages write (dry runs included) is kept as the API server stored it. `make test` sets it and then
// runs tools/istiovalidate, which holds each of them to Istio's own webhook validation: whatever a
// test drives mlcanary into, Istio must admit what it wrote.
const IstioWritesEnv = "MLCANARY_ISTIO_WRITES"

var istioWrites atomic.Int64

// keepIstioWrites wraps next so successful writes of Istio objects are kept in $MLCANARY_ISTIO_WRITES.
func keepIstioWrites(t *testing.T, next http.RoundTripper) http.RoundTripper {
	dir := os.Getenv(IstioWritesEnv)
	if dir == "" {
		return next
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		istio := strings.Contains(req.URL.Path, "/virtualservices/") || strings.Contains(req.URL.Path, "/gateways/")
		if err != nil || req.Method == http.MethodGet || req.Method == http.MethodDelete || resp.StatusCode >= 300 || !istio {
			return resp, err
		}
		body, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return resp, err
		}
		name := fmt.Sprintf("%s-%d.json", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), istioWrites.Add(1))
		if werr := os.WriteFile(filepath.Join(dir, name), body, 0o644); werr != nil {
			t.Errorf("keeping an Istio write for tools/istiovalidate: %v", werr)
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
