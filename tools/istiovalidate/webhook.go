// Package istiovalidate gives Istio's admission webhook verdict on an object, by the webhook's own
// path (istio/istio pkg/webhooks/validation/server: decode as crd.IstioKind, find the schema by
// group and kind, crd.ConvertObject, then the schema's validation function from
// pkg/config/validation), so tests can compare mlcanary's pre-write check with it.
package istiovalidate

import (
	"encoding/json"
	"fmt"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
)

// Verdict returns nil when Istio's webhook admits obj (a whole Kubernetes object as JSON maps),
// and the webhook's reason otherwise. Warnings are admitted, as by the webhook.
func Verdict(obj map[string]any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var o crd.IstioKind
	if err := json.Unmarshal(raw, &o); err != nil {
		return fmt.Errorf("cannot decode configuration: %w", err)
	}
	gvk := o.GroupVersionKind()
	s, ok := collections.All.FindByGroupKind(resource.FromKubernetesGVK(&gvk))
	if !ok {
		return fmt.Errorf("unrecognized type %v", gvk)
	}
	out, err := crd.ConvertObject(s, &o, "cluster.local")
	if err != nil {
		return fmt.Errorf("error decoding configuration: %w", err)
	}
	if _, err := s.ValidateConfig(*out); err != nil {
		return fmt.Errorf("configuration is invalid: %w", err)
	}
	return nil
}
