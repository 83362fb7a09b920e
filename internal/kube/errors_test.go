package kube

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var deploymentsGR = schema.GroupResource{Group: "apps", Resource: "deployments"}

// status builds the StatusError kube-apiserver sends, the way its handlers build it.
func status(code int32, reason metav1.StatusReason, msg string, details *metav1.StatusDetails) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg, Details: details}}
}

// forbidden is apierrors.NewForbidden as admission.NewForbidden and the authorizer call it.
func forbidden(msg string) *apierrors.StatusError {
	return apierrors.NewForbidden(deploymentsGR, "model-blue", errors.New(msg))
}

// policyDenied is how admission/plugin/policy/validating reports a denial: Forbidden's message
// with the reason the validation names (Invalid by default) and the message as a cause.
func policyDenied(reason metav1.StatusReason, code int32) error {
	msg := "ValidatingAdmissionPolicy 'require-memory-limit' with binding 'require-memory-limit-abtesting' denied request: every container needs resources.limits.memory"
	err := forbidden(msg)
	err.ErrStatus.Reason, err.ErrStatus.Code = reason, code
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Message: msg})
	return err
}

func TestExplain(t *testing.T) {
	r := Request{Doing: "applying Deployment abtesting/model-blue", Namespace: "abtesting", Host: "https://aks.example:443"}
	terminating := forbidden("unable to create new content in namespace abtesting because it is being terminated")
	terminating.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: "NamespaceTerminating", Message: "namespace abtesting is being terminated", Field: "metadata.namespace"}}
	beingDeleted := apierrors.NewAlreadyExists(deploymentsGR, "model-blue")
	beingDeleted.ErrStatus.Message = "object is being deleted: " + beingDeleted.ErrStatus.Message
	tests := []struct {
		name        string
		err         error
		interrupted bool
		cause       Cause
		want        string // the whole message
	}{
		{"RBAC", forbidden(`User "system:serviceaccount:abtesting:pipeline" cannot patch resource "deployments" in API group "apps" in the namespace "abtesting"`), false, CauseRBAC,
			`applying Deployment abtesting/model-blue: RBAC does not allow user "system:serviceaccount:abtesting:pipeline" to patch deployments.apps in namespace "abtesting"; the credentials need get, list, create, patch and delete on Deployments, Services, Gateways and VirtualServices and get, create and update on Leases (coordination.k8s.io, the namespace's lock) in namespace "abtesting" (a Role there is enough), and get on the namespace`},
		{"RBAC with the authorizer's reason (AKS Azure RBAC)", forbidden(`User "alice" cannot get resource "deployments" in API group "apps" in the namespace "abtesting": User does not have access to the resource in Azure. Update role assignment to allow access.`), false, CauseRBAC,
			`applying Deployment abtesting/model-blue: RBAC does not allow user "alice" to get deployments.apps in namespace "abtesting" (User does not have access to the resource in Azure. Update role assignment to allow access.); the credentials need`},
		{"RBAC at the cluster scope", apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "abtesting", errors.New(`User "alice" cannot get resource "namespaces" in API group "" at the cluster scope`)), false, CauseRBAC,
			`RBAC does not allow user "alice" to get namespaces at the cluster scope`},
		{"ValidatingAdmissionPolicy, default reason Invalid", policyDenied(metav1.StatusReasonInvalid, 422), false, CauseAdmission,
			`applying Deployment abtesting/model-blue: ValidatingAdmissionPolicy "require-memory-limit" (binding "require-memory-limit-abtesting") denied it: every container needs resources.limits.memory; this is the cluster's admission policy, not a permission problem: change what the policy asks for (or ask its owner for an exception), then run the stage again`},
		{"ValidatingAdmissionPolicy with reason Forbidden", policyDenied(metav1.StatusReasonForbidden, 403), false, CauseAdmission,
			`ValidatingAdmissionPolicy "require-memory-limit" (binding "require-memory-limit-abtesting") denied it: every container needs resources.limits.memory; this is the cluster's admission policy, not a permission problem`},
		{"webhook (Gatekeeper)", status(403, metav1.StatusReasonForbidden, `admission webhook "validation.gatekeeper.sh" denied the request: [must-have-limits] container <model> has no memory limit`, nil), false, CauseAdmission,
			`applying Deployment abtesting/model-blue: admission webhook "validation.gatekeeper.sh" denied it: [must-have-limits] container <model> has no memory limit; this is the cluster's admission control (Gatekeeper, Kyverno or similar), not a permission problem`},
		{"webhook without explanation", status(400, metav1.StatusReasonBadRequest, `admission webhook "policy.example.com" denied the request without explanation`, nil), false, CauseAdmission,
			`admission webhook "policy.example.com" denied it: (no message)`},
		{"webhook cannot be called", apierrors.NewInternalError(errors.New(`failed calling webhook "validate.kyverno.svc": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": context deadline exceeded`)), false, CauseAdmission,
			`applying Deployment abtesting/model-blue: admission webhook "validate.kyverno.svc" could not be called: failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": context deadline exceeded; the cluster's admission webhook is failing`},
		{"ResourceQuota exceeded", forbidden("exceeded quota: deployments, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"), false, CauseQuota,
			`applying Deployment abtesting/model-blue: ResourceQuota "deployments" of namespace "abtesting" refused it: exceeded quota: deployments, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1; free room in the namespace or ask for a larger quota (kubectl describe resourcequota -n abtesting), then run the stage again`},
		{"ResourceQuota requires limits", forbidden("failed quota: compute: must specify limits.memory for: model; requests.memory for: model"), false, CauseQuota,
			`ResourceQuota "compute" of namespace "abtesting" refused it: failed quota: compute: must specify limits.memory for: model; requests.memory for: model; free room`},
		{"LimitRange maximum", forbidden("maximum memory usage per Container is 1Gi, but limit is 2Gi"), false, CauseLimitRange,
			`applying Deployment abtesting/model-blue: a LimitRange of namespace "abtesting" refused it: maximum memory usage per Container is 1Gi, but limit is 2Gi; make the requests and limits fit the LimitRange or ask its owner to change it (kubectl describe limitrange -n abtesting), then run the stage again`},
		{"LimitRange ratio, aggregated", forbidden("[minimum cpu usage per Container is 100m, but request is 50m, memory max limit to request ratio per Container is 2, but provided ratio is 4.000000]"), false, CauseLimitRange,
			`a LimitRange of namespace "abtesting" refused it: [minimum cpu usage per Container is 100m`},
		{"optimistic lock", apierrors.NewConflict(schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}, "mlmodel-virtualservice", errors.New("the object has been modified; please apply your changes to the latest version and try again")), false, CauseConflict,
			`applying Deployment abtesting/model-blue: someone else changed it between this stage's read and its write (Operation cannot be fulfilled on virtualservices.networking.istio.io "mlmodel-virtualservice": the object has been modified; please apply your changes to the latest version and try again); run the stage again: it decides from the new state`},
		{"apply conflict", apierrors.NewApplyConflict([]metav1.StatusCause{{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-client-side-apply" using apps/v1`, Field: ".spec.replicas"}}, `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`), false, CauseConflict,
			`applying Deployment abtesting/model-blue: another field manager owns what it would change: .spec.replicas (conflict with "kubectl-client-side-apply" using apps/v1); ask whoever runs that manager`},
		{"namespace missing", apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "abtesting"), false, CauseNotFound,
			`applying Deployment abtesting/model-blue: namespace "abtesting" does not exist; create it first (kubectl create namespace abtesting, labelled istio-injection=enabled for the sidecars)`},
		{"not found", apierrors.NewNotFound(deploymentsGR, "model-blue"), false, CauseNotFound,
			`the API server does not have it (deployments.apps "model-blue" not found); check the names`},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "model-blue", field.ErrorList{
			field.Invalid(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("ports").Index(0).Child("containerPort"), int32(70000), "must be between 1 and 65535, inclusive")}), false, CauseInvalid,
			`applying Deployment abtesting/model-blue: the API server rejected the object as invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive; fix that field (a flag's value, or a field someone else set on the live object), then run the stage again`},
		{"invalid: immutable", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "model-blue", field.ErrorList{
			field.Invalid(field.NewPath("spec", "selector"), "app=other", "field is immutable")}), false, CauseInvalid,
			`spec.selector: Invalid value: "app=other": field is immutable; the live object was created with a value that cannot be changed`},
		{"namespace terminating", terminating, false, CauseNamespaceTerminating,
			`applying Deployment abtesting/model-blue: namespace "abtesting" is being deleted, so nothing new can be created in it; wait until it is gone and create it again (or use another namespace), then run the stage again; if it stays Terminating, look at what holds it: kubectl get namespace abtesting -o yaml`},
		{"object being deleted", beingDeleted, false, CauseBeingDeleted,
			`applying Deployment abtesting/model-blue: it is being deleted and still exists (object is being deleted: deployments.apps "model-blue" already exists); wait until it is gone`},
		{"unauthorized", apierrors.NewUnauthorized("Unauthorized"), false, CauseCredentials,
			`applying Deployment abtesting/model-blue: the API server at https://aks.example:443 rejected the credentials (401 Unauthorized); the token has expired or was revoked, or the client certificate is not trusted: renew the kubeconfig or service connection, then run the stage again`},
		{"connection refused", &url.Error{Op: "Patch", URL: "https://aks.example:443/apis/apps/v1/namespaces/abtesting/deployments/model-blue", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, false, CauseUnreachable,
			`applying Deployment abtesting/model-blue: cannot reach the API server at https://aks.example:443 (dial tcp: connect: connection refused); check the server address`},
		{"DNS", &url.Error{Op: "Get", URL: "https://aks.example:443/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "aks.example", IsNotFound: true}}}, false, CauseUnreachable,
			`cannot reach the API server at https://aks.example:443 (dial tcp: lookup aks.example: no such host)`},
		{"untrusted certificate", &url.Error{Op: "Get", URL: "https://aks.example:443/api", Err: fmt.Errorf("tls: failed to verify certificate: %w", x509.UnknownAuthorityError{})}, false, CauseUnreachable,
			`presented a certificate this client does not trust`},
		{"request timeout", &url.Error{Op: "Get", URL: "https://aks.example:443/api", Err: fmt.Errorf("%w (Client.Timeout exceeded while awaiting headers)", context.DeadlineExceeded)}, false, CauseTimeout,
			`applying Deployment abtesting/model-blue: the API server at https://aks.example:443 did not answer in time (context deadline exceeded (Client.Timeout exceeded while awaiting headers)); check that the cluster is up`},
		{"504", apierrors.NewTimeoutError("request did not complete within requested timeout - context deadline exceeded", 0), false, CauseTimeout,
			`did not answer in time (Timeout: request did not complete within requested timeout - context deadline exceeded)`},
		{"the run's own deadline", &url.Error{Op: "Get", URL: "https://aks.example:443/api", Err: context.DeadlineExceeded}, true, CauseInterrupted,
			`applying Deployment abtesting/model-blue: context deadline exceeded`},
		{"Ctrl-C", &url.Error{Op: "Get", URL: "https://aks.example:443/api", Err: context.Canceled}, false, CauseInterrupted,
			`applying Deployment abtesting/model-blue: context canceled`},
		{"another 403", forbidden("something else refused this"), false, CauseForbidden,
			`applying Deployment abtesting/model-blue: the API server refused it: something else refused this; the message says what refused it; if it names a missing permission, the credentials need`},
		{"etcd changing leader: the API server failing, with a next step", apierrors.NewInternalError(errors.New("etcdserver: leader changed")), false, CauseTimeout,
			`applying Deployment abtesting/model-blue: the API server at https://aks.example:443 failed: its storage (etcd) did not answer in time (etcdserver: leader changed); the cluster's control plane is overloaded or changing its etcd leader, not refusing this request: wait a moment, then run the stage again`},
		{"another internal error: the API server failing", apierrors.NewInternalError(errors.New("boom")), false, CauseOther,
			`applying Deployment abtesting/model-blue: the API server at https://aks.example:443 failed with an internal error (boom); this is the API server failing, not a refusal of this request: run the stage again`},
		{"anything else", status(418, "", "I'm a teapot", nil), false, CauseOther,
			`applying Deployment abtesting/model-blue: I'm a teapot`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := r
			req.Interrupted = tt.interrupted
			// Callers wrap; the classifier must see through that.
			got := Explain(fmt.Errorf("wrapped: %w", tt.err), req)
			if got.Cause != tt.cause {
				t.Errorf("cause %q, want %q (%s)", got.Cause, tt.cause, got)
			}
			if msg := got.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message\n%s\nwant one line containing\n%s", msg, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Error("the APIError does not unwrap to the client's error")
			}
			wrapped := fmt.Errorf("Blue_0 did not complete: %w", got)
			if CauseOf(wrapped) != tt.cause || IsForbidden(wrapped) != (tt.cause == CauseRBAC) {
				t.Errorf("CauseOf/IsForbidden through a wrap: %q, %v", CauseOf(wrapped), IsForbidden(wrapped))
			}
			if (tt.cause == CauseAdmission || tt.cause == CauseQuota || tt.cause == CauseLimitRange || tt.cause == CauseNamespaceTerminating) && strings.Contains(got.Error(), "credentials need") {
				t.Error("a refusal that is not RBAC must not send the user to fix permissions")
			}
		})
	}
}

// A server address with a password never appears in a message.
func TestExplainRedactsHost(t *testing.T) {
	got := Explain(apierrors.NewUnauthorized("Unauthorized"), Request{Doing: "reading", Host: redact("https://admin:s3cret@aks.example:443")}).Error()
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "https://admin:xxxxx@aks.example:443") {
		t.Errorf("message %q", got)
	}
}
