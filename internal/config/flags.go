package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Inputs are the raw, unparsed values of every input. The CLI binds them to flags; the Azure DevOps
// and GitHub front ends set them through the same FlagSet (fs.Set(name, value)), so every front end
// parses and validates an input in exactly one way.
type Inputs struct {
	Namespace, App                           string
	GreenDeployment, BlueDeployment          string
	GreenService, BlueService                string
	Gateway, VirtualService, GatewaySelector string
	Ingress                                  string
	Hosts                                    string
	GatewayPort, Port, Replicas              string
	ImagePullSecret, Header, URIPrefix       string
	ReadinessPath                            string
	Image, ImageRepo, ImageTag               string
	Timeout, CapacityCheck                   string
	PodTemplate, Container                   string
	DryRun                                   bool
	LockName, LockTimeout                    string

	// Stdin is what --pod-template - reads (os.Stdin when nil).
	Stdin io.Reader

	// fs is the FlagSet AddFlags bound the inputs to: it tells which inputs were given (given).
	fs *pflag.FlagSet
}

// Flag names, shared by the CLI, the GitHub Action (same names) and the Azure DevOps task
// (camelCase names mapped onto these).
const (
	FlagNamespace       = "namespace"
	FlagApp             = "app"
	FlagGreenDeployment = "green-deployment"
	FlagBlueDeployment  = "blue-deployment"
	FlagGreenService    = "green-service"
	FlagBlueService     = "blue-service"
	FlagGateway         = "gateway"
	FlagVirtualService  = "virtual-service"
	FlagGatewaySelector = "gateway-selector"
	FlagIngress         = "ingress"
	FlagHosts           = "hosts"
	FlagGatewayPort     = "gateway-port"
	FlagPort            = "port"
	FlagReplicas        = "replicas"
	FlagImagePullSecret = "image-pull-secret"
	FlagHeader          = "header"
	FlagURIPrefix       = "uri-prefix"
	FlagReadinessPath   = "readiness-path"
	FlagImage           = "image"
	FlagImageRepo       = "image-repo"
	FlagImageTag        = "image-tag"
	FlagTimeout         = "timeout"
	FlagDryRun          = "dry-run"
	FlagPodTemplate     = "pod-template"
	FlagContainer       = "container"
)

// AddFlags binds every input to fs with the documented defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	in.fs = fs
	d := Default()
	fs.StringVarP(&in.Namespace, FlagNamespace, "n", d.Namespace, "namespace of every object")
	fs.StringVar(&in.App, FlagApp, d.App, "value of the app label on Deployments, Services and pods")
	fs.StringVar(&in.GreenDeployment, FlagGreenDeployment, d.Objects[Green].Deployment, "green Deployment name")
	fs.StringVar(&in.BlueDeployment, FlagBlueDeployment, d.Objects[Blue].Deployment, "blue Deployment name")
	fs.StringVar(&in.GreenService, FlagGreenService, d.Objects[Green].Service, "green Service name")
	fs.StringVar(&in.BlueService, FlagBlueService, d.Objects[Blue].Service, "blue Service name")
	fs.StringVar(&in.Gateway, FlagGateway, d.Gateway, "Istio Gateway: a name mlcanary creates in the namespace, or NAMESPACE/NAME of an existing one to bind to")
	fs.StringVar(&in.VirtualService, FlagVirtualService, d.VirtualService, "Istio VirtualService name")
	fs.StringVar(&in.GatewaySelector, FlagGatewaySelector, "", "label key=value selecting the ingress gateway pods (default: detected from the cluster's ingress gateway Services; istio=ingressgateway offline)")
	ChoiceVarP(fs, &in.Ingress, FlagIngress, "", IngressAuto, "which ingress gateway of AKS's Istio add-on: external or internal (auto: external when the add-on's are the only gateways found)", IngressAuto, IngressExternal, IngressInternal)
	fs.StringVar(&in.Hosts, FlagHosts, strings.Join(d.Hosts, ","), "comma-separated hosts of the Gateway and VirtualService")
	fs.StringVar(&in.GatewayPort, FlagGatewayPort, fmt.Sprint(d.GatewayPort), "HTTP port of the Gateway")
	fs.StringVar(&in.Port, FlagPort, fmt.Sprint(d.Port), "container and Service port of the scoring image")
	fs.StringVar(&in.Replicas, FlagReplicas, fmt.Sprint(d.Replicas), "replicas per version")
	fs.StringVar(&in.ImagePullSecret, FlagImagePullSecret, "", "image pull secret referenced by both Deployments")
	fs.StringVar(&in.Header, FlagHeader, d.Header, "routing header whose value blue or green reaches that version")
	fs.StringVar(&in.URIPrefix, FlagURIPrefix, d.URIPrefix, "URI prefix the routes match")
	ChoiceVarP(fs, &in.ReadinessPath, FlagReadinessPath, "", d.ReadinessPath, `path of the HTTP GET readiness probe added, on --port, to a scoring container without one ("none": add no probe)`, ReadinessNone)
	fs.StringVar(&in.Image, FlagImage, "", "full image reference (registry/repository:tag) to deploy as blue")
	fs.StringVar(&in.ImageRepo, FlagImageRepo, "", "image repository, e.g. myregistry.azurecr.io/model (with --image-tag)")
	fs.StringVar(&in.ImageTag, FlagImageTag, "", "image tag (with --image-repo)")
	fs.StringVar(&in.Timeout, FlagTimeout, d.Timeout.String(), "how long to wait for a rollout, e.g. 10m")
	fs.StringVar(&in.PodTemplate, FlagPodTemplate, "", "file (- for standard input) holding the Deployment or PodTemplateSpec both versions are deployed from (YAML or JSON)")
	fs.StringVar(&in.Container, FlagContainer, "", "name of the scoring container (gets the image) in the pod template or in a Deployment mlcanary did not create (default: the only container, else the one named model)")
	ChoiceVarP(fs, &in.CapacityCheck, FlagCapacityCheck, "", string(d.CapacityCheck), "when a version has too few ready replicas for its new share of traffic: auto (enforce, or warn when an autoscaler scales it), off, warn or enforce", string(CapacityAuto), string(CapacityOff), string(CapacityWarn), string(CapacityEnforce))
	BoolVarP(fs, &in.DryRun, FlagDryRun, "", false, "validate every write on the server without persisting it")
	in.addLockFlags(fs)
}

// Config parses and validates the inputs for a command that performs or plans stage, the stage
// name as typed (an empty or unknown name is an *InputError naming "stage", like every other
// problem).
func (in *Inputs) Config(stage string) (Config, error) {
	c := Default()
	s, err := ParseStage(stage)
	if err != nil {
		return c, err
	}
	c.Stage = s
	return in.finish(c)
}

// StatusConfig parses and validates the inputs for a command without a stage (status, verify).
func (in *Inputs) StatusConfig() (Config, error) {
	return in.finish(Default())
}

// finish fills c from the inputs, validates it, and then reads and checks the pod template, whose
// rules depend on valid {port}, {app} and {container} values.
func (in *Inputs) finish(c Config) (Config, error) {
	if err := in.fill(&c); err != nil {
		return c, err
	}
	if err := c.validate(in.given); err != nil {
		return c, err
	}
	if in.PodTemplate != "" {
		t, err := readPodTemplate(in.PodTemplate, in.Stdin, &c)
		if err != nil {
			return c, err
		}
		c.Template = t
	}
	return c, nil
}

// given reports whether the user gave the input named flag: it was set (pflag's Changed: typed on
// the command line, or set by a front end from a task or action input) to something other than its
// default. A front end that passes every input with its default value (Azure DevOps passes a task
// input's defaultValue) therefore does not count as giving it. Without a FlagSet, nothing is given.
func (in *Inputs) given(flag string) bool {
	if in.fs == nil {
		return false
	}
	f := in.fs.Lookup(flag)
	return f != nil && f.Changed && f.Value.String() != f.DefValue
}

func (in *Inputs) fill(c *Config) error {
	c.Namespace, c.App = in.Namespace, in.App
	c.Objects = map[Version]Names{
		Green: {Deployment: in.GreenDeployment, Service: in.GreenService},
		Blue:  {Deployment: in.BlueDeployment, Service: in.BlueService},
	}
	c.Gateway, c.VirtualService, c.Ingress = in.Gateway, in.VirtualService, strings.TrimSpace(in.Ingress)
	// Without a selector the stage detects it (engine, package ingress); the default stands for it
	// offline and in a plan's text until then.
	if c.GatewaySelector, c.DetectGateway = in.GatewaySelector, in.GatewaySelector == ""; c.DetectGateway {
		c.GatewaySelector = Default().GatewaySelector
	}
	c.Hosts = splitList(in.Hosts)
	c.ImagePullSecret, c.Header, c.URIPrefix, c.DryRun = in.ImagePullSecret, in.Header, in.URIPrefix, in.DryRun
	c.ReadinessPath = in.ReadinessPath
	c.Container = strings.TrimSpace(in.Container)
	var err error
	if c.GatewayPort, err = int32Input(FlagGatewayPort, in.GatewayPort, allowedPort); err != nil {
		return err
	}
	if c.Port, err = int32Input(FlagPort, in.Port, allowedPort); err != nil {
		return err
	}
	if c.Replicas, err = int32Input(FlagReplicas, in.Replicas, allowedReplicas); err != nil {
		return err
	}
	if c.Image, err = ImageFrom(in.Image, in.ImageRepo, in.ImageTag); err != nil {
		return err
	}
	if c.Timeout, err = durationInput(in.Timeout); err != nil {
		return err
	}
	if c.CapacityCheck, err = capacityCheckInput(in.CapacityCheck); err != nil {
		return err
	}
	return in.fillLock(c)
}

// What the numeric inputs allow, said the same way whether the value does not parse (fill) or is
// out of range (Validate).
const (
	allowedPort     = "a port number from 1 to 65535"
	allowedReplicas = "a whole number from 1 to 1000 (a version with no replicas can never be ready)"
	allowedTimeout  = "a duration above 0 and at most 24h, such as 10m, 90s or 1h30m (a bare number means seconds)"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func int32Input(name, v, allowed string) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, &InputError{Input: name, Value: v, Allowed: allowed}
	}
	return int32(n), nil
}

// maxTimeout bounds --timeout; Validate refuses more.
const maxTimeout = 24 * time.Hour

func durationInput(v string) (time.Duration, error) {
	d, ok := parseWait(v, false)
	if !ok {
		return 0, &InputError{Input: FlagTimeout, Value: v, Allowed: allowedTimeout}
	}
	return d, nil
}

// parseWait reads a wait as the timeout inputs take it: a bare number of seconds (as in most CI
// task inputs) or a Go duration, up to maxTimeout, and 0 only when zero is allowed. ok is false
// for anything else.
func parseWait(v string, zero bool) (d time.Duration, ok bool) {
	t := strings.TrimSpace(v)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 || n == 0 && !zero || n > int64(maxTimeout/time.Second) { // checked before multiplying: no overflow
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 || d == 0 && !zero || d > maxTimeout {
		return 0, false
	}
	return d, true
}
