package testenv

import (
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// WithoutGroup serves the API server, as admin, through a TLS proxy that makes API group group
// look not installed: every request under /apis/GROUP/ is sent to a group no CRD defines
// (GROUP.unserved.invalid), so the real API server answers it exactly as it answers a request
// for a resource whose CRD is not installed (404 Not Found). A test can then run a path that
// depends on a CRD being absent (KEDA's ScaledObjects) on the shared API server, where another
// test may have installed that CRD. The returned config reaches the proxy.
func (e *Env) WithoutGroup(t testing.TB, group string) *rest.Config {
	t.Helper()
	prefix := "/apis/" + group + "/"
	return e.AdminProxy(t, nil, func(proxy http.Handler, w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok {
			r.URL.Path = "/apis/" + group + ".unserved.invalid/" + rest
			r.URL.RawPath = ""
		}
		proxy.ServeHTTP(w, r)
	})
}
