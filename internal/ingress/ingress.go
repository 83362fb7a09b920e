// Package ingress finds the Istio ingress gateway a release is reached through: which pods a
// Gateway mlcanary owns must select (its spec.selector) and, for `verify --gateway auto`, the
// gateway Service's load-balancer address. It knows the gateways of open-source Istio
// (`istio=ingressgateway` in istio-system), of Istio's gateway Helm chart (`istio=ingress`, e.g. in
// istio-ingress) and of AKS's managed Istio add-on (`istio=aks-istio-ingressgateway-external` or
// `-internal` in aks-istio-ingress, Microsoft's "Deploy ingress gateways for the Istio add-on",
// https://learn.microsoft.com/azure/aks/istio-deploy-ingress: "the selector used in the Gateway
// object points to istio: aks-istio-ingressgateway-external, which can be found as label on the
// service"), whose gateways the documented default `istio=ingressgateway` does not select. The
// add-on injects sidecars into namespaces labelled istio.io/rev=asm-1-NN only
// (https://learn.microsoft.com/azure/aks/istio-deploy-addon); its gateway Services need not carry
// that label (Injection then accepts any revision and names where to read it).
//
// Choose and Injection are pure; Find is the one seam to the cluster (one label-selected list).
package ingress

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
)

// The add-on's choice of gateway (--ingress: config's words) and its namespaces.
const (
	Auto     = config.IngressAuto
	External = config.IngressExternal
	Internal = config.IngressInternal
	// AddOnNamespace holds the add-on's ingress gateways; AddOnSystemNamespace its istiod.
	AddOnNamespace       = "aks-istio-ingress"
	AddOnSystemNamespace = "aks-istio-system"
	// LabelKey is the label every known ingress gateway's pods and Service carry, and the key of
	// the Gateway selector mlcanary writes.
	LabelKey = "istio"
	// RevisionLabel names the Istio control plane revision of a workload, or of a namespace whose
	// pods it injects (istio.io/rev=asm-1-28 on the add-on, default on istioctl's installs).
	RevisionLabel = "istio.io/rev"
	// InjectionLabel = enabled asks the default revision to inject sidecars; the add-on ignores it.
	InjectionLabel = "istio-injection"
)

// addOnPrefix begins the add-on's gateway label values: aks-istio-ingressgateway-external|internal.
const addOnPrefix = "aks-istio-ingressgateway-"

// known are the values of LabelKey that mark an ingress gateway.
var known = []string{
	addOnPrefix + External, // AKS's Istio add-on, external
	addOnPrefix + Internal, // AKS's Istio add-on, internal
	"ingressgateway",       // open-source Istio
	"ingress",              // Istio's gateway Helm chart
}

// Keep reports whether a Gateway whose live spec.selector is live (key=value; "" for none) keeps it
// when no --gateway-selector or --ingress is given, rather than taking the gateway detection
// picked: a Gateway that works is never rewritten to a guess (break-it review of #9, G16: a release
// whose first stages ran with --gateway-selector istio=private-gateway had its Gateway moved to the
// detected istio=ingressgateway by a later stage without the input, and every client of the private
// gateway got 404). It keeps any selector that is not one of the known gateways' (someone chose it),
// and a known one whose gateway Service was found; it gives up only a known selector whose gateway
// is not there — Istio's default istio=ingressgateway on AKS's add-on, which selects nothing.
func Keep(live string, found []Gateway) bool {
	key, value, ok := strings.Cut(live, "=")
	if !ok || key != LabelKey || value == "" {
		return ok && value != ""
	}
	if !slices.Contains(known, value) {
		return true
	}
	return slices.ContainsFunc(found, func(g Gateway) bool { return g.Value == value })
}

// Selector is the label selector of the list Find makes: `istio in (…)` over the known values.
func Selector() string {
	return LabelKey + " in (" + strings.Join(known, ",") + ")"
}

// Namespaces are searched one by one when the credentials cannot list Services in all namespaces.
var Namespaces = []string{"istio-system", "istio-ingress", AddOnNamespace}

// AddOnSelector is the Gateway selector of the add-on's gateway ingress (External or Internal).
func AddOnSelector(ingress string) string { return LabelKey + "=" + addOnPrefix + ingress }

// Gateway is one ingress gateway Service found.
type Gateway struct {
	// Namespace and Name are the Service's.
	Namespace, Name string
	// Value is its LabelKey label: the Gateway selector is LabelKey=Value.
	Value string
	// Revision is its RevisionLabel label ("" when absent): the control plane revision installed.
	Revision string
	// Address is the first load-balancer ingress IP or hostname; "" while the load balancer is
	// pending (or the Service is not of type LoadBalancer).
	Address string
	// Type is the Service's spec.type.
	Type string
	// Ports are the Service's ports by name (http2, https, …).
	Ports []Port
}

// Port is one port of a gateway Service.
type Port struct {
	Name string
	Port int64
}

// Selector is the Gateway selector that selects g's pods, e.g. istio=aks-istio-ingressgateway-external.
func (g Gateway) Selector() string { return LabelKey + "=" + g.Value }

// AddOn reports whether g is one of AKS's Istio add-on's gateways.
func (g Gateway) AddOn() bool { return strings.HasPrefix(g.Value, addOnPrefix) }

// String names g as a message does: "aks-istio-ingress/aks-istio-ingressgateway-external (istio=aks-istio-ingressgateway-external)".
func (g Gateway) String() string { return g.Namespace + "/" + g.Name + " (" + g.Selector() + ")" }

// Of reads a Service as a Gateway; ok is false when it carries none of the known labels (g is
// still filled in).
func Of(svc *unstructured.Unstructured) (g Gateway, ok bool) {
	labels := svc.GetLabels()
	g = Gateway{Namespace: svc.GetNamespace(), Name: svc.GetName(), Value: labels[LabelKey], Revision: labels[RevisionLabel]}
	ok = slices.Contains(known, g.Value)
	g.Type, _, _ = unstructured.NestedString(svc.Object, "spec", "type")
	lbs, _, _ := unstructured.NestedSlice(svc.Object, "status", "loadBalancer", "ingress")
	if len(lbs) > 0 {
		if lb, _ := lbs[0].(map[string]any); lb != nil {
			ip, _ := lb["ip"].(string)
			host, _ := lb["hostname"].(string)
			g.Address = ip
			if g.Address == "" {
				g.Address = host
			}
		}
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	for _, p := range ports {
		if m, _ := p.(map[string]any); m != nil {
			name, _ := m["name"].(string)
			n, _ := m["port"].(int64)
			g.Ports = append(g.Ports, Port{Name: name, Port: n})
		}
	}
	return g, ok
}

// Error is a choice Find's results do not allow: one sentence naming what was found and the input
// to set. A stage refuses with it before any write (exit 1).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// setSelector is how every message names the input that settles it in all three front ends.
const setSelector = "set --gateway-selector (Azure DevOps task input gatewaySelector) to the label of the gateway's pods"

// Choose picks the gateway whose pods a Gateway must select, from the gateway Services found
// (searched says where they were looked for, for the message). ingress is --ingress: External or
// Internal, or Auto ("" too) when the user chose none. The rules:
//   - --ingress External or Internal: the add-on's gateway it names, which must have been found;
//   - Auto, and only the add-on's gateways found: its external one;
//   - Auto otherwise: every gateway found must share one selector (several Services of one
//     open-source install are fine); several different ones, or none, is an *Error.
func Choose(found []Gateway, ingress, searched string) (Gateway, error) {
	given := ingress == External || ingress == Internal
	if !given {
		ingress = External
	}
	var addOn, others []Gateway
	for _, g := range found {
		if g.AddOn() {
			addOn = append(addOn, g)
		} else {
			others = append(others, g)
		}
	}
	switch {
	case len(found) == 0:
		return Gateway{}, &Error{Msg: fmt.Sprintf("no Istio ingress gateway was found: no Service labelled %s (open-source Istio), %s (Istio's gateway Helm chart) or %s|%s (AKS's Istio add-on) in %s; %s",
			"istio=ingressgateway", "istio=ingress", AddOnSelector(External), Internal, searched, setSelector)}
	case given || (len(addOn) > 0 && len(others) == 0):
		want := addOnPrefix + ingress
		if i := slices.IndexFunc(addOn, func(g Gateway) bool { return g.Value == want }); i >= 0 {
			return addOn[i], nil
		}
		if len(addOn) > 0 {
			return Gateway{}, &Error{Msg: fmt.Sprintf("AKS's Istio add-on has no %s ingress gateway (found %s); set --ingress %s, or enable the %s gateway (az aks mesh enable-ingress-gateway --ingress-gateway-type %s)",
				ingress, list(addOn), other(ingress), ingress, ingress)}
		}
		return Gateway{}, &Error{Msg: fmt.Sprintf("--ingress %s chooses a gateway of AKS's Istio add-on, but none was found in %s (found %s); leave --ingress out, or %s",
			ingress, AddOnNamespace, list(found), setSelector)}
	}
	for _, g := range found[1:] {
		if g.Value != found[0].Value {
			return Gateway{}, &Error{Msg: fmt.Sprintf("several Istio ingress gateways were found: %s; %s (or, for the add-on's, --ingress external|internal)",
				list(found), setSelector)}
		}
	}
	return found[0], nil
}

func other(ingress string) string {
	if ingress == Internal {
		return External
	}
	return Internal
}

func list(gs []Gateway) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}

// URL is the address requests reach g's Gateway server on gatewayPort through: http://ADDRESS, with
// the Service port that is gatewayPort, else the one named http2 or http (as istioctl's, the Helm
// chart's and the add-on's gateways name it), shown unless it is 80. A Service whose load balancer
// has no address yet, or that is not a LoadBalancer, is an *Error saying so and what to give instead.
func (g Gateway) URL(gatewayPort int32) (string, error) {
	give := "give the gateway's address instead (--gateway ADDRESS; verify-gateway / verifyGateway in a pipeline)"
	switch {
	case g.Address == "" && g.Type != "" && g.Type != "LoadBalancer":
		return "", &Error{Msg: fmt.Sprintf("ingress gateway Service %s/%s is of type %s, which has no load-balancer address; %s", g.Namespace, g.Name, g.Type, give)}
	case g.Address == "":
		return "", &Error{Msg: fmt.Sprintf("the load balancer of ingress gateway Service %s/%s has no address yet (status.loadBalancer.ingress is empty: still pending); wait until `kubectl get service -n %s %s` shows an EXTERNAL-IP, or %s", g.Namespace, g.Name, g.Namespace, g.Name, give)}
	}
	port := int64(0)
	for _, p := range g.Ports {
		if p.Port == int64(gatewayPort) {
			port = p.Port
			break
		}
		if port == 0 && (p.Name == "http2" || p.Name == "http") {
			port = p.Port
		}
	}
	if port == 0 {
		return "", &Error{Msg: fmt.Sprintf("ingress gateway Service %s/%s has no port %d (--gateway-port) and none named http2 or http; %s", g.Namespace, g.Name, gatewayPort, give)}
	}
	host := g.Address
	if strings.Contains(host, ":") { // an IPv6 address
		host = "[" + host + "]"
	}
	if port == 80 {
		return "http://" + host, nil
	}
	return fmt.Sprintf("http://%s:%d", host, port), nil
}

// ForSelector picks the gateway Service Find found for a --gateway-selector the user gave: the
// first; none is an *Error saying where it was looked for.
func ForSelector(found []Gateway, selector, searched string) (Gateway, error) {
	if len(found) > 0 {
		return found[0], nil
	}
	return Gateway{}, &Error{Msg: fmt.Sprintf("no Service labelled %s (--gateway-selector) was found in %s; give the gateway's address instead (--gateway ADDRESS; verify-gateway / verifyGateway in a pipeline)", selector, searched)}
}
