package kube

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func urlErr(method string, err error) error {
	return &url.Error{Op: method, URL: "https://aks.example:443/apis/networking.istio.io/v1/namespaces/abtesting/virtualservices/vs", Err: err}
}

// TestExplainWriteOutcome: a write whose request may have reached the API server is never reported
// as not applied; one refused by the server, or never sent, is.
func TestExplainWriteOutcome(t *testing.T) {
	r := Request{Doing: "applying VirtualService abtesting/vs", Namespace: "abtesting", Host: "https://aks.example:443", Write: "VirtualService abtesting/vs"}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	cases := []struct {
		name   string
		err    error
		unsure bool
	}{
		{"connection reset after sending", urlErr("Patch", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{"EOF after sending", urlErr("Delete", io.EOF), true},
		{"client timeout", urlErr("Patch", timeout), true},
		{"API server 504", status(504, "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request", nil), true},
		{"etcd timeout", status(500, "InternalError", "Internal error occurred: etcdserver: request timed out", nil), true},
		{"proxy 502 page", htmlStatus(502, "502 Bad Gateway"), true},
		{"connection refused", urlErr("Patch", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), false},
		{"DNS", urlErr("Patch", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "aks.example"}}), false},
		{"untrusted certificate", urlErr("Patch", x509.UnknownAuthorityError{}), false},
		{"credential plugin", urlErr("Patch", errors.New("getting credentials: exec: executable kubelogin not found\n\nIt looks like…")), false},
		{"RBAC", forbidden(`User "alice" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "abtesting"`), false},
		{"conflict", status(409, "Conflict", "the object has been modified", nil), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Explain(c.err, r)
			msg := e.Error()
			if (e.Unsure != "") != c.unsure || strings.Contains(msg, "may have been applied") != c.unsure {
				t.Fatalf("unsure %q, want %v:\n%s", e.Unsure, c.unsure, msg)
			}
			if strings.Contains(msg, "\n") {
				t.Fatalf("more than one line:\n%s", msg)
			}
			// A read is never a write whose outcome is unknown.
			read := r
			read.Write = ""
			if e := Explain(c.err, read); e.Unsure != "" {
				t.Fatalf("a read is unsure: %s", e)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// htmlStatus is client-go's error for an HTML page answered with code (what a proxy sends).
func htmlStatus(code int, title string) error {
	body := "<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1><p>" + strings.Repeat("x", 500) + "</p></body></html>"
	// rest.Request.newUnstructuredResponseError: the body becomes a cause of type UnexpectedServerResponse.
	return apierrors.NewGenericServerResponse(code, "GET", schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}, "", body, 0, true)
}

// TestExplainCausesBeforeTheServer: what never reached the API server, or was answered by
// something else, is named as such, on one line, with its own next step.
func TestExplainCausesBeforeTheServer(t *testing.T) {
	r := Request{Doing: "checking for Istio's API", Namespace: "abtesting", Host: "https://aks.example:443"}
	cases := []struct {
		name  string
		err   error
		cause Cause
		want  []string
		not   []string
	}{
		{"exec plugin fails", urlErr("Get", errors.New("getting credentials: exec: executable kubelogin failed with exit code 1")), CauseCredentials,
			[]string{"credential plugin", "exec: executable kubelogin failed with exit code 1", "kubelogin"}, []string{"cannot reach", "firewall"}},
		{"exec plugin missing, multi-line hint", urlErr("Get", errors.New("getting credentials: exec: executable kubelogin not found\n\nIt looks like you are trying to use a client-go credential plugin that is not installed.\n\nkubelogin is not installed")), CauseCredentials,
			[]string{"exec: executable kubelogin not found"}, []string{"It looks like", "\n"}},
		{"expired certificate", urlErr("Get", x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time is after"}), CauseUnreachable,
			[]string{"certificate that has expired", "renew"}, []string{"cannot reach", "firewall"}},
		{"otherwise invalid certificate", urlErr("Get", x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}), CauseUnreachable,
			[]string{"certificate that is not valid"}, []string{"cannot reach"}},
		{"proxy 502 page", htmlStatus(502, "502 Bad Gateway"), CauseUnreachable,
			[]string{"something other than the API server answered", "502 Bad Gateway", `titled "502 Bad Gateway"`}, []string{"<html", "xxxx"}},
		{"proxy 403 page", htmlStatus(403, "Access denied"), CauseUnreachable,
			[]string{"something other than the API server answered", "403 Forbidden", `"Access denied"`}, []string{"<html", "credentials need", "RBAC", "the API server refused it"}},
		{"proxy 401 page", htmlStatus(401, "Sign in"), CauseUnreachable,
			[]string{"something other than the API server answered"}, []string{"rejected the credentials"}},
		{"429 with Retry-After", status(429, "TooManyRequests", "Too many requests, please try again later.", &metav1.StatusDetails{RetryAfterSeconds: 7}), CauseTimeout,
			[]string{"429", "retry after 7s", "wait 7s"}, []string{"a minute"}},
		{"etcd leader changed", status(500, "InternalError", "Internal error occurred: etcdserver: leader changed", nil), CauseTimeout,
			[]string{"storage (etcd)", "run the stage again"}, nil},
		{"other internal error", status(500, "InternalError", "Internal error occurred: something broke", nil), CauseOther,
			[]string{"failed with an internal error (something broke)", "run the stage again"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Explain(c.err, r)
			msg := e.Error()
			if e.Cause != c.cause {
				t.Errorf("cause %q, want %q: %s", e.Cause, c.cause, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("want %q in:\n%s", w, msg)
				}
			}
			for _, n := range c.not {
				if strings.Contains(msg, n) {
					t.Errorf("do not want %q in:\n%s", n, msg)
				}
			}
		})
	}
}

// TestExplainAgainNamesTheCommand: status, plan and verify run no stage.
func TestExplainAgainNamesTheCommand(t *testing.T) {
	err := status(401, "Unauthorized", "Unauthorized", nil)
	e := Explain(err, Request{Doing: "reading VirtualService abtesting/vs", Host: "h", Again: "run mlcanary status again"})
	if strings.Contains(e.Error(), "stage") || !strings.HasSuffix(e.Error(), "run mlcanary status again") {
		t.Fatalf("%s", e)
	}
}

// TestNoSilentRetry: a 429 with Retry-After reaches the caller at once with the wait in its Status.
func TestNoSilentRetry(t *testing.T) {
	for name, body := range map[string]string{
		"plain text (API Priority and Fairness)": "Too many requests, please try again later.\n",
		"Status":                                 `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"slow down","reason":"TooManyRequests","code":429}`,
	} {
		t.Run(name, func(t *testing.T) {
			rt := noSilentRetry{next: roundTripper(func(req *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
			})}
			req, _ := http.NewRequest(http.MethodGet, "https://h/api", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.Header.Get("Retry-After") != "" || !strings.Contains(string(b), `"retryAfterSeconds":3`) {
				t.Fatalf("header %q, body %s", resp.Header.Get("Retry-After"), b)
			}
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRolloutOfReplicaFailure: pods the API server refuses fail the rollout at once when no old
// pod could make room; while old pods remain, the wait goes on and its reason names the refusal.
func TestRolloutOfReplicaFailure(t *testing.T) {
	quota := `pods "m-5d-x" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=4, limited: requests.cpu=4`
	withFailure := func(c map[string]any) *unstructured.Unstructured {
		c["conditions"] = []any{map[string]any{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": quota}}
		return deployment(3, c)
	}
	got := RolloutOf(withFailure(counts(3, 0, 0, 0)))
	if !got.Failed || !strings.Contains(got.Reason, "exceeded quota: compute") || !strings.Contains(got.Reason, "ReplicaFailure FailedCreate") {
		t.Fatalf("no old pods: %+v", got)
	}
	got = RolloutOf(withFailure(counts(3, 2, 1, 1)))
	if got.Failed || !strings.Contains(got.Reason, "exceeded quota: compute") {
		t.Fatalf("old pods remain: %+v", got)
	}
	cleared := deployment(3, counts(3, 0, 0, 0))
	cleared.Object["status"].(map[string]any)["conditions"] = []any{map[string]any{"type": "ReplicaFailure", "status": "False", "reason": "FailedCreate", "message": quota}}
	if got := RolloutOf(cleared); got.Failed {
		t.Fatalf("a cleared condition failed the rollout: %+v", got)
	}
}

// TestUnusable: a kubeconfig that parses but cannot be used is named without quoting it.
func TestUnusable(t *testing.T) {
	cases := map[string]struct {
		rc   *rest.Config
		err  error
		want string
	}{
		"usable":                 {&rest.Config{Host: "https://h"}, nil, ""},
		"no server":              {&rest.Config{}, nil, "no server address"},
		"CA not PEM":             {&rest.Config{Host: "https://h", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("S3cret-not-a-cert")}}, nil, "certificate authority"},
		"cert file gone":         {&rest.Config{Host: "https://h", TLSClientConfig: rest.TLSClientConfig{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}}, nil, "client certificate"},
		"missing context":        {nil, fmt.Errorf("invalid configuration: [context was not found for specified context: gone]"), "current context"},
		"cluster without server": {nil, clientcmd.ErrEmptyConfig, "no cluster with a server address"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := Unusable(c.rc, c.err)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) || strings.Contains(got, "S3cret") {
				t.Fatalf("%q, want %q", got, c.want)
			}
		})
	}
}
