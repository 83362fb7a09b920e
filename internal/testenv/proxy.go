package testenv

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/kube"
)

// RaceProxy serves the API server through a TLS proxy that authenticates as admin. Before it
// forwards the first request for which match is true, it calls race: another client's write that
// lands just before this one, the way a second pipeline run or a person interleaves. The returned
// config reaches the proxy.
func (e *Env) RaceProxy(t testing.TB, match func(*http.Request) bool, race func()) *rest.Config {
	t.Helper()
	var once sync.Once
	return e.AdminProxy(t, nil, func(proxy http.Handler, w http.ResponseWriter, r *http.Request) {
		if match(r) {
			once.Do(race)
		}
		proxy.ServeHTTP(w, r)
	})
}

// AdminProxy serves the API server through a TLS proxy that authenticates as admin, until the
// test ends: serve handles each request and passes it on through proxy (after changing it, or
// not); modify, when not nil, sees each answer before it returns to the client
// (httputil.ReverseProxy.ModifyResponse; its request is the one serve passed on). The returned
// config reaches the proxy.
func (e *Env) AdminProxy(t testing.TB, modify func(*http.Response) error, serve func(proxy http.Handler, w http.ResponseWriter, r *http.Request)) *rest.Config {
	t.Helper()
	upstream, err := url.Parse(e.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.Transport = transport
	proxy.ModifyResponse = modify
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(proxy, w, r) }))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: certPEM(srv)}}
}

func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// WriteKubeconfig writes rc (server, CA, client certificate or bearer token) as a kubeconfig file,
// for tests that drive the binary the way a user does.
func WriteKubeconfig(t testing.TB, rc *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	kc.AuthInfos["test"] = &clientcmdapi.AuthInfo{ClientCertificateData: rc.CertData, ClientKeyData: rc.KeyData, Token: rc.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test"}
	kc.CurrentContext = "test"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// RaceVirtualService is RaceProxy where someone else changes VirtualService ns/name's spec (its
// gateways) just before the stage's own write of it reaches the API server.
func (e *Env) RaceVirtualService(t testing.TB, ns, name string) *rest.Config {
	t.Helper()
	vss := e.Dynamic.Resource(kube.VirtualServices).Namespace(ns)
	return e.RaceProxy(t, func(r *http.Request) bool {
		return r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/virtualservices/"+name)
	}, func() {
		ctx := context.Background()
		vs, err := vss.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			if err = unstructured.SetNestedStringSlice(vs.Object, []string{"mlmodel-gateway", "mesh"}, "spec", "gateways"); err == nil {
				_, err = vss.Update(ctx, vs, metav1.UpdateOptions{})
			}
		}
		if err != nil {
			t.Errorf("the racing write: %v", err)
		}
	})
}
