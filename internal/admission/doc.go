// Package admission holds the rules of Istio's admission webhook for the two Istio objects
// mlcanary writes — VirtualService and Gateway (istio/istio pkg/config/validation, ported; Istio's
// own module is never linked into the shipped binary) — as pure functions of the typed spec that
// return the first rule broken, naming the entry.
//
// They judge the whole object as it will be sent, whoever wrote each part: mlcanary's entries merged
// (package ownership) with everyone else's, because Istio's CRD schema admits what the webhook denies,
// so the API server alone would not say. That is why they are neither in render (which builds only
// mlcanary's part) nor in ownership (which decides whose each part is): they are one concern, proven
// equal to Istio's code by tools/istiovalidate. Package ownership adds mlcanary's own rules on its own
// routes (ownership.CheckVirtualService).
package admission
