package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodTemplate is the pod template both versions are deployed from (--pod-template), parsed and
// checked against what mlcanary owns (CheckPodTemplate). mlcanary uses its pod spec, labels and
// annotations as they are and sets only the version labels, the scoring container's image (and
// its port --port when it declares none) and the image pull secret.
type PodTemplate struct {
	// Source is the file as the user typed it ("-" for standard input), for messages.
	Source string
	// Spec is the pod template as given (a Deployment's spec.template, or the bare PodTemplateSpec).
	Spec corev1.PodTemplateSpec
	// Container is the scoring container's name: the one --container names, else the only
	// container, else the one named ContainerName.
	Container string
	// Deployment holds the Deployment-level settings of the file's Deployment that mlcanary keeps
	// on both versions' Deployments (zero for a bare PodTemplateSpec): strategy, minReadySeconds,
	// revisionHistoryLimit and progressDeadlineSeconds (render raises the deadline to --timeout).
	Deployment DeploymentSettings
	// Hash identifies the template whatever image it runs: 24 hex digits of the SHA-256 of Spec as
	// JSON with the scoring container's image cleared. Recorded on each Deployment
	// (TemplateHashAnnotation) so later stages can tell whether a version still runs this template.
	Hash string
}

// DeploymentSettings are the fields of a Deployment's spec besides its pod template that a team
// sets for how its model rolls out — a GPU pool with no spare GPU needs maxSurge 0, a slow model
// load a longer progressDeadlineSeconds — kept on mlcanary's Deployments as the file says (nil and
// zero: the API server's defaults). spec.paused is refused (a paused Deployment never rolls out)
// and spec.replicas is --replicas' (or the autoscaler's).
type DeploymentSettings struct {
	Strategy                appsv1.DeploymentStrategy
	MinReadySeconds         int32
	RevisionHistoryLimit    *int32
	ProgressDeadlineSeconds *int32
}

// Annotations on a Deployment deployed from a pod template: TemplateHashAnnotation records
// PodTemplate.Hash, ContainerAnnotation its scoring container (PodTemplate.Container), so a later
// stage — without --pod-template — knows which template and which container a version runs.
const (
	TemplateHashAnnotation = "mlcanary.io/template-hash"
	ContainerAnnotation    = "mlcanary.io/container"
)

// maxTemplateBytes bounds what --pod-template reads: a rendered chart is rarely above 1 MiB.
const maxTemplateBytes = 16 << 20

// AllowedPodTemplate is what --pod-template takes.
const AllowedPodTemplate = "a file (or - for standard input) holding a Deployment (apps/v1) or a PodTemplateSpec as YAML or JSON; a multi-document stream (helm template, kustomize build) with exactly one Deployment"

// readPodTemplate reads the file named source ("-": stdin) and parses it (ParsePodTemplate).
func readPodTemplate(source string, stdin io.Reader, c *Config) (*PodTemplate, error) {
	var r io.Reader
	if source == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		r = stdin
	} else {
		f, err := os.Open(source)
		if err != nil {
			return nil, templateError(source, "cannot be read: "+pathError(err))
		}
		defer func() { _ = f.Close() }() // read-only: a close error loses nothing
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxTemplateBytes+1))
	if err != nil {
		return nil, templateError(source, "cannot be read: "+pathError(err))
	}
	if len(data) > maxTemplateBytes {
		return nil, templateError(source, fmt.Sprintf("is larger than %d MiB", maxTemplateBytes>>20))
	}
	return ParsePodTemplate(source, data, c)
}

// pathError is err without the path (the message names the file once, as typed).
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// templateError is bad input in the pod template file source: one line naming the file as typed,
// what is allowed and what was found.
func templateError(source, found string) *InputError {
	return &InputError{Input: FlagPodTemplate, Value: source, Allowed: AllowedPodTemplate + "; this one " + found}
}

// ParsePodTemplate decodes data (the contents of source) strictly — a misspelled or unknown field
// is refused, named with its path — into the pod template of its one Deployment or of a bare
// PodTemplateSpec, and checks it against what c (port, app, container) makes mlcanary own
// (CheckPodTemplate). Every problem is an *InputError naming source.
func ParsePodTemplate(source string, data []byte, c *Config) (*PodTemplate, error) {
	spec, selector, settings, err := findTemplate(source, data)
	if err != nil {
		return nil, err
	}
	t := &PodTemplate{Source: source, Spec: *spec, Deployment: settings}
	if err := checkPodTemplate(t, selector, c); err != nil {
		return nil, err
	}
	return t, nil
}

// document is one object of the stream, as far as telling its kind needs.
type document struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// findTemplate finds the pod template in the stream: the one Deployment's spec.template (other
// kinds are skipped; a List's items count as documents) with its selector and its settings, or a
// single bare PodTemplateSpec (nil selector, no settings).
func findTemplate(source string, data []byte) (*corev1.PodTemplateSpec, *metav1.LabelSelector, DeploymentSettings, error) {
	docs, err := splitDocuments(source, data)
	if err != nil {
		return nil, nil, DeploymentSettings{}, err
	}
	var selector *metav1.LabelSelector
	var deployments, kinds []string
	var found *corev1.PodTemplateSpec
	var settings DeploymentSettings
	bare := false
	for i, raw := range docs {
		var d document
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, nil, DeploymentSettings{}, templateError(source, fmt.Sprintf("has a document %d that is not an object", i+1))
		}
		name := shownName(d.Metadata.Name)
		switch {
		case d.Kind == "Deployment":
			if d.APIVersion != "apps/v1" {
				return nil, nil, DeploymentSettings{}, templateError(source, fmt.Sprintf("has Deployment %s of apiVersion %s, not apps/v1", name, strconv.Quote(shownName(d.APIVersion))))
			}
			var dep appsv1.Deployment
			if err := strict(source, raw, &dep, "Deployment "+name); err != nil {
				return nil, nil, DeploymentSettings{}, err
			}
			if dep.Spec.Paused {
				return nil, nil, DeploymentSettings{}, templateError(source, "has Deployment "+name+" with spec.paused true: a paused Deployment never rolls out; remove it")
			}
			deployments = append(deployments, name)
			found, selector = &dep.Spec.Template, dep.Spec.Selector
			settings = DeploymentSettings{Strategy: dep.Spec.Strategy, MinReadySeconds: dep.Spec.MinReadySeconds,
				RevisionHistoryLimit: dep.Spec.RevisionHistoryLimit, ProgressDeadlineSeconds: dep.Spec.ProgressDeadlineSeconds}
		case d.Kind == "" && d.APIVersion == "":
			bare = true
			if len(docs) > 1 {
				continue
			}
			var t corev1.PodTemplateSpec
			if err := strict(source, raw, &t, "PodTemplateSpec"); err != nil {
				return nil, nil, DeploymentSettings{}, err
			}
			found = &t
		case d.Kind == "":
			kinds = append(kinds, "an object of apiVersion "+shownName(d.APIVersion)+" without kind")
		default:
			kinds = append(kinds, strings.TrimSpace(shownName(d.Kind)+" "+name))
		}
	}
	switch {
	case bare && len(docs) > 1:
		return nil, nil, DeploymentSettings{}, templateError(source, fmt.Sprintf("has a document without kind (a bare PodTemplateSpec) among %d documents: a PodTemplateSpec must be alone in the file; give its Deployment (kind: Deployment) in a stream", len(docs)))
	case len(deployments) > 1:
		return nil, nil, DeploymentSettings{}, templateError(source, "has "+fmt.Sprint(len(deployments))+" Deployments ("+strings.Join(deployments, ", ")+"); keep the one that runs the model")
	case found == nil && len(kinds) > 0:
		return nil, nil, DeploymentSettings{}, templateError(source, "has no Deployment (found "+strings.Join(kinds, ", ")+")")
	case found == nil:
		return nil, nil, DeploymentSettings{}, templateError(source, "is empty")
	case len(found.Spec.Containers) == 0:
		return nil, nil, DeploymentSettings{}, templateError(source, "has no containers (spec.containers)")
	}
	return found, selector, settings, nil
}

// TemplateHash is PodTemplate.Hash for spec whose scoring container is container: also how a
// Deployment mlcanary did not create is told apart by its live pod template (it records none).
func TemplateHash(spec corev1.PodTemplateSpec, container string) string {
	c := *spec.DeepCopy()
	for i := range c.Spec.Containers {
		if c.Spec.Containers[i].Name == container {
			c.Spec.Containers[i].Image = ""
		}
	}
	data, _ := json.Marshal(c)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}
