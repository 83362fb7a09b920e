// Package ownership reads the live objects the cluster holds and reconciles mlcanary's rendered
// objects with them: which part of each object is mlcanary's and which is someone else's. It is the
// other half of package render, which builds only what mlcanary wants to exist. It owns:
//
//   - whose each part is: which routes of a VirtualService are mlcanary's (OwnedRoutes,
//     AdoptableRole, read from the routing.Owned*Annotation records), which objects it adopted
//     (Adopted, Adopt), and the VirtualService's role (BindingOf, Bind);
//   - what live objects say: the traffic mlcanary's routes send (RoutingOf) and every route of
//     someone else's to a version's Service (ForeignReferences, IngressReferences,
//     GatewayRouteReferences);
//   - merging: mlcanary's routes, hosts, gateways and Gateway server into the live object, keeping
//     what others own (MergeVirtualService, MergeGateway), refusing a foreign route that would shadow
//     mlcanary's, and checking the result as it will be sent (MergeCheckedVirtualServiceSince,
//     MergeCheckedGateway: Istio's rules from package admission plus mlcanary's own on its routes).
//
// Everything here is pure: objects in, objects or facts out, no client calls (package kube does the
// I/O, package engine sequences it). Objects stay unstructured.Unstructured on purpose: server-side
// apply replaces whole lists in Istio's CRDs, so a merge must carry every field someone else set,
// including fields this binary's Istio types do not know, and adoption checks for unknown keys (a
// match block with a condition mlcanary does not recognise is not its shape). Reads where that
// fidelity does not matter — a Deployment's rollout, replicas and containers, a Service's selector
// and ports — are typed (kube.DeploymentOf, kube.ServiceOf).
package ownership
