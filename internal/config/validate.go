package config

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mlcanary/mlcanary/internal/admission"
)

// isHeaderName reports whether s is what Istio documents for header match keys: lower-case
// letters, digits and hyphens, starting and ending with a letter or digit (the regexp
// ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$, as a loop: nothing to compile at process start, #12).
func isHeaderName(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Validate checks every field a run will use and returns the first *InputError. The image is
// required when c.Stage needs one (Stage.NeedsImage: Blue_0); other stages, and commands without
// a stage, only check one that is given.
func (c *Config) Validate() error { return c.validate(func(string) bool { return false }) }

// validate is Validate knowing which inputs the user gave (Inputs.given), so that a rule between
// two inputs blames the one the user typed.
func (c *Config) validate(given func(flag string) bool) error {
	checks := []func() error{
		func() error { return dns1123Label("namespace", c.Namespace) },
		func() error { return labelValue("app", c.App) },
		func() error { return c.validateObjects(given) },
		c.validateGateway,
		func() error { return dns1123Subdomain("virtual-service", c.VirtualService) },
		c.validateSelector,
		func() error { return c.validateIngress(given) },
		c.validateHosts,
		func() error { return port("gateway-port", c.GatewayPort) },
		func() error { return port("port", c.Port) },
		c.validateReplicas,
		c.validatePullSecret,
		c.validateHeader,
		c.validateURIPrefix,
		c.validateReadinessPath,
		func() error { return c.validateImage(c.Stage.NeedsImage()) },
		c.validateTimeout,
		c.validateContainer,
		c.validateLock,
		func() error {
			if c.CapacityCheck == "" {
				return nil // a Config built in code: auto
			}
			_, err := capacityCheckInput(string(c.CapacityCheck))
			return err
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateObjects checks each Deployment and Service name, and that no two Deployments and no two
// Services share a name. A clash names the input the user gave (given): with
// --green-deployment=model-blue, green-deployment, not blue-deployment, whose default it hits.
func (c *Config) validateObjects(given func(flag string) bool) error {
	for _, v := range Versions {
		n := c.Objects[v]
		if err := dns1123Subdomain(string(v)+"-deployment", n.Deployment); err != nil {
			return err
		}
		if errs := validation.IsDNS1035Label(n.Service); len(errs) > 0 {
			return &InputError{Input: string(v) + "-service", Value: n.Service, Allowed: "a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters"}
		}
	}
	for _, kind := range []string{"deployment", "service"} {
		var inputs []string
		names := map[string]string{}
		for _, v := range Versions {
			input := string(v) + "-" + kind
			inputs = append(inputs, input)
			names[input] = c.Objects[v].Deployment
			if kind == "service" {
				names[input] = c.Objects[v].Service
			}
		}
		if err := distinct(inputs, names, given); err != nil {
			return err
		}
	}
	return nil
}

// distinct refuses two inputs with the same value, naming the one the user gave (given) — the
// later one when both or neither were given — and saying what the other holds when it was not.
func distinct(inputs []string, value map[string]string, given func(flag string) bool) error {
	for i, b := range inputs {
		for _, a := range inputs[:i] {
			if value[a] != value[b] {
				continue
			}
			blamed, other := b, a
			if given(a) && !given(b) {
				blamed, other = a, b
			}
			allowed := "a name different from {" + other + "}"
			if !given(other) {
				allowed += fmt.Sprintf(", which is %q when not given (set {%s} too to use this name)", value[other], other)
			}
			return &InputError{Input: blamed, Value: value[blamed], Allowed: allowed}
		}
	}
	return nil
}

func (c *Config) validateSelector() error {
	k, v, ok := strings.Cut(c.GatewaySelector, "=")
	if !ok || len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 || v == "" {
		return &InputError{Input: "gateway-selector", Value: c.GatewaySelector, Allowed: "one label as key=value, e.g. istio=ingressgateway"}
	}
	return nil
}

// validateIngress: --ingress chooses among the gateways a stage detects, so it needs the selector
// to be detected (no {gateway-selector}). "" is auto in a Config built in code (AddOnIngress), and
// refused when the user typed it.
func (c *Config) validateIngress(given func(flag string) bool) error {
	switch c.Ingress {
	case IngressAuto:
		return nil
	case "":
		if !given(FlagIngress) {
			return nil // a Config built in code: auto
		}
	case IngressExternal, IngressInternal:
		if !c.DetectGateway {
			return &InputError{Input: FlagIngress, Value: c.Ingress, Allowed: "auto when {gateway-selector} is given: the selector already names the gateway (" + c.GatewaySelector + ")"}
		}
		return nil
	}
	return &InputError{Input: FlagIngress, Value: c.Ingress, Allowed: "external or internal (AKS's Istio add-on's ingress gateway), or auto"}
}

// validateHosts holds --hosts to Istio's admission rules for the fields mlcanary writes them into,
// by the same code that checks the objects before they are sent (package admission): every
// VirtualService host (admission.VirtualServiceHost), and, when mlcanary owns the Gateway (a bare
// {gateway} name), every Gateway server host (admission.GatewayServerHost: no short names). A
// short name is allowed with {gateway} NAMESPACE/NAME, whose servers are someone else's. mlcanary
// also asks for lower case, and hosts that do not overlap (Istio's "duplicate hosts").
func (c *Config) validateHosts() error {
	if len(c.Hosts) == 0 {
		return &InputError{Input: FlagHosts, Value: "", Allowed: `at least one host: "*" or a DNS name, optionally starting with "*."`}
	}
	_, _, external := c.GatewayRef()
	for _, h := range c.Hosts {
		if h == "*" {
			continue
		}
		if len(validation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*."))) > 0 {
			return &InputError{Input: FlagHosts, Value: h, Allowed: `"*" or a lower-case DNS name, optionally starting with "*."`}
		}
		if err := admission.VirtualServiceHost(h); err != nil {
			return &InputError{Input: FlagHosts, Value: h, Allowed: `"*", an IP, or a DNS name of labels of at most 63 characters whose last label is not all digits, ` +
				`optionally starting with "*." (Istio refuses this host on the VirtualService: ` + err.Error() + ")"}
		}
		if err := admission.GatewayServerHost(h); err != nil && !external {
			return &InputError{Input: FlagHosts, Value: h, Allowed: `"*", an IP, or a fully qualified DNS name (with a dot, e.g. model.example.com), optionally starting with "*." ` +
				`(Istio refuses this host on the Gateway mlcanary writes: ` + err.Error() + `); a short name needs {gateway} NAMESPACE/NAME of an existing Gateway`}
		}
	}
	for i, a := range c.Hosts {
		for _, b := range c.Hosts[:i] {
			if admission.HostsOverlap(a, b) {
				return &InputError{Input: FlagHosts, Value: strings.Join(c.Hosts, ","), Allowed: fmt.Sprintf(
					`hosts that do not overlap (%q and %q name the same requests: Istio rejects a VirtualService whose hosts overlap); give the wider one only`, b, a)}
			}
		}
	}
	return nil
}

func (c *Config) validateReplicas() error {
	if c.Replicas < 1 || c.Replicas > 1000 {
		return &InputError{Input: "replicas", Value: fmt.Sprint(c.Replicas), Allowed: allowedReplicas}
	}
	return nil
}

func (c *Config) validatePullSecret() error {
	if c.ImagePullSecret == "" {
		return nil
	}
	return dns1123Subdomain("image-pull-secret", c.ImagePullSecret)
}

func (c *Config) validateHeader() error {
	if !isHeaderName(c.Header) || len(c.Header) > 256 {
		return &InputError{Input: "header", Value: c.Header, Allowed: "a lower-case HTTP header name of letters, digits and '-' (Istio requires lower case), e.g. x-api-version"}
	}
	return nil
}

func (c *Config) validateURIPrefix() error {
	// A request path on the wire is printable ASCII (RFC 3986; anything else is percent-encoded),
	// and Envoy matches the prefix against it as sent, so nothing else could ever match.
	bad := !strings.HasPrefix(c.URIPrefix, "/") || len(c.URIPrefix) > 1024 || strings.ContainsAny(c.URIPrefix, "?#")
	for i := 0; i < len(c.URIPrefix) && !bad; i++ {
		bad = c.URIPrefix[i] <= ' ' || c.URIPrefix[i] >= 0x7f
	}
	if bad {
		return &InputError{Input: "uri-prefix", Value: c.URIPrefix, Allowed: `a URL path starting with "/" of printable ASCII without spaces, "?" or "#" (percent-encode other characters), at most 1024 characters, e.g. /score`}
	}
	return nil
}

// AllowedReadinessPath is what --readiness-path takes.
const AllowedReadinessPath = `an absolute HTTP path starting with "/" (no scheme or host) of printable ASCII without spaces or "#", at most 1024 characters, e.g. / (what Azure ML's inference server answers once the model is loaded), or none to add no readiness probe`

// validateReadinessPath: the kubelet requests the path as given on the pod's IP and the scoring
// port, so it must be a request path on its own — "//host/x" or "http://…" would name a host, and
// a space or a non-ASCII byte cannot be sent unencoded.
func (c *Config) validateReadinessPath() error {
	p := c.ReadinessPath
	if p == ReadinessNone {
		return nil
	}
	bad := !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 1024 || strings.Contains(p, "#")
	for i := 0; i < len(p) && !bad; i++ {
		bad = p[i] <= ' ' || p[i] >= 0x7f
	}
	if bad {
		return &InputError{Input: FlagReadinessPath, Value: p, Allowed: AllowedReadinessPath}
	}
	return nil
}

func (c *Config) validateImage(need bool) error {
	if c.Image == "" && need {
		return &InputError{Input: FlagImage, Value: "", Allowed: "a full image reference with a tag or digest (or {image-repo} plus {image-tag}); " + c.Stage.String() + " deploys it as blue"}
	}
	if c.Image == "" {
		return nil
	}
	return CheckImage(FlagImage, c.Image) // Inputs.Config already checked it in ImageFrom, naming its input
}

func (c *Config) validateTimeout() error {
	if c.Timeout <= 0 || c.Timeout > maxTimeout {
		return &InputError{Input: "timeout", Value: c.Timeout.String(), Allowed: allowedTimeout}
	}
	return nil
}

// ImageFrom joins the documented IMAGE_REPO_NAME style (repository, optionally with its registry
// host) and a tag into one reference, and checks it as the kubelet and containerd parse an image
// (reference.ParseNormalizedNamed): a repository plus a tag, a digest, or both. A problem names the input
// that holds it: image when a full image was given, else image-repo or image-tag.
//
// An image-tag of the form sha256:<64 hex> (what `docker push` and most registries print) is a
// digest, not a tag — a tag cannot contain ':' — so it is joined as repo@sha256:<hex>;
// 42@sha256:<hex> is joined as repo:42@sha256:<hex>. Giving both image and image-repo/image-tag
// is refused.
func ImageFrom(image, repo, tag string) (string, error) {
	switch {
	case image != "" && (repo != "" || tag != ""):
		return "", &InputError{Input: FlagImage, Value: image, Allowed: "either {image} or {image-repo} plus {image-tag}, not both"}
	case image != "":
		if err := CheckImage(FlagImage, image); err != nil {
			return "", err
		}
		return image, nil
	case repo == "" && tag == "":
		return "", nil
	case repo == "":
		return "", &InputError{Input: FlagImageRepo, Value: "", Allowed: "a repository such as myregistry.azurecr.io/model when {image-tag} is given"}
	case tag == "":
		return "", &InputError{Input: FlagImageTag, Value: "", Allowed: "a tag such as 42 (or a digest sha256:<64 hex digits>) when {image-repo} is given"}
	}
	if err := checkRepository(repo); err != nil {
		return "", err
	}
	joined := repo + ":" + tag
	if strings.HasPrefix(tag, "sha256:") {
		joined = repo + "@" + tag
	}
	if CheckImage(FlagImageTag, joined) != nil {
		return "", &InputError{Input: FlagImageTag, Value: tag, Allowed: imageTagAllowed}
	}
	return joined, nil
}

const imageTagAllowed = "a tag of letters, digits, '.', '_' and '-' (at most 128, not starting with '.' or '-'), " +
	"a digest sha256:<64 lower-case hex digits>, or both as TAG@sha256:<hex>"

// checkRepository refuses an image-repo that is not a repository name on its own: only a registry
// host, upper case, a tag or digest already attached, or anything the kubelet would not parse.
func checkRepository(repo string) error {
	if !strings.Contains(repo, "/") && strings.ContainsAny(repo, ".:") {
		return &InputError{Input: FlagImageRepo, Value: repo, Allowed: "a repository, not only a registry host: add the image name, e.g. myregistry.azurecr.io/model"}
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil || !reference.IsNameOnly(named) {
		return &InputError{Input: FlagImageRepo, Value: repo, Allowed: "a repository without tag or digest, e.g. myregistry.azurecr.io/model (lower case; letters, digits, '.', '_', '-' and '/')"}
	}
	return nil
}

// CheckImage checks that image, given as input (the flag's name), is what a kubelet can pull: a
// repository with a tag, a digest or both, parsed as the kubelet and containerd parse it
// (reference.ParseNormalizedNamed of github.com/distribution/reference). An image ID (a bare 64-hex string, or sha256:<hex> without a
// repository) is not a reference: no registry can be asked for it. A reference without a tag or
// digest is refused too, because the kubelet would pull ":latest", which changes under a release.
// The error is an *InputError naming input.
func CheckImage(input, image string) error {
	allowed := "an image reference with a tag or digest, e.g. myregistry.azurecr.io/model:42 or myregistry.azurecr.io/model@sha256:<64 hex digits> (lower-case repository, tag of letters, digits, '.', '_', '-')"
	if ref, err := reference.ParseAnyReference(image); err == nil {
		if _, named := ref.(reference.Named); !named {
			return &InputError{Input: input, Value: image, Allowed: "a pullable image reference, not an image ID or a bare digest: put the repository in front, e.g. myregistry.azurecr.io/model@sha256:<64 hex digits>"}
		}
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil || reference.IsNameOnly(named) || strings.TrimSpace(image) != image {
		return &InputError{Input: input, Value: image, Allowed: allowed}
	}
	return nil
}

func dns1123Label(input, v string) error {
	if len(validation.IsDNS1123Label(v)) > 0 {
		return &InputError{Input: input, Value: v, Allowed: "a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"}
	}
	return nil
}

func dns1123Subdomain(input, v string) error {
	if len(validation.IsDNS1123Subdomain(v)) > 0 {
		return &InputError{Input: input, Value: v, Allowed: "a DNS-1123 name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters"}
	}
	return nil
}

func labelValue(input, v string) error {
	if v == "" || len(validation.IsValidLabelValue(v)) > 0 {
		return &InputError{Input: input, Value: v, Allowed: "a label value: letters, digits, '-', '_' and '.', at most 63 characters"}
	}
	return nil
}

func port(input string, p int32) error {
	if p < 1 || p > 65535 {
		return &InputError{Input: input, Value: fmt.Sprint(p), Allowed: allowedPort}
	}
	return nil
}
