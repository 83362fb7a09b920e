package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestValidateRules: each rule of Validate at its edges — the last value it accepts and the first
// it refuses — and which input a refusal names. The gateway (TestGatewayInput) and the image
// inputs (TestImageFrom) have tables of their own.
func TestValidateRules(t *testing.T) {
	names := func(v Version, deployment, service string) func(c *Config) {
		return func(c *Config) {
			objs := map[Version]Names{Green: c.Objects[Green], Blue: c.Objects[Blue]}
			objs[v] = Names{Deployment: deployment, Service: service}
			c.Objects = objs
		}
	}
	cases := []struct {
		name  string
		edit  func(c *Config)
		input string // "" when valid
	}{
		{"the documented defaults", func(*Config) {}, ""},
		{"namespace of 63 characters", func(c *Config) { c.Namespace = strings.Repeat("n", 63) }, ""},
		{"namespace of 64 characters", func(c *Config) { c.Namespace = strings.Repeat("n", 64) }, "namespace"},
		{"namespace with a dot", func(c *Config) { c.Namespace = "ab.testing" }, "namespace"},
		{"namespace in upper case", func(c *Config) { c.Namespace = "ABtesting" }, "namespace"},
		{"app with '_' and '.'", func(c *Config) { c.App = "My_model.v2" }, ""},
		{"app empty", func(c *Config) { c.App = "" }, "app"},
		{"app ending in '-'", func(c *Config) { c.App = "model-" }, "app"},
		{"deployment with a dot", names(Blue, "model.blue", "model-svc-blue"), ""},
		{"deployment in upper case", names(Blue, "Model-blue", "model-svc-blue"), "blue-deployment"},
		{"service starting with a digit (DNS-1035)", names(Green, "model-green", "1-svc"), "green-service"},
		{"service with a dot", names(Green, "model-green", "svc.green"), "green-service"},
		{"the two versions share a Deployment", names(Blue, "model-green", "model-svc-blue"), "blue-deployment"},
		{"the two versions share a Service", names(Blue, "model-blue", "model-svc-green"), "blue-service"},
		{"a Deployment named like the other version's Service", names(Blue, "model-svc-green", "model-svc-blue"), ""},
		{"virtual-service with a dot", func(c *Config) { c.VirtualService = "vs.v1" }, ""},
		{"virtual-service empty", func(c *Config) { c.VirtualService = "" }, "virtual-service"},
		{"gateway-selector with a prefixed key", func(c *Config) { c.GatewaySelector = "app.kubernetes.io/name=gw" }, ""},
		{"gateway-selector without '='", func(c *Config) { c.GatewaySelector = "istio" }, "gateway-selector"},
		{"gateway-selector with an empty value", func(c *Config) { c.GatewaySelector = "istio=" }, "gateway-selector"},
		{"gateway-selector with two labels", func(c *Config) { c.GatewaySelector = "istio=a,app=b" }, "gateway-selector"},
		{"ingress internal, the selector detected", func(c *Config) { c.Ingress, c.DetectGateway = IngressInternal, true }, ""},
		{"ingress external, the selector given", func(c *Config) { c.Ingress = IngressExternal }, "ingress"},
		{"ingress auto, the selector given", func(c *Config) { c.Ingress = IngressAuto }, ""},
		{"ingress neither external nor internal", func(c *Config) { c.Ingress, c.DetectGateway = "public", true }, "ingress"},
		{"ingress empty in a Config built in code: auto", func(c *Config) { c.Ingress, c.DetectGateway = "", true }, ""},
		{"hosts: a wildcard domain and an unrelated name", func(c *Config) { c.Hosts = []string{"*.example.com", "api.example.org"} }, ""},
		{"hosts: none", func(c *Config) { c.Hosts = nil }, "hosts"},
		{"hosts: upper case", func(c *Config) { c.Hosts = []string{"API.example.com"} }, "hosts"},
		{"hosts: a wildcard not at the start", func(c *Config) { c.Hosts = []string{"api.*.com"} }, "hosts"},
		{"hosts: the same name twice", func(c *Config) { c.Hosts = []string{"a.example.com", "a.example.com"} }, "hosts"},
		{"hosts: a name the wildcard covers", func(c *Config) { c.Hosts = []string{"*.example.com", "a.example.com"} }, "hosts"},
		{"hosts: '*' and anything", func(c *Config) { c.Hosts = []string{"a.example.com", "*"} }, "hosts"},
		{"hosts: nested wildcards", func(c *Config) { c.Hosts = []string{"*.example.com", "*.a.example.com"} }, "hosts"},
		{"hosts: a short name on mlcanary's Gateway", func(c *Config) { c.Hosts = []string{"model"} }, "hosts"},
		{"hosts: a short name on someone else's Gateway", func(c *Config) { c.Hosts, c.Gateway = []string{"model"}, "istio-system/public" }, ""},
		{"hosts: an all-numeric top-level label", func(c *Config) { c.Hosts, c.Gateway = []string{"model.123"}, "istio-system/public" }, "hosts"},
		{"hosts: an IP", func(c *Config) { c.Hosts = []string{"10.0.0.1"} }, ""},
		{"hosts: a label of 63 characters", func(c *Config) { c.Hosts = []string{strings.Repeat("a", 63) + ".com"} }, ""},
		{"hosts: a label of 64 characters", func(c *Config) { c.Hosts = []string{strings.Repeat("a", 64) + ".com"} }, "hosts"},
		{"gateway-port 65535", func(c *Config) { c.GatewayPort = 65535 }, ""},
		{"gateway-port 0", func(c *Config) { c.GatewayPort = 0 }, "gateway-port"},
		{"port 1", func(c *Config) { c.Port = 1 }, ""},
		{"port 65536", func(c *Config) { c.Port = 65536 }, "port"},
		{"replicas 1000", func(c *Config) { c.Replicas = 1000 }, ""},
		{"replicas 0", func(c *Config) { c.Replicas = 0 }, "replicas"},
		{"replicas 1001", func(c *Config) { c.Replicas = 1001 }, "replicas"},
		{"image-pull-secret with a dot", func(c *Config) { c.ImagePullSecret = "acr.pull" }, ""},
		{"image-pull-secret with '_'", func(c *Config) { c.ImagePullSecret = "acr_pull" }, "image-pull-secret"},
		{"header with digits", func(c *Config) { c.Header = "x-model-2" }, ""},
		{"header in upper case (Istio requires lower case)", func(c *Config) { c.Header = "X-Api-Version" }, "header"},
		{"header ending in '-'", func(c *Config) { c.Header = "x-api-" }, "header"},
		{"header of 257 characters", func(c *Config) { c.Header = strings.Repeat("h", 257) }, "header"},
		{"uri-prefix /", func(c *Config) { c.URIPrefix = "/" }, ""},
		{"uri-prefix percent-encoded", func(c *Config) { c.URIPrefix = "/sc%C3%B6re" }, ""},
		{"uri-prefix of 1024 characters", func(c *Config) { c.URIPrefix = "/" + strings.Repeat("p", 1023) }, ""},
		{"uri-prefix of 1025 characters", func(c *Config) { c.URIPrefix = "/" + strings.Repeat("p", 1024) }, "uri-prefix"},
		{"uri-prefix without a leading /", func(c *Config) { c.URIPrefix = "score" }, "uri-prefix"},
		{"uri-prefix with a query", func(c *Config) { c.URIPrefix = "/score?x=1" }, "uri-prefix"},
		{"uri-prefix with a fragment", func(c *Config) { c.URIPrefix = "/score#a" }, "uri-prefix"},
		{"uri-prefix with a space", func(c *Config) { c.URIPrefix = "/sc ore" }, "uri-prefix"},
		{"uri-prefix not ASCII", func(c *Config) { c.URIPrefix = "/scöre" }, "uri-prefix"},
		{"uri-prefix with a control character", func(c *Config) { c.URIPrefix = "/score\x7f" }, "uri-prefix"},
		{"readiness-path /", func(c *Config) { c.ReadinessPath = "/" }, ""},
		{"readiness-path none", func(c *Config) { c.ReadinessPath = "none" }, ""},
		{"readiness-path with a query", func(c *Config) { c.ReadinessPath = "/health?ready=1" }, ""},
		{"readiness-path of 1024 characters", func(c *Config) { c.ReadinessPath = "/" + strings.Repeat("p", 1023) }, ""},
		{"readiness-path of 1025 characters", func(c *Config) { c.ReadinessPath = "/" + strings.Repeat("p", 1024) }, "readiness-path"},
		{"readiness-path empty", func(c *Config) { c.ReadinessPath = "" }, "readiness-path"},
		{"readiness-path None (only none in lower case)", func(c *Config) { c.ReadinessPath = "None" }, "readiness-path"},
		{"readiness-path without a leading /", func(c *Config) { c.ReadinessPath = "health" }, "readiness-path"},
		{"readiness-path with a scheme and host", func(c *Config) { c.ReadinessPath = "http://localhost:5001/" }, "readiness-path"},
		{"readiness-path naming a host (//)", func(c *Config) { c.ReadinessPath = "//localhost/" }, "readiness-path"},
		{"readiness-path with a space", func(c *Config) { c.ReadinessPath = "/he alth" }, "readiness-path"},
		{"readiness-path with a leading space", func(c *Config) { c.ReadinessPath = " /" }, "readiness-path"},
		{"readiness-path with a fragment", func(c *Config) { c.ReadinessPath = "/health#x" }, "readiness-path"},
		{"readiness-path not ASCII", func(c *Config) { c.ReadinessPath = "/bereitü" }, "readiness-path"},
		{"readiness-path with a newline", func(c *Config) { c.ReadinessPath = "/\n" }, "readiness-path"},
		{"timeout 24h", func(c *Config) { c.Timeout = 24 * time.Hour }, ""},
		{"timeout 0", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"timeout over 24h", func(c *Config) { c.Timeout = 24*time.Hour + time.Second }, "timeout"},
		{"lock-name with a dot", func(c *Config) { c.Lock.Name = "mlcanary.scoring" }, ""},
		{"lock-name in upper case", func(c *Config) { c.Lock.Name = "MLCanary" }, FlagLockName},
		{"lock-name empty", func(c *Config) { c.Lock.Name = "" }, FlagLockName},
		{"lock-timeout 24h", func(c *Config) { c.Lock.Timeout = 24 * time.Hour }, ""},
		{"lock-timeout over 24h", func(c *Config) { c.Lock.Timeout = 24*time.Hour + time.Second }, FlagLockTimeout},
		{"an image with a tag", func(c *Config) { c.Image = "myacr.azurecr.io/model:42" }, ""},
		{"an image without a tag (the kubelet would pull :latest)", func(c *Config) { c.Image = "myacr.azurecr.io/model" }, FlagImage},
	}
	for _, tc := range cases {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		var in *InputError
		switch {
		case tc.input == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.input != "" && (!errors.As(err, &in) || in.Input != tc.input):
			t.Errorf("%s: %v, want an InputError naming %s", tc.name, err, tc.input)
		case in != nil && in.Allowed == "":
			t.Errorf("%s: %v says nothing of what is allowed", tc.name, err)
		}
	}
}

// TestValidateNeedsImage: a stage that deploys (Blue_0) refuses a missing image, naming the image
// input and the stage; the others, and commands without a stage, accept none.
func TestValidateNeedsImage(t *testing.T) {
	c := Default()
	c.Stage = Stage{Kind: KindBlue0}
	var in *InputError
	if err := c.Validate(); !errors.As(err, &in) || in.Input != FlagImage || !strings.Contains(in.Allowed, "Blue_0 deploys it") {
		t.Errorf("Blue_0 without an image: %v", err)
	}
	for _, k := range []Kind{KindBlue100, KindGreen100, KindRollback} {
		c.Stage = Stage{Kind: k}
		if err := c.Validate(); err != nil {
			t.Errorf("%s without an image: %v", c.Stage, err)
		}
	}
}
