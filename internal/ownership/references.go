package ownership

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// ForeignReferences lists, per version, every Reference to the version's Service in vss: the
// VirtualServices of the namespace and of any other namespace the credentials can read (mlcanary's
// own among them). In mlcanary's own VirtualService the destinations of its own routes (OwnedRoutes) are
// not references — the stage rewrites them — but a mirror added to one of them is, unless it is
// the default route's mirror mlcanary recorded writing and live still as written (Shadow_N;
// ownsMirror). A host refers to
// a version when ServiceVersion resolves it from the VirtualService's namespace.
func ForeignReferences(c *config.Config, vss ...*unstructured.Unstructured) map[config.Version][]routing.Reference {
	out := map[config.Version][]routing.Reference{}
	for _, vs := range vss {
		if vs == nil {
			continue
		}
		manager := Manager(vs) // one walk of managedFields per object, not per route
		own := map[int]string{}
		if vs.GetNamespace() == c.Namespace && vs.GetName() == c.VirtualService {
			own = OwnedRoutes(c, vs)
		}
		for _, kind := range []string{"http", "tcp", "tls"} {
			routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", kind)
			for i, x := range routes {
				m, _ := x.(map[string]any)
				ref := routing.Reference{Namespace: vs.GetNamespace(), VirtualService: vs.GetName(), Route: routeLabel(m, kind, i), Manager: manager}
				var hosts []routeHost
				if role, ours := own[i]; !ours || role != routing.DefaultRouteName || kind != "http" || !ownsMirror(c, vs, m) {
					hosts = mirrorHosts(m) // mlcanary's recorded mirror is its own route (mirror.go)
				}
				if _, ours := own[i]; !ours || kind != "http" {
					for _, d := range sliceAt(m, "route") {
						hosts = append(hosts, routeHost{destinationHost(d), false})
					}
				}
				for _, h := range hosts {
					v, ok := ServiceVersion(c, vs.GetNamespace(), h.host)
					r := ref
					r.Mirror = h.mirror
					if ok && !slices.Contains(out[v], r) {
						out[v] = append(out[v], r)
					}
				}
			}
		}
	}
	return out
}

type routeHost struct {
	host   string
	mirror bool
}

// mirrorHosts lists the hosts an HTTP route mirrors to: `mirror` (a Destination) and `mirrors`
// (a list of {destination, percentage}).
func mirrorHosts(route map[string]any) []routeHost {
	var out []routeHost
	if h, found, _ := unstructured.NestedString(route, "mirror", "host"); found {
		out = append(out, routeHost{h, true})
	}
	for _, m := range sliceAt(route, "mirrors") {
		out = append(out, routeHost{destinationHost(m), true})
	}
	return out
}

func sliceAt(m map[string]any, key string) []any {
	s, _, _ := unstructured.NestedSlice(m, key)
	return s
}

func routeLabel(route map[string]any, kind string, i int) string {
	if name, _, _ := unstructured.NestedString(route, "name"); name != "" {
		return name
	}
	return fmt.Sprintf("%s[%d]", kind, i)
}

// VersionOf maps a destination host in mlcanary's own VirtualService (which lives in c.Namespace)
// to the version whose Service it names.
func VersionOf(c *config.Config, host string) (config.Version, bool) {
	return ServiceVersion(c, c.Namespace, host)
}

// ServiceVersion maps a destination host written in a VirtualService of namespace from to the
// version whose Service (in c.Namespace) it names, by every spelling that reaches a Kubernetes
// Service: the short name (only from the Service's own namespace — Istio expands a short name with
// the VirtualService's namespace, so in another namespace it names that namespace's Service),
// name.ns, name.ns.svc and name.ns.svc.<cluster domain> (cluster.local or any other); case does not
// matter and a trailing dot is allowed (DNS rules). A wrongly matched host only keeps a version
// longer, a missed one would let it be deleted under live traffic, so the match is generous.
func ServiceVersion(c *config.Config, from, host string) (config.Version, bool) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	name, rest, qualified := strings.Cut(h, ".")
	ns := strings.ToLower(from)
	if qualified {
		parts := strings.SplitN(rest, ".", 3) // ns[.svc[.domain]]
		ns = parts[0]
		if len(parts) > 1 && parts[1] != "svc" || len(parts) > 2 && parts[2] == "" {
			return "", false
		}
	}
	if name == "" || ns != strings.ToLower(c.Namespace) {
		return "", false
	}
	for _, v := range config.Versions {
		if name == strings.ToLower(c.Objects[v].Service) {
			return v, true
		}
	}
	return "", false
}
