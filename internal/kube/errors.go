package kube

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Cause is what refused (or failed) a request to the API server. The front ends print the same
// sentence for each; callers tell the causes apart with CauseOf.
type Cause string

// The causes Explain tells apart, each with its own sentence and next step.
const (
	// CauseRBAC: the authorizer refused the credentials a verb on a resource
	// (`User "x" cannot patch resource "deployments" in API group "apps" in the namespace "ns"`).
	CauseRBAC Cause = "rbac"
	// CauseAdmission: a ValidatingAdmissionPolicy or an admission webhook denied the object (or the
	// webhook could not be called). Not a permission problem.
	CauseAdmission Cause = "admission"
	// CauseQuota: a ResourceQuota of the namespace is exhausted (`exceeded quota: …`) or requires
	// something the object lacks (`failed quota: …`).
	CauseQuota Cause = "quota"
	// CauseLimitRange: a LimitRange of the namespace refused the resources asked for.
	CauseLimitRange Cause = "limitrange"
	// CauseConflict: someone else changed the object between read and write (optimistic lock), or
	// another field manager owns a field (server-side apply conflict).
	CauseConflict Cause = "conflict"
	// CauseNotFound: the object, its namespace or its resource type does not exist.
	CauseNotFound Cause = "not-found"
	// CauseInvalid: the object breaks a validation rule of the API server (422; field and rule).
	CauseInvalid Cause = "invalid"
	// CauseNamespaceTerminating: the namespace is being deleted, so nothing can be created in it.
	CauseNamespaceTerminating Cause = "namespace-terminating"
	// CauseBeingDeleted: the object is being deleted (it has a deletionTimestamp).
	CauseBeingDeleted Cause = "being-deleted"
	// CauseUnreachable: no answer at all: connection refused, DNS, TLS trust, 503.
	CauseUnreachable Cause = "unreachable"
	// CauseTimeout: the API server did not answer in time (504, a request timeout, 429).
	CauseTimeout Cause = "timeout"
	// CauseCredentials: the API server did not accept the credentials (401: expired or revoked
	// token, a client certificate it does not trust).
	CauseCredentials Cause = "credentials"
	// CauseForbidden: a 403 none of the forms above explains; the server's message is relayed.
	CauseForbidden Cause = "forbidden"
	// CauseInterrupted: the run itself stopped the request (Ctrl-C, the stage's deadline).
	CauseInterrupted Cause = "interrupted"
	// CauseOther: anything else; the server's message is relayed.
	CauseOther Cause = "other"
)

// APIError is a failed request to the API server, explained by what refused it. Its message is
// one line: "<Doing>: <Reason>; <Next>".
type APIError struct {
	Cause Cause
	// Doing is what was being done, e.g. "applying Deployment abtesting/model-blue".
	Doing string
	// Namespace the request was about ("" for cluster-scoped requests).
	Namespace string
	// Reason says what refused the request and why, quoting the server where it helps.
	Reason string
	// Next is one sentence saying what to do next ("" when the run was interrupted).
	Next string
	// Err is the error from the client.
	Err error
	// Unsure names the object whose write may have been applied although the request failed (its
	// answer was lost: a reset connection, a timeout after sending, a proxy's 502/504); "" when the
	// write certainly was not applied or the request was a read.
	Unsure string
	// hinted: Client.hint has added what it knows of Namespace (or found nothing to add).
	hinted bool
}

func (e *APIError) Error() string {
	s := e.Doing + ": " + e.Reason
	if e.Unsure != "" {
		what := "write"
		if strings.HasPrefix(e.Doing, "deleting ") {
			what = "delete"
		}
		s += ", so this " + strings.Fields(e.Unsure)[0] + " " + what + " may have been applied (its outcome is unknown)"
	}
	if e.Next != "" {
		s += "; " + e.Next
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

// CauseOf returns the cause of the first *APIError in err's chain, or "" when there is none.
func CauseOf(err error) Cause {
	var a *APIError
	if errors.As(err, &a) {
		return a.Cause
	}
	return ""
}

// IsForbidden reports whether err is the authorizer (RBAC) refusing the credentials a permission,
// as opposed to an admission policy, a quota or a terminating namespace, which also answer 403.
func IsForbidden(err error) bool { return CauseOf(err) == CauseRBAC }

// Request is what Explain needs to know about the request that failed.
type Request struct {
	// Doing is what was being done, e.g. "applying Deployment abtesting/model-blue".
	Doing string
	// Namespace the request was about ("" for cluster-scoped reads).
	Namespace string
	// Host is the API server's address with any user and password removed.
	Host string
	// Interrupted is set when the run's own context has ended, so a deadline or cancellation is
	// the run stopping, not the server being slow.
	Interrupted bool
	// Write names the object a write request changes, e.g. "VirtualService abtesting/model-vs"
	// ("" for reads and dry runs). When the request may have reached the API server but its answer
	// was lost, the error says the write's outcome is unknown (APIError.Unsure).
	Write string
	// Again is the next step's "run it again" for the command that failed (default "run the stage
	// again"; status and verify say their own command).
	Again string
}

// The permissions README documents; repeated wherever RBAC refuses something.
const neededVerbs = "the credentials need get, list, create, patch and delete on Deployments, Services, Gateways and VirtualServices and get, create and update on Leases (coordination.k8s.io, the namespace's lock) in namespace %q (a Role there is enough), and get on the namespace"

// Explain turns err from a request into an *APIError naming what refused it and what to do next.
// It is pure: it reads err (a *apierrors.StatusError's Status — reason, code, message and
// details.causes — or a url/net error) and r, and sends nothing.
func Explain(err error, r Request) *APIError {
	e := explain(err, r)
	if r.Write != "" && !certainlyNotApplied(err, e.Cause) {
		e.Unsure = r.Write
	}
	if r.Again != "" {
		e.Next = strings.ReplaceAll(e.Next, "run the stage again", r.Again)
	}
	return e
}

func explain(err error, r Request) *APIError {
	e := &APIError{Doing: r.Doing, Namespace: r.Namespace, Err: err, Cause: CauseOther}
	if st, ok := statusOf(err); ok {
		e.Cause, e.Reason, e.Next = fromStatus(st, r)
		return e
	}
	var urlErr *url.Error
	var netErr net.Error
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.Canceled) || r.Interrupted && errors.Is(err, context.DeadlineExceeded):
		e.Cause, e.Reason = CauseInterrupted, unwrapURL(err).Error()
	case credentialPlugin(err) != "":
		// client-go's exec authenticator: "getting credentials: exec: executable X failed with exit
		// code 1" or "… not found" followed by a multi-line install hint; nothing was sent.
		e.Cause = CauseCredentials
		e.Reason = "could not get credentials from the kubeconfig's credential plugin, so the API server was never asked (" + credentialPlugin(err) + ")"
		e.Next = "install the credential plugin the kubeconfig names and log in with it (kubelogin for AKS: az login, kubelogin convert-kubeconfig -l azurecli; aws CLI for EKS; gke-gcloud-auth-plugin for GKE), or use a service connection or kubeconfig with a token, then run the stage again"
	case errors.As(err, &invalidCert):
		e.Cause = CauseUnreachable
		if invalidCert.Reason == x509.Expired {
			e.Reason = fmt.Sprintf("the API server at %s presented a certificate that has expired or is not yet valid (%v)", r.Host, unwrapURL(err))
			e.Next = "renew the cluster's serving certificate (kubeadm certs renew all, k3s certificate rotate; hosted clusters: rotate the cluster's certificates) or correct this machine's clock, then run the stage again"
		} else {
			e.Reason = fmt.Sprintf("the API server at %s presented a certificate that is not valid (%v)", r.Host, unwrapURL(err))
			e.Next = "check the cluster's serving certificate and the certificate authority in the kubeconfig or service connection, then run the stage again"
		}
	case errors.As(err, &unknownCA) || errors.As(err, &hostname):
		e.Cause = CauseUnreachable
		e.Reason = fmt.Sprintf("the API server at %s presented a certificate this client does not trust (%v)", r.Host, unwrapURL(err))
		e.Next = "check the certificate authority in the kubeconfig or service connection, and the server address"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		e.Cause = CauseTimeout
		e.Reason = fmt.Sprintf("the API server at %s did not answer in time (%v)", r.Host, unwrapURL(err))
		e.Next = "check that the cluster is up and reachable from this machine, then run the stage again"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		// The connection was made and the request sent, then dropped: an API server restarting, a
		// proxy's or NAT's idle timeout. The server may have acted on it (Unsure for a write).
		e.Cause = CauseUnreachable
		e.Reason = fmt.Sprintf("the connection to the API server at %s broke before its answer arrived (%v)", r.Host, unwrapURL(err))
		e.Next = "the API server, a proxy or the network dropped it (a control-plane restart, an idle timeout): run the stage again, it starts from what holds"
	case errors.As(err, &urlErr) || errors.As(err, &netErr):
		e.Cause = CauseUnreachable
		e.Reason = fmt.Sprintf("cannot reach the API server at %s (%v)", r.Host, unwrapURL(err))
		e.Next = "check the server address in the kubeconfig or service connection and that the cluster is running and reachable from this machine (network, firewall, private cluster), then run the stage again"
	default:
		e.Reason = err.Error()
	}
	e.Reason = oneLine(e.Reason, 1000)
	return e
}

// credentialPlugin returns the first line of an exec credential plugin's failure in err (client-go
// prefixes it "getting credentials: "), or "" when err is not one. The install hint client-go
// appends on later lines is dropped: an error stays one line.
func credentialPlugin(err error) string {
	msg := err.Error()
	_, rest, ok := strings.Cut(msg, "getting credentials: ")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(first)
}

// certainlyNotApplied reports whether a failed write can be known not to have changed anything:
// the API server answered with a refusal, or the request failed before it was sent (no
// connection, no credentials, a certificate not trusted). A reset connection, a timeout, a
// proxy's 502 or 504 or the API server's own timeout (504, etcd timing out) leave it unknown.
func certainlyNotApplied(err error, cause Cause) bool {
	if st, ok := statusOf(err); ok {
		switch {
		case st.Code == http.StatusGatewayTimeout || st.Code == http.StatusBadGateway,
			st.Reason == metav1.StatusReasonTimeout, st.Reason == metav1.StatusReasonServerTimeout,
			st.Code >= 500 && cause == CauseTimeout: // etcd timed out or changed leader mid-write
			return false
		}
		return true
	}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	return cause == CauseCredentials || errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalidCert)
}

func unwrapURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// serverMessage is the API server's message without the `<resource> "<name>" is forbidden: ` (or
// `Internal error occurred: `) prefix the server puts in front of the refusal itself.
func serverMessage(msg string) string {
	if _, rest, ok := strings.Cut(msg, " is forbidden: "); ok {
		msg = rest
	}
	msg = strings.TrimPrefix(msg, "Internal error occurred: ")
	return strings.Join(strings.Fields(msg), " ") // one line, whatever the server sent
}

// resourceName is "deployments.apps" for group "apps", "services" for the core group.
func resourceName(resource, group string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// DeletionDetail is " (since 2026-11-29T17:00:00Z, waiting for finalizers a, b)" for an object
// with a deletionTimestamp (the finalizers part only when it has some), "" otherwise. Kubernetes
// keeps such an object only until its finalizers finish
// (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/).
func DeletionDetail(obj *unstructured.Unstructured) string {
	ts := obj.GetDeletionTimestamp()
	if ts == nil {
		return ""
	}
	s := " (since " + ts.UTC().Format(time.RFC3339)
	if f := obj.GetFinalizers(); len(f) > 0 {
		s += ", waiting for finalizers " + strings.Join(f, ", ")
	}
	return s + ")"
}

// BeingDeleted is the refusal to write obj while it is being deleted (it has a deletionTimestamp
// and waits for its finalizers): the API server would accept the write, but the object disappears
// once the finalizers finish, so a stage must not wait for it or route to it.
func BeingDeleted(doing string, obj *unstructured.Unstructured) *APIError {
	return &APIError{Cause: CauseBeingDeleted, Doing: doing, Reason: "it is being deleted" + DeletionDetail(obj),
		Next: "wait until it is gone (or remove the finalizers that hold it), then run the stage again"}
}
