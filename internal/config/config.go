// Package config holds every input of a run — names, image, stage, timeout — with the documented
// flow's defaults, and validates them before anything is sent to a cluster. The CLI flags, the Azure
// DevOps task inputs and the GitHub Action inputs all land in one Config, so the three front ends
// behave the same.
package config

import (
	"time"
)

// Version is one of the two model versions a stage moves traffic between.
type Version string

// The two versions, in the order the documented flow lists them.
const (
	Green Version = "green"
	Blue  Version = "blue"
)

// Versions lists both versions in a stable order, for loops that must not depend on map order.
var Versions = []Version{Green, Blue}

// Other returns the version that is not v.
func (v Version) Other() Version {
	if v == Green {
		return Blue
	}
	return Green
}

// The values of Ingress (--ingress).
const (
	IngressAuto     = "auto"
	IngressExternal = "external"
	IngressInternal = "internal"
)

// AddOnIngress is the add-on's ingress gateway Ingress chooses, IngressExternal or IngressInternal,
// or "" when it chooses none: IngressAuto, or "" as a Config built in code leaves it (Validate
// accepts that "" as auto, as it does an empty CapacityCheck). Every rule that asks whether the user
// chose a gateway asks it here, so "" never reads as a choice (a Gateway selecting
// istio=aks-istio-ingressgateway- with nothing after the dash).
func (c *Config) AddOnIngress() string {
	if c.Ingress == IngressExternal || c.Ingress == IngressInternal {
		return c.Ingress
	}
	return ""
}

// Names are the Kubernetes object names for one version.
type Names struct {
	Deployment string
	Service    string
}

// Config is everything one run needs. Build it with Default, change fields, then call Validate.
type Config struct {
	// Stage is the parsed stage to perform (or plan).
	Stage Stage
	// Namespace holds every object mlcanary manages.
	Namespace string
	// App is the value of the `app` label on Deployments, Services and pods.
	App string
	// Objects maps each version to its Deployment and Service names.
	Objects map[Version]Names
	// Gateway and VirtualService are the Istio objects' names.
	Gateway        string
	VirtualService string
	// GatewaySelector selects the ingress gateway pods, as key=value (Istio's default: istio=ingressgateway).
	GatewaySelector string
	// DetectGateway is set when the user gave no selector: a stage that writes mlcanary's Gateway
	// then finds the ingress gateway on the cluster (package ingress) and uses its selector in place
	// of GatewaySelector.
	DetectGateway bool
	// Ingress chooses AKS's Istio add-on's ingress gateway: IngressExternal or IngressInternal, or
	// IngressAuto when the user chose none (--ingress; "" in a Config built in code is IngressAuto
	// too). Read it through AddOnIngress.
	Ingress string
	// Hosts are the VirtualService and Gateway hosts.
	Hosts []string
	// GatewayPort is the port the Gateway listens on (HTTP).
	GatewayPort int32
	// Port is the container and Service port of the scoring image.
	Port int32
	// Replicas per version.
	Replicas int32
	// CapacityCheck is what a traffic shift does when a version has too few ready replicas for its
	// new share (CapacityAuto when empty).
	CapacityCheck CapacityCheck
	// ImagePullSecret, when set, is referenced by both Deployments.
	ImagePullSecret string
	// ReadinessPath is the path of the HTTP GET readiness probe mlcanary adds to a scoring container
	// that has none (render.WithReadinessProbe), on Port: "/" by default, which Azure ML's
	// inference server answers once the model is loaded; ReadinessNone adds no probe.
	ReadinessPath string
	// Header is the routing header (lower case) whose value "blue" or "green" reaches that version.
	Header string
	// URIPrefix is the path the routes match, "/score" in the documented flow.
	URIPrefix string
	// Image is the full image reference to deploy as blue (Blue_0) or to expect on blue (later stages).
	Image string
	// Timeout bounds the wait for a Deployment rollout.
	Timeout time.Duration
	// DryRun asks the server to validate every write without persisting it.
	DryRun bool
	// Template is the pod template both versions are deployed from (--pod-template); nil means
	// the default: one container named Container (else ContainerName) listening on Port.
	Template *PodTemplate
	// Container names the scoring container (--container); "" means the only one, else ContainerName.
	Container string
	// ChangedBy records who changed traffic: a pipeline run URL, or "local".
	ChangedBy string
	// Lock is the namespace's lock a stage that writes takes first.
	Lock Lock
}

// ReadinessNone is the --readiness-path that adds no readiness probe: a container without one is
// deployed as it is (Kubernetes then calls its pods ready as soon as the process starts).
const ReadinessNone = "none"

// Default returns the documented flow's names and values; every one can be overridden.
func Default() Config {
	return Config{
		Namespace: "abtesting",
		App:       "model",
		Objects: map[Version]Names{
			Green: {Deployment: "model-green", Service: "model-svc-green"},
			Blue:  {Deployment: "model-blue", Service: "model-svc-blue"},
		},
		Gateway:         "mlmodel-gateway",
		VirtualService:  "mlmodel-virtualservice",
		GatewaySelector: "istio=ingressgateway",
		Ingress:         IngressAuto,
		Hosts:           []string{"*"},
		GatewayPort:     80,
		Port:            5001,
		Replicas:        1,
		ReadinessPath:   "/",
		CapacityCheck:   CapacityAuto,
		Header:          "x-api-version",
		URIPrefix:       "/score",
		Timeout:         10 * time.Minute,
		ChangedBy:       "local",
		Lock:            Lock{Name: DefaultLockName},
	}
}
