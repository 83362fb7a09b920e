package promtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// WorkspaceHost is the stand-in workspace's query endpoint host, shaped as Azure names one
// (https://<workspace>.<region>.prometheus.monitor.azure.com), so mlcanary treats it as Azure
// Monitor; AzureScope is the token scope that host's cloud requires.
const (
	WorkspaceHost = "k8s02-workspace-abcd.eastus.prometheus.monitor.azure.com"
	AzureScope    = "https://prometheus.monitor.azure.com/.default"
)

// Issuer is what the stand-in asks of the Microsoft Entra ID stand-in (akstest.Server): the access
// tokens it issued for a scope.
type Issuer interface {
	IssuedFor(scope string) []string
}

// AzureMonitor stands in for an Azure Monitor workspace's query endpoint in front of a real
// Prometheus: HTTPS under WorkspaceHost (its own CA), answering only bearer tokens the Entra ID
// stand-in issued for AzureScope (401 otherwise, as Azure does for a token of another audience),
// 403 while the identity lacks the Monitoring Data Reader role (SetReader), and refusing, as Azure
// Monitor's PromQL API does, what Prometheus would answer (Azure Monitor's "Query Prometheus metrics
// using the API and PromQL" and its metrics limits): a selector without a metric name or with a
// regular expression on __name__, a range over 32 days (range selectors and query_range alike),
// /series with a regular expression or over 12 hours, and endpoints other than query, query_range,
// series, labels and label/__name__/values. What passes goes to Prometheus unchanged.
type AzureMonitor struct {
	*httptest.Server
	// CA signed the server's certificate; a client must trust it.
	CA     *x509.Certificate
	issuer Issuer
	prom   *url.URL
	reader atomic.Bool
	mu     sync.Mutex
	asked  []string
}

// StartAzureMonitor starts the stand-in in front of prom, with the role granted, and stops it when
// t ends.
func StartAzureMonitor(t testing.TB, issuer Issuer, prom *Server) *AzureMonitor {
	t.Helper()
	target, err := url.Parse(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := &AzureMonitor{issuer: issuer, prom: target}
	a.reader.Store(true)
	ca, leaf, err := certificates(WorkspaceHost)
	if err != nil {
		t.Fatal(err)
	}
	a.CA = ca
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	a.StartTLS()
	t.Cleanup(a.Close)
	return a
}

// Endpoint is the workspace's query endpoint as a user gives it to mlcanary.
func (a *AzureMonitor) Endpoint() string { return "https://" + WorkspaceHost }

// SetReader grants (true) or withdraws the identity's Monitoring Data Reader role.
func (a *AzureMonitor) SetReader(granted bool) { a.reader.Store(granted) }

// Queries are the PromQL queries (and /series matchers) the stand-in passed on, in order.
func (a *AzureMonitor) Queries() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.asked)
}

// Transport reaches the stand-in for any host name (as if WorkspaceHost resolved to it) and trusts
// its CA.
func (a *AzureMonitor) Transport() *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(a.CA)
	addr := a.Listener.Addr().String()
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
}

// CAPEM is the CA certificate in PEM, for SSL_CERT_FILE.
func (a *AzureMonitor) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.CA.Raw})
}

func (a *AzureMonitor) serve(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" || !slices.Contains(a.issuer.IssuedFor(AzureScope), token) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token"`)
		azureError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is missing, invalid, or for another audience.")
		return
	}
	if !a.reader.Load() {
		azureError(w, http.StatusForbidden, "Forbidden", "The client does not have authorization to perform action "+
			"'Microsoft.Monitor/accounts/data/metrics/read' over scope '/subscriptions/sub-1/resourceGroups/rg-1/providers/"+
			"Microsoft.Monitor/accounts/k8s02-workspace-abcd' or the scope is invalid.")
		return
	}
	if err := r.ParseForm(); err != nil {
		badData(w, err.Error())
		return
	}
	if why := refused(r.URL.Path, r.Form, time.Now()); why != "" {
		badData(w, why)
		return
	}
	a.mu.Lock()
	a.asked = append(a.asked, r.Form.Get("query")+strings.Join(r.Form["match[]"], " "))
	a.mu.Unlock()
	// The form was read: send it on as a POST body (Prometheus takes either), or as GET's query
	// where Prometheus takes only GET (label values).
	body := r.Form.Encode()
	out := r.Clone(r.Context())
	out.Header.Del("Authorization")
	if strings.HasPrefix(r.URL.Path, "/api/v1/label/") {
		out.Method, out.URL.RawQuery, out.Body, out.ContentLength = http.MethodGet, body, http.NoBody, 0
	} else {
		out.Method, out.URL.RawQuery, out.ContentLength = http.MethodPost, "", int64(len(body))
		out.Body = io.NopCloser(strings.NewReader(body))
		out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(a.prom) }}
	proxy.ServeHTTP(w, out)
}

// azureError writes an Azure REST error.
func azureError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, message)
}

// badData writes a Prometheus API error, as Azure Monitor answers a query it refuses.
func badData(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, msg)
}

// certificates makes a CA and a server certificate for host and 127.0.0.1 signed by it.
func certificates(host string) (*x509.Certificate, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "promtest Azure Monitor CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return ca, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ProxyURL starts an HTTP proxy for another process to reach the stand-in under WorkspaceHost
// (Proxy with that one tunnel) and returns its URL.
func (a *AzureMonitor) ProxyURL(t testing.TB) string {
	t.Helper()
	return Proxy(t, map[string]string{a.Host(): a.Listener.Addr().String()})
}

// Host is the stand-in's host and port as a client names it: WorkspaceHost:443.
func (a *AzureMonitor) Host() string { return WorkspaceHost + ":443" }

// Proxy starts an HTTP proxy standing in for the internet of another process (HTTPS_PROXY: Go's
// clients tunnel through it with CONNECT; they never proxy loopback addresses, so local servers
// are reached directly): it tunnels each host:port of tunnels to its loopback address and refuses
// every other host. It returns the proxy's URL and stops when t ends.
func Proxy(t testing.TB, tunnels map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, ok := tunnels[r.Host]
		if r.Method != http.MethodConnect || !ok {
			http.Error(w, "this proxy does not reach "+r.Host, http.StatusForbidden)
			return
		}
		upstream, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			_ = upstream.Close()
			http.Error(w, "no hijacking", http.StatusInternalServerError)
			return
		}
		client, buf, err := hj.Hijack()
		if err != nil {
			_ = upstream.Close()
			return
		}
		if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			_ = upstream.Close()
			_ = client.Close()
			return
		}
		go func() {
			defer func() { _ = upstream.Close(); _ = client.Close() }()
			if n := buf.Reader.Buffered(); n > 0 {
				peek, _ := buf.Peek(n)
				if _, err := upstream.Write(peek); err != nil {
					return
				}
			}
			go func() { _, _ = io.Copy(upstream, client) }()
			_, _ = io.Copy(client, upstream)
		}()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
