package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/kube/memory"
	"github.com/mlcanary/mlcanary/internal/plan"
	"github.com/mlcanary/mlcanary/internal/secret"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// Placeholders stand for images only the cluster knows, in an offline plan.
const (
	GreenImagePlaceholder = "<green's image on the cluster>"
	BlueImagePlaceholder  = "<blue's image on the cluster>"
)

// OfflineNote opens the notes of every offline plan.
const OfflineNote = "offline plan: no cluster was contacted; it assumes the stage's preconditions hold, on a namespace the documented flow brought there"

// OfflineOptions tune Offline; zero values mean the defaults.
type OfflineOptions struct {
	// Now is the time the change record says (default: the time Offline is called).
	Now time.Time
	// GreenImage and BlueImage are the images green and blue run in the assumed state (defaults:
	// GreenImagePlaceholder, and the --image given else BlueImagePlaceholder).
	GreenImage, BlueImage string
}

// Offline plans cfg.Stage with no cluster: it performs the stage, with the same executor a stage
// runs, against a memory.Cluster holding the live state the plan assumes — reached by performing
// the stages of the documented flow before it (plan.Assumed) on an empty namespace, so every
// object carries what a real earlier stage leaves. The result's Objects and Manifests are the
// apply bodies the stage sent, byte for byte (Objects with every credential redacted, as
// secret.Object does for the live plan's diff: it is printed in logs and summaries); its Changes say what it would do ("would be
// created"). The memory cluster rolls every Deployment out at once, so no wait sleeps, and nothing
// is drained (Drain 0).
//
// The one field of a real stage's apply bodies an offline plan cannot know is the live object's
// metadata.resourceVersion (the optimistic lock a VirtualService write carries): the memory
// cluster's own is left out of the bodies.
func Offline(ctx context.Context, cfg config.Config, o OfflineOptions) (*summary.Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	c, mem, err := assumed(ctx, cfg, offlineImages(cfg, o), o.Now)
	if err != nil {
		return nil, err
	}
	cfg.DryRun = false // the memory cluster is the one written to
	res, err := c.Stage(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	res.Action, res.DryRun = "plan", true
	res.Notes = append([]string{OfflineNote}, res.Notes...)
	res.Manifests = lastApplied(mem.Writes(), false, false)
	for i, body := range res.Manifests {
		if res.Manifests[i], err = withoutResourceVersion(body); err != nil {
			return nil, err
		}
	}
	docs := make([]string, len(res.Manifests))
	for i, body := range res.Manifests {
		redacted, err := secret.JSON(body) // Objects is printed for a person: a log, a summary
		if err != nil {
			return nil, err
		}
		data, err := yaml.JSONToYAML(redacted)
		if err != nil {
			return nil, fmt.Errorf("rendering an object as YAML: %w", err)
		}
		docs[i] = string(data)
	}
	res.Objects = strings.Join(docs, "---\n")
	return res, nil
}

// Placeholders returns the versions (Green before Blue) whose placeholder image
// (GreenImagePlaceholder, BlueImagePlaceholder) appears in any string of bodies — a container
// image or an annotation such as mlcanary.io/images. Bodies that are not JSON are skipped.
func Placeholders(bodies []json.RawMessage) []config.Version {
	found := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			for _, p := range []string{GreenImagePlaceholder, BlueImagePlaceholder} {
				if strings.Contains(v, p) {
					found[p] = true
				}
			}
		case map[string]any:
			for k, e := range v {
				walk(k)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, body := range bodies {
		var v any
		if json.Unmarshal(body, &v) == nil {
			walk(v)
		}
	}
	var out []config.Version
	if found[GreenImagePlaceholder] {
		out = append(out, config.Green)
	}
	if found[BlueImagePlaceholder] {
		out = append(out, config.Blue)
	}
	return out
}

// lastApplied returns, for every object applied (with dryRun, server-side dry runs; else real
// writes), the last body sent for it (a VirtualService may be routed on the way and at the end) —
// with stored, for an object that exists, what the cluster answered it would store instead — in
// the order the objects were first applied. An object the apply would create is its body: the
// stage sends it whole, and the server's answer to a dry-run create holds what it would allocate
// (a Service's clusterIP, which a later apply must not send).
func lastApplied(writes []memory.Write, dryRun, stored bool) []json.RawMessage {
	var order []string
	last := map[string][]byte{}
	for _, w := range writes {
		if w.Verb != "apply" || w.DryRun != dryRun {
			continue
		}
		id := w.Resource.String() + " " + w.Namespace + "/" + w.Name
		if _, seen := last[id]; !seen {
			order = append(order, id)
		}
		last[id] = w.Body
		if stored && !created(w.Stored) {
			last[id] = w.Stored
		}
	}
	out := make([]json.RawMessage, len(order))
	for i, id := range order {
		out[i] = last[id]
	}
	return out
}

// created reports whether stored, the server's answer to an apply, is an object the apply
// creates: it has no metadata.resourceVersion, which a dry-run create leaves unset (the API
// server's DryRunnableStorage.Create copies the object without writing it,
// k8s.io/apiserver/pkg/registry/generic/registry/dryrun.go) and every stored object carries.
func created(stored []byte) bool {
	var obj struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	return json.Unmarshal(stored, &obj) != nil || obj.Metadata.ResourceVersion == ""
}

// withoutResourceVersion is body without metadata.resourceVersion (re-encoded as the dynamic
// client encodes an object), or body as it is when it has none.
func withoutResourceVersion(body []byte) ([]byte, error) {
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("decoding an object sent: %w", err)
	}
	if u.GetResourceVersion() == "" {
		return body, nil
	}
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	return u.MarshalJSON()
}

// offlineImages are the images green and blue run in the assumed state (OfflineOptions).
func offlineImages(cfg config.Config, o OfflineOptions) map[config.Version]string {
	images := map[config.Version]string{config.Green: o.GreenImage, config.Blue: o.BlueImage}
	if images[config.Blue] == "" {
		images[config.Blue] = cfg.Image
	}
	for v, placeholder := range map[config.Version]string{config.Green: GreenImagePlaceholder, config.Blue: BlueImagePlaceholder} {
		if images[v] == "" {
			images[v] = placeholder
		}
	}
	return images
}

// Assumed returns an in-memory cluster holding the state an offline plan of cfg.Stage assumes
// (Offline; o's images), with no write recorded: what the cluster holds before the stage, for
// tools that check a plan's objects together with the objects already there (Istio's analyzer in
// tools/istiovalidate).
func Assumed(ctx context.Context, cfg config.Config, o OfflineOptions) (*memory.Cluster, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	_, mem, err := assumed(ctx, cfg, offlineImages(cfg, o), o.Now)
	return mem, err
}

// assumed performs the stages of the documented flow before cfg.Stage (plan.Assumed) on an
// empty namespace of a new memory cluster — with the Gateway --gateway names, when it is not
// mlcanary's, as the cluster must hold it: an HTTP server on --gateway-port for every host, on
// the default ingress gateway — and returns the executor on it and the cluster, its record of
// writes forgotten.
func assumed(ctx context.Context, cfg config.Config, images map[config.Version]string, now time.Time) (*Client, *memory.Cluster, error) {
	mem := memory.New()
	mem.AddNamespace(cfg.Namespace)
	if ns, name, external := cfg.GatewayRef(); external { // the plan assumes the Gateway named exists
		gw := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"spec": map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
				"servers": []any{map[string]any{"hosts": []any{"*/*"}, "port": map[string]any{"name": "http", "number": int64(cfg.GatewayPort), "protocol": "HTTP"}}}}}}
		gw.SetNamespace(ns)
		gw.SetName(name)
		mem.Add(kube.Gateways, gw)
	}
	c := New(mem)
	c.Drain, c.Now, c.offline = 0, func() time.Time { return now }, true
	cfg.DryRun = false // the memory cluster is the one written to
	for _, p := range plan.Assumed(cfg.Stage) {
		before := cfg
		before.Stage, before.Image = p.Stage, ""
		if p.Stage.Kind == config.KindBlue0 {
			before.Image = images[p.Image]
		}
		if _, err := c.Stage(ctx, before, nil); err != nil {
			// No cluster and no earlier run is involved: the inputs themselves give objects that
			// cannot be written, in any run of the flow. Say so, not that a stage of it failed.
			return nil, nil, fmt.Errorf("plan %s --offline: these inputs give objects no run could write (found building the state %s leaves, which the plan assumes): %w", cfg.Stage, p.Stage, err)
		}
	}
	mem.Forget()
	return c, mem, nil
}
