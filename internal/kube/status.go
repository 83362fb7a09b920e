package kube

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// The message forms kube-apiserver uses for each refusal (k8s.io/apiserver and the admission
// plugins of kubernetes/kubernetes); the status code alone does not tell them apart: a policy, a
// quota, a terminating namespace and RBAC all answer 403, and a policy may answer 422.
var (
	// authorizer: endpoints/handlers/responsewriters.forbiddenMessage, plus the authorizer's reason.
	rbacForm = lazyregexp.New(`User "([^"]*)" cannot (\S+) (?:resource "([^"]*)" in API group "([^"]*)"(?: in the namespace "([^"]*)"| at the cluster scope)|path "([^"]*)")(?::\s*(.*))?`)
	// admission/plugin/policy/validating: the policy's own message follows.
	policyForm = lazyregexp.New(`ValidatingAdmissionPolicy '([^']*)'(?: with binding '([^']*)')? denied request: (.*)`)
	// admission/plugin/webhook/errors.ToStatusErr.
	webhookForm = lazyregexp.New(`admission webhook "([^"]*)" denied the request(?:: (.*)| without explanation)`)
	// admission/plugin/webhook: the webhook could not be called (Internal error, failurePolicy Fail).
	webhookCallForm = lazyregexp.New(`failed calling webhook "([^"]*)": (.*)`)
	// plugin/pkg/admission/resourcequota.
	quotaForm = lazyregexp.New(`(?:exceeded|failed) quota: ([^,:]+)[,:] ?(.*)`)
	// plugin/pkg/admission/limitranger: "maximum memory usage per Container is 1Gi, but limit is 2Gi",
	// "memory max limit to request ratio per Container is 2, but provided ratio is 4.000000".
	limitRangeForm = lazyregexp.New(`(?:(?:maximum|minimum) \S+ usage per (?:Container|Pod|PersistentVolumeClaim) is|max limit to request ratio per (?:Container|Pod) is)|LimitRange`)
)

// etcdForm is kube-apiserver relaying its storage failing (go.etcd.io/etcd/api/v3rpc/rpctypes and
// the apiserver's storage errors): a timeout or a leader election, not a refusal.
var etcdForm = lazyregexp.New(`etcdserver: (?:request timed out|leader changed|too many requests|no leader)|context deadline exceeded|Timeout: request did not complete`)

// htmlTitle is the title of an HTML page.
var htmlTitle = lazyregexp.New(`(?is)<title[^>]*>(.*?)</title>`)

// htmlPage reports whether st is client-go's wrapping of an answer that is not a Kubernetes Status
// but an HTML page (details.causes of type UnexpectedServerResponse): kube-apiserver never answers
// HTML, so a proxy, an ingress, a gateway or a load balancer in front of it did. It returns the
// page's title ("" when it has none).
func htmlPage(st metav1.Status) (string, bool) {
	if st.Details == nil {
		return "", false
	}
	for _, c := range st.Details.Causes {
		if c.Type != metav1.CauseTypeUnexpectedServerResponse {
			continue
		}
		lower := strings.ToLower(c.Message)
		if !strings.Contains(lower, "<html") && !strings.Contains(lower, "<!doctype html") && !strings.Contains(lower, "<body") {
			continue
		}
		if m := htmlTitle.FindStringSubmatch(c.Message); m != nil {
			return oneLine(m[1], 100), true
		}
		return "", true
	}
	return "", false
}

func isHTML(st metav1.Status) bool { _, ok := htmlPage(st); return ok }

// frontAnswer says that something other than the API server answered code (with page title).
func frontAnswer(host string, code int, title string) string {
	s := fmt.Sprintf("something other than the API server answered for %s: %d %s, an HTML page", host, code, http.StatusText(code))
	if title != "" {
		s += fmt.Sprintf(" titled %q", title)
	}
	return s + " (a proxy, gateway, ingress or load balancer in front of the API server; the API server itself never answers HTML)"
}

// statusOf returns the Status of an API error in err's chain.
func statusOf(err error) (metav1.Status, bool) {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return st.Status(), true
	}
	return metav1.Status{}, false
}

// fromStatus classifies a Status by the form of its message first and its reason and code second.
func fromStatus(st metav1.Status, r Request) (Cause, string, string) {
	msg := serverMessage(st.Message)
	again := "then run the stage again"
	if page, ok := htmlPage(st); ok {
		return CauseUnreachable, frontAnswer(r.Host, int(st.Code), page),
			"check the server address in the kubeconfig or service connection, the proxy settings (HTTPS_PROXY, NO_PROXY, proxy-url) and that the API endpoint admits this machine (authorized IP ranges, private cluster) and is up behind the proxy, " + again
	}
	if m := policyForm.FindStringSubmatch(msg); m != nil {
		who := fmt.Sprintf("ValidatingAdmissionPolicy %q", m[1])
		if m[2] != "" {
			who += fmt.Sprintf(" (binding %q)", m[2])
		}
		return CauseAdmission, who + " denied it: " + m[3],
			"this is the cluster's admission policy, not a permission problem: change what the policy asks for (or ask its owner for an exception), " + again
	}
	if m := webhookForm.FindStringSubmatch(msg); m != nil {
		why := m[2]
		if why == "" {
			why = "(no message)"
		}
		return CauseAdmission, fmt.Sprintf("admission webhook %q denied it: %s", m[1], why),
			"this is the cluster's admission control (Gatekeeper, Kyverno or similar), not a permission problem: change what the webhook asks for (or ask its owner for an exception), " + again
	}
	if m := webhookCallForm.FindStringSubmatch(msg); m != nil {
		return CauseAdmission, fmt.Sprintf("admission webhook %q could not be called: %s", m[1], m[2]),
			"the cluster's admission webhook is failing, which is neither mlcanary nor its permissions: ask the cluster's administrators to fix it, " + again
	}
	if terminating(st, msg) {
		return CauseNamespaceTerminating, fmt.Sprintf("namespace %q is being deleted, so nothing new can be created in it", r.Namespace),
			fmt.Sprintf("wait until it is gone and create it again (or use another namespace), %s; if it stays Terminating, look at what holds it: kubectl get namespace %s -o yaml", again, r.Namespace)
	}
	if m := quotaForm.FindStringSubmatch(msg); m != nil {
		return CauseQuota, fmt.Sprintf("ResourceQuota %q of namespace %q refused it: %s", strings.TrimSpace(m[1]), r.Namespace, msg),
			fmt.Sprintf("free room in the namespace or ask for a larger quota (kubectl describe resourcequota -n %s), %s", r.Namespace, again)
	}
	if limitRangeForm.MatchString(msg) {
		return CauseLimitRange, fmt.Sprintf("a LimitRange of namespace %q refused it: %s", r.Namespace, msg),
			fmt.Sprintf("make the requests and limits fit the LimitRange or ask its owner to change it (kubectl describe limitrange -n %s), %s", r.Namespace, again)
	}
	if strings.HasPrefix(msg, "object is being deleted: ") {
		return CauseBeingDeleted, "it is being deleted and still exists (" + msg + ")",
			"wait until it is gone (or remove the finalizers that hold it), " + again
	}
	if m := rbacForm.FindStringSubmatch(msg); m != nil {
		return CauseRBAC, rbacReason(m), fmt.Sprintf(neededVerbs, r.Namespace)
	}
	code := int(st.Code)
	switch {
	case st.Reason == metav1.StatusReasonUnauthorized || code == http.StatusUnauthorized:
		return CauseCredentials, fmt.Sprintf("the API server at %s rejected the credentials (401 Unauthorized)", r.Host),
			"the token has expired or was revoked, or the client certificate is not trusted: renew the kubeconfig or service connection, " + again
	case st.Reason == metav1.StatusReasonConflict || code == http.StatusConflict:
		return conflict(st, msg)
	case st.Reason == metav1.StatusReasonNotFound || code == http.StatusNotFound:
		if st.Details != nil && st.Details.Kind == "namespaces" {
			return CauseNotFound, fmt.Sprintf("namespace %q does not exist", st.Details.Name),
				fmt.Sprintf("create it first (kubectl create namespace %s, labelled istio-injection=enabled for the sidecars)", st.Details.Name)
		}
		return CauseNotFound, "the API server does not have it (" + msg + ")", "check the names and that the cluster serves this resource type, " + again
	case st.Reason == metav1.StatusReasonInvalid || code == http.StatusUnprocessableEntity:
		return invalid(st, msg)
	case st.Reason == metav1.StatusReasonTimeout || st.Reason == metav1.StatusReasonServerTimeout || code == http.StatusGatewayTimeout:
		return CauseTimeout, fmt.Sprintf("the API server at %s did not answer in time (%s)", r.Host, msg),
			"check that the cluster is healthy and reachable from this machine, " + again
	case st.Reason == metav1.StatusReasonTooManyRequests || code == http.StatusTooManyRequests:
		wait := "a minute"
		if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
			wait = fmt.Sprintf("%ds", st.Details.RetryAfterSeconds)
		}
		return CauseTimeout, fmt.Sprintf("the API server at %s is too busy to answer (429 Too Many Requests; it asks to retry after %s)", r.Host, wait),
			"the cluster's API Priority and Fairness is shedding load: wait " + wait + " (longer if other pipelines are busy on the cluster), " + again
	case etcdForm.MatchString(msg):
		return CauseTimeout, fmt.Sprintf("the API server at %s failed: its storage (etcd) did not answer in time (%s)", r.Host, msg),
			"the cluster's control plane is overloaded or changing its etcd leader, not refusing this request: wait a moment, " + again + "; if it keeps happening, ask the cluster's administrators to look at etcd"
	case st.Reason == metav1.StatusReasonInternalError || code == http.StatusInternalServerError:
		return CauseOther, fmt.Sprintf("the API server at %s failed with an internal error (%s)", r.Host, msg),
			"this is the API server failing, not a refusal of this request: " + strings.TrimPrefix(again, "then ") + "; if it keeps happening, ask the cluster's administrators to look at the control plane"
	case st.Reason == metav1.StatusReasonServiceUnavailable || code == http.StatusServiceUnavailable:
		return CauseUnreachable, fmt.Sprintf("the API server at %s is unavailable (%s)", r.Host, msg),
			"check that the cluster's control plane is running, " + again
	case st.Reason == metav1.StatusReasonForbidden || code == http.StatusForbidden:
		return CauseForbidden, "the API server refused it: " + msg,
			"the message says what refused it; if it names a missing permission, " + fmt.Sprintf(neededVerbs, r.Namespace)
	}
	return CauseOther, msg, ""
}

// rbacReason says which verb on which resource the authorizer refused, and its reason if it gave one.
func rbacReason(m []string) string {
	var what string
	switch {
	case m[6] != "":
		what = fmt.Sprintf("%s on path %q", m[2], m[6])
	case m[5] != "":
		what = fmt.Sprintf("%s %s in namespace %q", m[2], resourceName(m[3], m[4]), m[5])
	default:
		what = fmt.Sprintf("%s %s at the cluster scope", m[2], resourceName(m[3], m[4]))
	}
	s := fmt.Sprintf("RBAC does not allow user %q to %s", m[1], what)
	if m[7] != "" {
		s += " (" + m[7] + ")"
	}
	return s
}

// terminating recognises NamespaceLifecycle's refusal to create in a namespace being deleted.
func terminating(st metav1.Status, msg string) bool {
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == "NamespaceTerminating" {
				return true
			}
		}
	}
	return strings.Contains(msg, "because it is being terminated")
}

// conflict names the other field managers and their fields (server-side apply) or says the object
// changed under the write (optimistic lock).
func conflict(st metav1.Status, msg string) (Cause, string, string) {
	var owned []string
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				owned = append(owned, fmt.Sprintf("%s (%s)", c.Field, c.Message))
			}
		}
	}
	if len(owned) > 0 {
		return CauseConflict, "another field manager owns what it would change: " + strings.Join(owned, ", "),
			"ask whoever runs that manager to stop setting those fields (or remove them from its manifests), then run the stage again"
	}
	if strings.Contains(msg, "already exists") {
		return CauseConflict, "it already exists (" + msg + ")", "run the stage again: it reads the object first"
	}
	return CauseConflict, "someone else changed it between this stage's read and its write (" + msg + ")",
		"run the stage again: it decides from the new state"
}

// invalid lists the fields and rules of a 422 from details.causes.
func invalid(st metav1.Status, msg string) (Cause, string, string) {
	var rules []string
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			rule := strings.Join(strings.Fields(c.Message), " ")
			if c.Field != "" && !strings.HasPrefix(rule, c.Field) {
				rule = c.Field + ": " + rule
			}
			rules = append(rules, rule)
		}
	}
	if len(rules) == 0 {
		rules = []string{msg}
	}
	reason := "the API server rejected the object as invalid: " + strings.Join(rules, ", ")
	if strings.Contains(reason, "field is immutable") {
		return CauseInvalid, reason, "the live object was created with a value that cannot be changed (by someone else, or with other flags): delete it or use another name, then run the stage again"
	}
	return CauseInvalid, reason, "fix that field (a flag's value, or a field someone else set on the live object), then run the stage again"
}
