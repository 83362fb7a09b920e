package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/routing"
)

// InProgressAnnotation names the stage whose VirtualService writes are under way: a stage writes
// it with its intermediate routings (unrouting a version before its pods are replaced) and drops
// it with its final one. StageAnnotation keeps the last stage that held until then, so a stage
// that fails half-way never leaves its own name recorded.
const InProgressAnnotation = "mlcanary.io/in-progress"

// liveView is what status derives the stage from: the routes and which versions run which image
// and which pod template (config.TemplateHashAnnotation; "" for none), and which Deployments
// mlcanary adopted (they keep their own pod spec, so carry no template hash).
type liveView struct {
	routing   routing.Routing
	deployed  map[config.Version]bool
	images    map[config.Version]string
	templates map[config.Version]string
	adopted   map[config.Version]bool
}

// runsBlues reports whether green runs what blue runs — Blue_Green's end state: blue's image and,
// for a green mlcanary created, blue's pod template (the hash Blue_Green copies with it; issue #9).
// An adopted green keeps its own pod spec (Blue_Green sets only its image), so only its image counts.
func (v liveView) runsBlues() bool {
	if v.images[config.Green] != v.images[config.Blue] {
		return false
	}
	return v.adopted[config.Green] || v.templates[config.Green] == v.templates[config.Blue]
}

// derivedStage names the stage the live state is the end state of, from the default route's
// weights, the header routes and which Deployments exist and what they run, and says which
// recorded stage names agree with it. The states (see the README's transition table):
//
//	nothing deployed, no routes               → none
//	blue only, header route only              → first release at Blue_0 (Blue_0 agrees)
//	blue only, blue 100%                      → first release at Blue_100 (Blue_1..Blue_100 agree)
//	green only, green 100%                    → green only (Green_100 and Rollback agree)
//	both, green 100%, blue unrouted           → green only, blue unrouted (Rollback keeping blue
//	                                            for a route mlcanary does not own agrees)
//	both, green 100%, both header routes      → Blue_0
//	the same, mirroring N% to blue            → Shadow_N
//	both, blue N% (1..99), both header routes → Blue_N
//	both, blue 100%, both header routes       → Blue_100, or Blue_Green when green runs blue's image
//	                                            and pod template (runsBlues)
//
// Anything else is "unknown" with what was found.
func derivedStage(v liveView) (name string, agrees func(recorded string) bool) {
	g, b := v.deployed[config.Green], v.deployed[config.Blue]
	wg, wb := v.routing.Weights[config.Green], v.routing.Weights[config.Blue]
	hg, hb := v.routing.Headers[config.Green], v.routing.Headers[config.Blue]
	only := func(names ...string) func(string) bool {
		return func(rec string) bool {
			for _, n := range names {
				if strings.EqualFold(rec, n) {
					return true
				}
			}
			return false
		}
	}
	switch {
	case !g && !b && !v.routing.HasDefault() && !hg && !hb:
		return "none", only("none")
	case !g && b && wg == 0 && wb == 0 && hb && !hg:
		return "first release at Blue_0", only("Blue_0")
	case !g && b && wb == 100 && hb && !hg:
		return "first release at Blue_100", func(rec string) bool {
			s, err := config.ParseStage(rec)
			return err == nil && (s.Kind == config.KindBlueN || s.Kind == config.KindBlue100)
		}
	case g && !b && wg == 100 && hg && !hb:
		return "green only", only("Green_100", "Rollback")
	case g && b && wg == 100 && hg && !hb:
		return "green only, blue unrouted", only("Rollback")
	case g && b && hg && hb && wg+wb == 100:
		switch {
		case wb == 0 && v.routing.Mirrored():
			n := "Shadow_" + strconv.Itoa(v.routing.Mirror)
			return n, only(n)
		case wb == 0:
			return "Blue_0", only("Blue_0")
		case wb < 100:
			n := "Blue_" + strconv.Itoa(wb)
			return n, only(n)
		case v.runsBlues():
			return "Blue_Green", only("Blue_Green", "Blue_100")
		}
		return "Blue_100", only("Blue_100")
	}
	return "unknown (" + describeLive(v) + ")", only()
}

// describeLive says what the routes send where and which versions run, e.g. "green 100%, blue 0%;
// header routes: green; deployed: green, blue" ("green 100%, blue 0%, mirroring 10% to blue; …"
// with a mirror).
func describeLive(v liveView) string {
	var headers, deployed []string
	for _, ver := range []config.Version{config.Blue, config.Green} {
		if v.routing.Headers[ver] {
			headers = append(headers, string(ver))
		}
	}
	for _, ver := range config.Versions {
		if v.deployed[ver] {
			deployed = append(deployed, string(ver))
		}
	}
	list := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	mirror := ""
	if v.routing.Mirrored() {
		mirror = fmt.Sprintf(", mirroring %d%% to blue", v.routing.Mirror)
	}
	return fmt.Sprintf("green %d%%, blue %d%%%s; header routes: %s; deployed: %s",
		v.routing.Weights[config.Green], v.routing.Weights[config.Blue], mirror, list(headers), list(deployed))
}

// drift compares the live state with the record on the VirtualService and returns "" when they
// agree, else one sentence starting "drifted from the recorded <stage>". A stage still running (or
// one that failed) leaves InProgressAnnotation: then only the weights it recorded are compared,
// since its intermediate routing is not the end state of any stage.
func drift(v liveView, ann map[string]string, derived string, agrees func(string) bool) string {
	recorded := ann[StageAnnotation]
	if recorded == "" {
		return ""
	}
	var why []string
	if ann[InProgressAnnotation] == "" && !agrees(recorded) {
		why = append(why, "the live state is "+derived+": "+describeLive(v))
	}
	if w := fmt.Sprintf("green=%d,blue=%d", v.routing.Weights[config.Green], v.routing.Weights[config.Blue]); ann[WeightsAnnotation] != "" && ann[WeightsAnnotation] != w && len(why) == 0 {
		why = append(why, fmt.Sprintf("the default route sends %s, the record says %s", w, ann[WeightsAnnotation]))
	}
	// An unfinished stage recorded the images before it replaced one; only a finished one is compared.
	if i := fmt.Sprintf("green=%s,blue=%s", v.images[config.Green], v.images[config.Blue]); ann[InProgressAnnotation] == "" && ann[ImagesAnnotation] != "" && ann[ImagesAnnotation] != i {
		why = append(why, fmt.Sprintf("the Deployments run %s, the record says %s", i, ann[ImagesAnnotation]))
	}
	if len(why) == 0 {
		return ""
	}
	return "drifted from the recorded " + recorded + ": " + strings.Join(why, "; ")
}

// lastWriter returns the field manager other than mlcanary that wrote the VirtualService last,
// and when, from its managedFields, if that write is later than after.
func lastWriter(vs *unstructured.Unstructured, after time.Time) (string, time.Time) {
	var who string
	var at time.Time
	for _, m := range vs.GetManagedFields() {
		if m.Manager == kube.FieldManager || m.Subresource != "" || m.Time == nil {
			continue
		}
		if t := m.Time.UTC(); t.After(at) {
			who, at = m.Manager, t
		}
	}
	if who == "" || !at.After(after) {
		return "", time.Time{}
	}
	return who, at
}
