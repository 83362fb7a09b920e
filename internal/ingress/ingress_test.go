package ingress

import (
	"strings"
	"testing"
)

var (
	oss      = Gateway{Namespace: "istio-system", Name: "istio-ingressgateway", Value: "ingressgateway", Revision: "default"}
	ossCopy  = Gateway{Namespace: "istio-system", Name: "istio-ingressgateway-canary", Value: "ingressgateway", Revision: "canary"}
	helm     = Gateway{Namespace: "istio-ingress", Name: "istio-ingress", Value: "ingress"}
	external = Gateway{Namespace: AddOnNamespace, Name: "aks-istio-ingressgateway-external", Value: "aks-istio-ingressgateway-external", Revision: "asm-1-28"}
	internal = Gateway{Namespace: AddOnNamespace, Name: "aks-istio-ingressgateway-internal", Value: "aks-istio-ingressgateway-internal", Revision: "asm-1-28"}
)

// TestChoose: every shape of what a cluster holds, with and without --ingress: the selector picked,
// or the one sentence naming what was found and the input to set.
func TestChoose(t *testing.T) {
	cases := []struct {
		name    string
		found   []Gateway
		ingress string
		want    string // the selector, or a part of the error
	}{
		{"open-source Istio", []Gateway{oss}, Auto, "istio=ingressgateway"},
		{"two Services of one open-source install", []Gateway{oss, ossCopy}, Auto, "istio=ingressgateway"},
		{"Helm gateway chart", []Gateway{helm}, Auto, "istio=ingress"},
		{"add-on, both gateways, auto takes external", []Gateway{internal, external}, Auto, "istio=aks-istio-ingressgateway-external"},
		{"add-on, empty --ingress is auto", []Gateway{internal, external}, "", "istio=aks-istio-ingressgateway-external"},
		{"add-on, internal chosen", []Gateway{internal, external}, Internal, "istio=aks-istio-ingressgateway-internal"},
		{"add-on, external chosen", []Gateway{internal, external}, External, "istio=aks-istio-ingressgateway-external"},
		{"add-on and open-source, internal chosen", []Gateway{oss, internal, external}, Internal, "istio=aks-istio-ingressgateway-internal"},
		{"add-on with internal only, auto", []Gateway{internal}, Auto,
			"AKS's Istio add-on has no external ingress gateway (found aks-istio-ingress/aks-istio-ingressgateway-internal (istio=aks-istio-ingressgateway-internal)); set --ingress internal"},
		{"add-on with external only, internal chosen", []Gateway{external}, Internal, "has no internal ingress gateway"},
		{"--ingress without the add-on", []Gateway{oss}, External,
			"--ingress external chooses a gateway of AKS's Istio add-on, but none was found in aks-istio-ingress (found istio-system/istio-ingressgateway (istio=ingressgateway)); leave --ingress out, or set --gateway-selector"},
		{"add-on and open-source, none chosen", []Gateway{oss, external}, Auto,
			"several Istio ingress gateways were found: istio-system/istio-ingressgateway (istio=ingressgateway), aks-istio-ingress/aks-istio-ingressgateway-external (istio=aks-istio-ingressgateway-external); set --gateway-selector"},
		{"open-source and Helm", []Gateway{oss, helm}, Auto, "several Istio ingress gateways were found"},
		{"nothing", nil, Auto, "no Istio ingress gateway was found: no Service labelled istio=ingressgateway (open-source Istio), istio=ingress (Istio's gateway Helm chart) or istio=aks-istio-ingressgateway-external|internal (AKS's Istio add-on) in all namespaces; set --gateway-selector"},
	}
	for _, c := range cases {
		g, err := Choose(c.found, c.ingress, "all namespaces")
		got := g.Selector()
		if err != nil {
			got = err.Error()
			if strings.Contains(got, "\n") {
				t.Errorf("%s: the error is not one line: %q", c.name, got)
			}
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestInjection: which namespace labels give the pods a sidecar, on open-source Istio and on the
// add-on, with the installed revision known or not.
func TestInjection(t *testing.T) {
	addOn := Mesh{AddOn: true, Revisions: []string{"asm-1-28"}}
	addOnUnknown := Mesh{AddOn: true}
	ossMesh := Mesh{Revisions: []string{"default"}}
	cases := []struct {
		name   string
		labels map[string]string
		m      Mesh
		want   string // "" = no warning
	}{
		{"oss, istio-injection=enabled", map[string]string{"istio-injection": "enabled"}, ossMesh, ""},
		{"oss, istio.io/rev=default", map[string]string{"istio.io/rev": "default"}, ossMesh, ""},
		{"oss, unknown revisions, any rev", map[string]string{"istio.io/rev": "canary"}, Mesh{}, ""},
		{"oss, no label", nil, ossMesh, "namespace ml has no sidecar-injection label (istio-injection=enabled or istio.io/rev=<revision>): its pods get no Istio sidecar (no mesh telemetry per version, no mTLS); label it (kubectl label namespace ml istio-injection=enabled)"},
		{"oss, disabled", map[string]string{"istio-injection": "disabled", "istio.io/rev": "default"}, ossMesh, "namespace ml is labelled istio-injection=disabled"},
		{"oss, a revision not installed", map[string]string{"istio.io/rev": "1-19"}, ossMesh, "namespace ml is labelled istio.io/rev=1-19, but the installed revision is default"},
		{"add-on, rev of the add-on", map[string]string{"istio.io/rev": "asm-1-28"}, addOn, ""},
		{"add-on, istio-injection=enabled", map[string]string{"istio-injection": "enabled"}, addOn,
			"namespace ml is labelled istio-injection=enabled, which AKS's Istio add-on ignores: its pods get no Istio sidecar; label it istio.io/rev=asm-1-28 instead (kubectl label namespace ml istio-injection- istio.io/rev=asm-1-28)"},
		{"add-on, an old revision", map[string]string{"istio.io/rev": "asm-1-26"}, addOn,
			"namespace ml is labelled istio.io/rev=asm-1-26, but the installed revision is asm-1-28: its pods get no Istio sidecar; label it istio.io/rev=asm-1-28 (kubectl label namespace ml --overwrite istio.io/rev=asm-1-28)"},
		{"add-on, no label", nil, addOn, "namespace ml has no sidecar-injection label: its pods get no Istio sidecar (no mesh telemetry per version, no mTLS); label it istio.io/rev=asm-1-28"},
		{"add-on, revision unknown", nil, addOnUnknown, "label it istio.io/rev=asm-1-NN (the add-on's revision: az aks show --query serviceMeshProfile.istio.revisions)"},
	}
	for _, c := range cases {
		got := Injection("ml", c.labels, c.m)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestMeshOf: the add-on is known from the gateways found or from the selector given.
func TestMeshOf(t *testing.T) {
	if m := MeshOf(nil, "istio=aks-istio-ingressgateway-internal"); !m.AddOn || len(m.Revisions) != 0 {
		t.Errorf("selector only: %+v", m)
	}
	if m := MeshOf([]Gateway{external, internal, oss}, "istio=aks-istio-ingressgateway-external"); !m.AddOn || strings.Join(m.Revisions, ",") != "asm-1-28,default" {
		t.Errorf("found: %+v", m)
	}
	if m := MeshOf([]Gateway{oss}, "istio=ingressgateway"); m.AddOn {
		t.Errorf("open-source: %+v", m)
	}
	// Microsoft's docs show no istio.io/rev label on the add-on's gateway Services (one Service
	// serves every revision's gateway Deployment during a canary upgrade): the add-on is still known,
	// and no revision is assumed, so any istio.io/rev on the namespace is accepted.
	unlabelled := external
	unlabelled.Revision = ""
	m := MeshOf([]Gateway{unlabelled}, "istio=aks-istio-ingressgateway-external")
	if !m.AddOn || len(m.Revisions) != 0 {
		t.Errorf("add-on Service without istio.io/rev: %+v", m)
	}
	if w := Injection("ml", map[string]string{"istio.io/rev": "asm-1-27"}, m); w != "" {
		t.Errorf("add-on Service without istio.io/rev, namespace asm-1-27: %q", w)
	}
}

// TestURL: the load-balancer address and the port of the Gateway server, or why there is none.
func TestURL(t *testing.T) {
	ports := []Port{{"status-port", 15021}, {"http2", 80}, {"https", 443}}
	cases := []struct {
		name string
		g    Gateway
		port int32
		want string
	}{
		{"IP, port 80", Gateway{Address: "20.20.0.1", Type: "LoadBalancer", Ports: ports}, 80, "http://20.20.0.1"},
		{"hostname", Gateway{Address: "gw.example.com", Type: "LoadBalancer", Ports: ports}, 80, "http://gw.example.com"},
		{"IPv6", Gateway{Address: "2001:db8::1", Type: "LoadBalancer", Ports: ports}, 80, "http://[2001:db8::1]"},
		{"--gateway-port 8080 absent: the http2 port", Gateway{Address: "20.20.0.1", Type: "LoadBalancer", Ports: ports}, 8080, "http://20.20.0.1"},
		{"--gateway-port 8080 present", Gateway{Address: "20.20.0.1", Type: "LoadBalancer", Ports: append(ports, Port{"http-alt", 8080})}, 8080, "http://20.20.0.1:8080"},
		{"http named port not 80", Gateway{Address: "1.2.3.4", Type: "LoadBalancer", Ports: []Port{{"http", 8081}}}, 80, "http://1.2.3.4:8081"},
		{"pending", Gateway{Namespace: "aks-istio-ingress", Name: "aks-istio-ingressgateway-external", Type: "LoadBalancer", Ports: ports}, 80,
			"the load balancer of ingress gateway Service aks-istio-ingress/aks-istio-ingressgateway-external has no address yet (status.loadBalancer.ingress is empty: still pending)"},
		{"ClusterIP", Gateway{Namespace: "n", Name: "gw", Type: "ClusterIP", Ports: ports}, 80, "ingress gateway Service n/gw is of type ClusterIP, which has no load-balancer address"},
		{"no http port", Gateway{Namespace: "n", Name: "gw", Address: "1.2.3.4", Type: "LoadBalancer", Ports: []Port{{"https", 443}}}, 80, "ingress gateway Service n/gw has no port 80 (--gateway-port) and none named http2 or http"},
	}
	for _, c := range cases {
		got, err := c.g.URL(c.port)
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if _, err := ForSelector(nil, "istio=mine", "all namespaces"); err == nil || !strings.Contains(err.Error(), "no Service labelled istio=mine (--gateway-selector) was found in all namespaces") {
		t.Errorf("ForSelector: %v", err)
	}
}

// TestPodInjection (break-it review of #9, G4): the pod template's own choice, as Istio's injector
// reads it, comes before the namespace's labels.
func TestPodInjection(t *testing.T) {
	addOn := Mesh{AddOn: true, Revisions: []string{"asm-1-28"}}
	oss := Mesh{Revisions: []string{"default"}}
	out := func() Pod { return Pod{Labels: map[string]string{}, Annotations: map[string]string{}} }
	optOutLabel, optOutAnnotation, optIn, ownRev := out(), out(), out(), out()
	optOutLabel.Labels[PodInjectLabel] = "false"
	optOutAnnotation.Annotations[PodInjectLabel] = "false"
	optIn.Labels[PodInjectLabel] = "true"
	ownRev.Labels[RevisionLabel] = "asm-1-28"
	enabled := map[string]string{"istio-injection": "enabled"}
	cases := []struct {
		name string
		ns   map[string]string
		pod  Pod
		m    Mesh
		want string // "" = no warning
	}{
		{"opt-out label in an enabled namespace", enabled, optOutLabel, oss, `the pod template opts out of the sidecar (sidecar.istio.io/inject: "false"): its pods in namespace ml get no Istio sidecar`},
		{"opt-out annotation in an enabled namespace", enabled, optOutAnnotation, oss, `opts out of the sidecar`},
		{"opt-out on the add-on", map[string]string{"istio.io/rev": "asm-1-28"}, optOutLabel, addOn, `opts out of the sidecar`},
		{"opt-in label, unlabelled namespace", nil, optIn, oss, ""},
		{"opt-in label, disabled namespace", map[string]string{"istio-injection": "disabled"}, optIn, oss, "labelled istio-injection=disabled"},
		{"opt-in label on the add-on is not enough", nil, optIn, addOn, "has no sidecar-injection label"},
		{"own revision label on the add-on", nil, ownRev, addOn, ""},
		{"no choice: the namespace decides", enabled, Pod{}, oss, ""},
		{"no choice, unlabelled namespace", nil, Pod{}, oss, "has no sidecar-injection label"},
	}
	for _, c := range cases {
		got := PodInjection("ml", c.ns, c.pod, c.m)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestKeep (G16): which live Gateway selectors a stage without --gateway-selector or --ingress keeps.
func TestKeep(t *testing.T) {
	for _, c := range []struct {
		live  string
		found []Gateway
		want  bool
	}{
		{"istio=private-gateway", []Gateway{oss}, true},          // chosen by someone: kept
		{"istio=ingressgateway", []Gateway{oss, external}, true}, // its gateway is there
		{"istio=ingressgateway", []Gateway{external}, false},     // Istio's default on the add-on: selects nothing
		{"app=edge", nil, true},
		{"", []Gateway{oss}, false}, // no Gateway yet
	} {
		if got := Keep(c.live, c.found); got != c.want {
			t.Errorf("Keep(%q, %d found) = %v, want %v", c.live, len(c.found), got, c.want)
		}
	}
}
