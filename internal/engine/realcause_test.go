package engine_test

// Regression tests for issue #14 ("every failure names its real cause"): each case was a fault a
// break-it review found (a cause misnamed, a misleading next step, a line that hid what changed).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/testenv"
)

// stageWith runs stage (from the state path from) with credentials rc and returns the error line
// and the error.
func stageWith(t *testing.T, f *fixture, from []string, stage string, rc *rest.Config) (string, error) {
	t.Helper()
	f.reach(from)
	c := f.cfg(stage, imgC)
	if stage != "Blue_0" {
		c.Image = ""
	}
	cl := f.cl
	if rc != nil {
		cl = f.client(rc)
	}
	f.rec.reset()
	_, err := cl.Stage(context.Background(), c, t.Logf)
	f.rec.assertSafe(t)
	if err == nil {
		t.Fatalf("%s succeeded", stage)
	}
	t.Logf("line: %s", err)
	return err.Error(), err
}

// A kubeconfig whose exec credential plugin fails (kubelogin, aws-iam-authenticator, gke-gcloud-
// auth-plugin: the normal AKS/EKS/GKE kubeconfig) never reaches the network: the credentials could
// not be obtained. The line must not send the user to check addresses, firewalls and private
// clusters.
func TestCauseExecPluginFailureIsACredentialProblem(t *testing.T) {
	f := newFixture(t)
	rc := &rest.Config{Host: env.Config.Host, TLSClientConfig: rest.TLSClientConfig{CAData: env.Config.CAData},
		ExecProvider: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "false",
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	msg, err := stageWith(t, f, nil, "Blue_0", rc)
	if kube.CauseOf(err) != kube.CauseCredentials || strings.Contains(msg, "cannot reach") || strings.Contains(msg, "firewall") {
		t.Fatalf("cause %q:\n%s\nwant cause %q: the credential plugin failed, the server was never asked", kube.CauseOf(err), msg, kube.CauseCredentials)
	}
}

// The exec plugin that is not installed (kubelogin missing on a hosted agent, the first thing an
// AKS user meets): client-go's error carries the kubeconfig's installHint, which is multi-line.
func TestCauseExecPluginMissingIsOneLine(t *testing.T) {
	f := newFixture(t)
	rc := &rest.Config{Host: env.Config.Host, TLSClientConfig: rest.TLSClientConfig{CAData: env.Config.CAData},
		ExecProvider: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "kubelogin-not-installed-test",
			InstallHint:     "kubelogin is not installed\nwhich is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin",
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	msg, err := stageWith(t, f, nil, "Blue_0", rc)
	if strings.Contains(msg, "\n") || kube.CauseOf(err) != kube.CauseCredentials || strings.Contains(msg, "cannot reach") {
		t.Fatalf("cause %q, %d lines:\n%s\nwant one line, cause %q", kube.CauseOf(err), strings.Count(msg, "\n")+1, msg, kube.CauseCredentials)
	}
}

// htmlAnswer answers every request with status code and an HTML page, as a corporate proxy, an
// Azure Application Gateway / private-link front or a load balancer in front of the API server does.
func htmlAnswer(code int, title string) func(*http.Request) *http.Response {
	return func(req *http.Request) *http.Response {
		body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
		return &http.Response{StatusCode: code, Status: title, Header: http.Header{"Content-Type": {"text/html"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	}
}

// A proxy in front of the API server answers 502 with an HTML page: nothing reached the API
// server. The line gets no next step (CauseOther) and carries the proxy's HTML.
func TestCauseProxyBadGatewayHTML(t *testing.T) {
	f := newFixture(t)
	f.rec.answer = htmlAnswer(http.StatusBadGateway, "502 Bad Gateway")
	c := f.cfg("Blue_0", imgC)
	_, err := f.cl.Stage(context.Background(), c, t.Logf)
	msg := ""
	if err != nil {
		msg = err.Error()
		t.Logf("line: %s", msg)
	}
	if kube.CauseOf(err) != kube.CauseUnreachable || strings.Contains(msg, "<html") || !strings.Contains(msg, "run the stage again") {
		t.Fatalf("cause %q:\n%s\nwant cause %q (a proxy or gateway in front of the API server answered 502), no HTML, and a next step", kube.CauseOf(err), msg, kube.CauseUnreachable)
	}
}

// A proxy in front of the API server refuses with an HTML 403 (a corporate proxy's deny page, an
// authorized-IP-ranges front): the line says "the API server refused it: <html>…" and points at
// Kubernetes permissions, though the API server never saw the request.
func TestCauseProxyForbiddenHTMLIsNotTheAPIServer(t *testing.T) {
	f := newFixture(t)
	f.rec.answer = htmlAnswer(http.StatusForbidden, "403 Forbidden")
	c := f.cfg("Blue_0", imgC)
	_, err := f.cl.Stage(context.Background(), c, t.Logf)
	msg := ""
	if err != nil {
		msg = err.Error()
		t.Logf("line: %s", msg)
	}
	if strings.Contains(msg, "the API server refused it") || strings.Contains(msg, "credentials need") || strings.Contains(msg, "<html") {
		t.Fatalf("cause %q:\n%s\nwant: not blamed on the API server or on RBAC, no HTML page in the line", kube.CauseOf(err), msg)
	}
}

// lostResponse forwards a matching write to the API server (which commits it) and then loses the
// answer, as when a proxy, a NAT or the API server's own restart resets the connection after the
// request was sent.
type lostResponse struct {
	next  http.RoundTripper
	match func(*http.Request) bool
	lost  atomic.Bool
}

func (l *lostResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err == nil && l.match(req) && !l.lost.Swap(true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// Blue_50 moves the default route; the API server commits the VirtualService but the answer is
// lost. The line says "nothing was changed" while traffic has in fact moved to 50 % blue.
func TestCauseLostAnswerToTrafficMoveIsNotNothingChanged(t *testing.T) {
	f := newFixture(t)
	f.reach(states[4].path) // Blue_0
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &lostResponse{next: rt, match: func(r *http.Request) bool {
			return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/virtualservices/") && !strings.Contains(r.URL.RawQuery, "dryRun")
		}}
	})
	cl := f.client(rc)
	c := f.cfg("Blue_50", "")
	_, err := cl.Stage(context.Background(), c, t.Logf)
	if err == nil {
		t.Fatal("Blue_50 succeeded")
	}
	msg := err.Error()
	t.Logf("line: %s", msg)
	routing, _ := f.live()
	moved := routing.References(config.Blue)
	t.Logf("blue routed after the failure: %v", moved)
	if moved && strings.HasSuffix(msg, "nothing was changed") {
		t.Fatalf("the VirtualService was written (blue now takes traffic) but the line says:\n%s\nwant it to say the write's outcome is unknown / the VirtualService may have changed", msg)
	}
}

// Green_100 after Blue_Green: credentials that may not delete Deployments. Traffic is already on
// green when the delete is refused; the line must say so ("already changed: VirtualService …").
func TestCauseGreen100RefusedAtDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	must(t, env.GrantRole(ctx, f.ns, "nodelete-"+f.ns, testenv.RulesWithout("deployments", "delete")))
	rc, err := env.UserConfig("nodelete-" + f.ns)
	must(t, err)
	msg, err := stageWith(t, f, states[7].path, "Green_100", rc)
	routing, _ := f.live()
	if kube.CauseOf(err) != kube.CauseRBAC || !strings.Contains(msg, "delete deployments.apps") {
		t.Fatalf("cause %q:\n%s\nwant RBAC naming delete on deployments.apps", kube.CauseOf(err), msg)
	}
	if routing.References(config.Blue) {
		t.Fatalf("blue still routed after Green_100 stopped at its delete step:\n%s", msg)
	}
	if !strings.Contains(msg, "already changed: VirtualService") {
		t.Fatalf("traffic moved to green but the line does not say the VirtualService changed:\n%s", msg)
	}
}

// The token is revoked while the stage waits for blue's rollout: blue's Deployment was already
// updated. The line must name the credentials and list the Deployment as changed.
func TestCauseTokenRevokedDuringRollout(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	var revoked atomic.Bool
	f.rec.answer = func(req *http.Request) *http.Response {
		if !revoked.Load() {
			return nil
		}
		body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
		return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}
	}
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	c := f.cfg("Blue_0", imgC)
	done := make(chan error, 1)
	go func() { _, err := f.cl.Stage(context.Background(), c, t.Logf); done <- err }()
	eventually(t, "blue has its new image", func() bool { _, images := f.live(); return images[config.Blue] == imgC })
	revoked.Store(true)
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Blue_0 did not end")
	}
	if err == nil {
		t.Fatal("Blue_0 succeeded")
	}
	msg := err.Error()
	t.Logf("line: %s", msg)
	if kube.CauseOf(err) != kube.CauseCredentials || !strings.Contains(msg, "Deployment "+f.ns+"/model-blue created") {
		t.Fatalf("cause %q:\n%s\nwant credentials, and blue's Deployment listed as changed", kube.CauseOf(err), msg)
	}
}

var _ = errors.New

// The kubeconfig's server is not (or not only) a Kubernetes API server: a wrong port or path, an
// ingress, a Rancher-style proxy path for a cluster id that no longer exists. Every request answers
// "404 page not found". The line tells the user to install Istio in a cluster it never reached.
func TestCauseNotAnAPIServerIsNotMissingIstio(t *testing.T) {
	f := newFixture(t)
	f.rec.answer = func(req *http.Request) *http.Response {
		body := "404 page not found\n"
		return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found", Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	}
	c := f.cfg("Blue_0", imgC)
	_, err := f.cl.Stage(context.Background(), c, t.Logf)
	msg := ""
	if err != nil {
		msg = err.Error()
		t.Logf("line: %s", msg)
	}
	if strings.Contains(msg, "install Istio") || kube.CauseOf(err) == "" {
		t.Fatalf("cause %q:\n%s\nwant a classified cause saying the server did not answer as a Kubernetes API server (check the server address), not advice to install Istio", kube.CauseOf(err), msg)
	}
}

// API Priority and Fairness sheds load with 429 and Retry-After. client-go sleeps Retry-After and
// retries (10 times) before the stage sees the 429, printing nothing meanwhile; the line then says
// "wait a minute" whatever the server asked for. With Retry-After: 2 the first request alone takes
// ~20 s of silence.
func TestCauseTooManyRequestsRetryAfter(t *testing.T) {
	f := newFixture(t)
	var seen atomic.Int32
	f.rec.answer = func(req *http.Request) *http.Response {
		seen.Add(1)
		body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":2},"code":429}`
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"2"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}
	}
	c := f.cfg("Blue_0", imgC)
	start := time.Now()
	_, err := f.cl.Stage(context.Background(), c, t.Logf)
	took := time.Since(start)
	msg := ""
	if err != nil {
		msg = err.Error()
		t.Logf("line: %s", msg)
	}
	t.Logf("%d requests in %s: %s", seen.Load(), took.Round(time.Second), msg)
	if took > 10*time.Second || !strings.Contains(msg, "2s") && !strings.Contains(msg, "2 s") {
		t.Fatalf("took %s for %d requests, cause %q:\n%s\nwant a prompt failure (or progress lines) and the line to say when to retry (Retry-After: 2s)", took.Round(time.Second), seen.Load(), kube.CauseOf(err), msg)
	}
}

// The most common quota/policy refusal on a brownfield cluster does not come back from mlcanary's
// own write: a ResourceQuota on requests.cpu/limits.memory, a LimitRange (README: kube-apiserver
// applies it to Pods, not to Deployments) or Pod Security admission refuses the *pods* the
// ReplicaSet creates. The Deployment controller reports it on the Deployment as condition
// ReplicaFailure (reason FailedCreate, the API server's message). Here the status is written as the
// real controller writes it; the stage waits its whole timeout and then names neither the quota
// nor the condition.
func TestCausePodQuotaRefusalDuringRolloutIsNamed(t *testing.T) {
	f := newFixture(t)
	f.reach(states[3].path)
	ctx := context.Background()
	ctrl.Hold(f.ns, "model-blue")
	defer ctrl.Release(f.ns, "model-blue")
	quota := `pods "model-blue-6d4cf56db6-x7k2p" is forbidden: exceeded quota: compute-resources, requested: requests.cpu=500m, used: requests.cpu=4, limited: requests.cpu=4`
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			d, err := env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).Get(ctx, "model-blue", metav1.GetOptions{})
			if err != nil {
				continue
			}
			now := time.Now().UTC().Format(time.RFC3339)
			d.Object["status"] = map[string]any{"observedGeneration": d.GetGeneration(), "replicas": int64(0), "unavailableReplicas": int64(1),
				"conditions": []any{
					map[string]any{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability.", "lastUpdateTime": now, "lastTransitionTime": now},
					map[string]any{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": quota, "lastUpdateTime": now, "lastTransitionTime": now},
					map[string]any{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": `ReplicaSet "model-blue-6d4cf56db6" is progressing.`, "lastUpdateTime": now, "lastTransitionTime": now},
				}}
			_, _ = env.Dynamic.Resource(kube.Deployments).Namespace(f.ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}) // a conflict is retried on the next tick
		}
	}()
	c := f.cfg("Blue_0", imgC)
	c.Timeout = 3 * time.Second
	_, err := f.cl.Stage(ctx, c, t.Logf)
	if err == nil {
		t.Fatal("Blue_0 succeeded")
	}
	msg := err.Error()
	t.Logf("line: %s", msg)
	if !strings.Contains(msg, "exceeded quota: compute-resources") {
		t.Fatalf("cause %q:\n%s\nwant the line to name the ResourceQuota that refuses blue's pods (the Deployment's ReplicaFailure condition), with its next step", kube.CauseOf(err), msg)
	}
}

// The API server's serving certificate has expired (kubeadm and k3s certificates expire after a
// year unless rotated; a very common outage of self-managed clusters). The line says the server
// cannot be reached and sends the user to the address, the network and the firewall; it should
// say the server's certificate expired (or is not valid) — a TLS trust problem, like the unknown
// authority and the wrong host name which are already told apart.
func TestCauseExpiredServerCertificate(t *testing.T) {
	f := newFixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-400 * 24 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	rc := &rest.Config{Host: srv.URL, BearerToken: "t", TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	msg, err := stageWith(t, f, nil, "Blue_0", rc)
	if strings.Contains(msg, "cannot reach") || strings.Contains(msg, "firewall") || !strings.Contains(msg, "certificate") {
		t.Fatalf("cause %q:\n%s\nwant the line to name the server's expired certificate and send the user to renew it, not to the network", kube.CauseOf(err), msg)
	}
}

// The API server's etcd is slow or changing leader (common on small or overloaded control planes):
// kube-apiserver answers 500 InternalError "etcdserver: request timed out" / "leader changed". The
// line relays the words with no cause and no next step, though this is the server timing out and
// running the stage again is the answer.
func TestCauseEtcdTimeoutHasANextStep(t *testing.T) {
	for _, words := range []string{"etcdserver: request timed out", "etcdserver: leader changed"} {
		t.Run(words, func(t *testing.T) {
			f := newFixture(t)
			f.rec.answer = func(req *http.Request) *http.Response {
				body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: ` + words + `","reason":"InternalError","details":{"causes":[{"message":"` + words + `"}]},"code":500}`
				return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}
			}
			_, err := f.cl.Stage(context.Background(), f.cfg("Blue_0", imgC), t.Logf)
			msg := ""
			if err != nil {
				msg = err.Error()
				t.Logf("line: %s", msg)
			}
			if kube.CauseOf(err) == kube.CauseOther || !strings.Contains(msg, "run the stage again") {
				t.Fatalf("cause %q:\n%s\nwant the server's timeout named (cause timeout/unreachable) with a next step", kube.CauseOf(err), msg)
			}
		})
	}
}

// Green_100 deletes blue's Deployment after moving traffic; the API server deletes it but the
// answer is lost. The line must say the delete may have been applied, and still list the
// VirtualService as changed.
func TestCauseLostAnswerToDeleteIsUnknownOutcome(t *testing.T) {
	f := newFixture(t)
	f.reach(states[7].path)
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &lostResponse{next: rt, match: func(r *http.Request) bool {
			return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/deployments/") && !strings.Contains(r.URL.RawQuery, "dryRun")
		}}
	})
	_, err := f.client(rc).Stage(context.Background(), f.cfg("Green_100", ""), t.Logf)
	if err == nil {
		t.Fatal("Green_100 succeeded")
	}
	msg := err.Error()
	t.Logf("line: %s", msg)
	if !strings.Contains(msg, "deleting Deployment "+f.ns+"/model-blue") || !strings.Contains(msg, "this Deployment delete may have been applied") ||
		!strings.Contains(msg, "already changed: VirtualService") || strings.Contains(msg, "nothing was changed") {
		t.Fatalf("the line does not say the delete's outcome is unknown:\n%s", msg)
	}
}

// While the stage waits for blue's rollout, the API server sheds load (429 with Retry-After): the
// wait says so and polls again, and the stage completes, rather than failing a rollout that
// finishes or stalling silently.
func TestCauseTooManyRequestsWhileWaitingIsRetriedAloud(t *testing.T) {
	f := newFixture(t)
	var applied atomic.Bool
	var refused atomic.Int32
	f.rec.answer = func(req *http.Request) *http.Response {
		if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/deployments/model-blue") && !strings.Contains(req.URL.RawQuery, "dryRun") {
			applied.Store(true)
			return nil
		}
		if !applied.Load() || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/deployments/model-blue") || refused.Add(1) > 2 {
			return nil
		}
		body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","code":429}`
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}
	}
	var lines []string
	log := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	if _, err := f.cl.Stage(context.Background(), f.cfg("Blue_0", imgC), log); err != nil {
		t.Fatalf("Blue_0: %v\n%s", err, strings.Join(lines, "\n"))
	}
	said := strings.Join(lines, "\n")
	if refused.Load() < 2 || !strings.Contains(said, "429 Too Many Requests; it asks to retry after 1s") {
		t.Fatalf("%d polls refused; progress lines:\n%s\nwant the 429 and its Retry-After said while waiting", refused.Load(), said)
	}
}
