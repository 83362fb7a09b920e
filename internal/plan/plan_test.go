package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/routing"
)

func ready(image string) VersionState {
	return VersionState{Deployed: true, Ready: true, Current: true, Image: image, Container: "model", Available: 1, Wanted: 1}
}

// describe renders steps compactly: "svc:blue route:g100/b0[hb] deploy:blue@x wait:blue …".
func describe(steps []Step) string {
	var out []string
	for _, s := range steps {
		switch s.Action {
		case ApplyRoutes:
			h := ""
			for _, v := range []config.Version{config.Blue, config.Green} {
				if s.Routing.Headers[v] {
					h += string(v[0])
				}
			}
			out = append(out, fmt.Sprintf("route:g%d/b%d[%s]", s.Routing.Weights[config.Green], s.Routing.Weights[config.Blue], h))
		case ApplyDeployment:
			out = append(out, "deploy:"+string(s.Version)+"@"+s.Image)
		case ApplyGateway:
			out = append(out, "gateway")
		default:
			out = append(out, strings.SplitN(string(s.Action), "-", 2)[0]+":"+string(s.Version))
		}
	}
	return strings.Join(out, " ")
}

// TestMakeOrdersStepsMakeBeforeBreak pins the order of steps for the cases where it matters.
func TestMakeOrdersStepsMakeBeforeBreak(t *testing.T) {
	cases := []struct {
		name, stage, image string
		live               Live
		want               string
	}{
		{"first release Blue_0", "Blue_0", "m:1", Live{Versions: map[config.Version]VersionState{}},
			"apply:blue deploy:blue@m:1 wait:blue gateway route:g0/b0[b]"},
		{"new image while blue has 50%", "Blue_0", "m:3", Live{
			Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")},
			Routing:  routing.NewRouting(true, true, 50, 50)},
			"apply:blue route:g100/b0[g] deploy:blue@m:3 wait:blue apply:green gateway route:g100/b0[bg]"},
		{"Blue_50", "Blue_50", "", Live{
			Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")},
			Routing:  routing.NewRouting(true, true, 100, 0)},
			"apply:green apply:blue gateway route:g50/b50[bg]"},
		{"Blue_Green replaces green's pods unrouted", "Blue_Green", "", Live{
			Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")},
			Routing:  routing.NewRouting(true, true, 0, 100)},
			"apply:green route:g0/b100[b] deploy:green@m:2 wait:green apply:blue gateway route:g0/b100[bg]"},
		{"Green_100 routes before it deletes", "Green_100", "", Live{
			Versions: map[config.Version]VersionState{config.Green: ready("m:2"), config.Blue: ready("m:2")},
			Routing:  routing.NewRouting(true, true, 0, 100)},
			"apply:green gateway route:g100/b0[g] delete:blue delete:blue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Image = tc.image
			p, err := Make(&c, tc.live)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, describe(p.Steps)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnreadyIsWaitable: a precondition that fails only because a rollout is unfinished says
// which version, so the engine can wait for it; any other refusal does not.
func TestUnreadyIsWaitable(t *testing.T) {
	c := config.Default()
	c.Stage, _ = config.ParseStage("Blue_50")
	unready := ready("m:2")
	unready.Ready, unready.Reason = false, "0 of 1 replicas available"
	_, err := Make(&c, Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: unready}})
	var pe *PreconditionError
	if !errors.As(err, &pe) || pe.Unready != config.Blue || !strings.Contains(pe.Msg, "0 of 1 replicas available; Blue_0 deploys it") {
		t.Errorf("unready blue: %#v", err)
	}
	_, err = Make(&c, Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1")}})
	if !errors.As(err, &pe) || pe.Unready != "" {
		t.Errorf("missing blue: %#v", err)
	}
}

// TestBindingDecidesTheGatewayStep: mlcanary applies a Gateway only when it owns one; a delegate,
// a VirtualService bound elsewhere or one bound to an existing Gateway in another namespace gets no
// Gateway step, with a note; a missing Gateway in another namespace refuses, except on Rollback.
func TestBindingDecidesTheGatewayStep(t *testing.T) {
	live := func(b *routing.Binding, gw GatewayState) Live {
		return Live{Versions: map[config.Version]VersionState{config.Green: ready("m:1"), config.Blue: ready("m:2")},
			Routing: routing.NewRouting(true, true, 100, 0), Binding: b, BoundGateway: gw}
	}
	cases := []struct {
		name, gateway, stage string
		live                 Live
		steps, note, err     string
	}{
		{"new VirtualService, bare name", "mlmodel-gateway", "Blue_50", live(nil, GatewayUnchecked), "apply:green apply:blue gateway route:g50/b50[bg]", "", ""},
		{"new VirtualService, NAMESPACE/NAME", "istio-system/public-gateway", "Blue_50", live(nil, GatewayPresent), "apply:green apply:blue route:g50/b50[bg]", "", ""},
		{"delegate", "mlmodel-gateway", "Blue_50", live(&routing.Binding{Delegate: true}, GatewayUnchecked), "apply:green apply:blue route:g50/b50[bg]",
			"VirtualService abtesting/mlmodel-virtualservice is a delegate (no hosts)", ""},
		{"bound elsewhere", "mlmodel-gateway", "Blue_50", live(&routing.Binding{Elsewhere: []string{"istio-system/public-gateway"}}, GatewayUnchecked), "apply:green apply:blue route:g50/b50[bg]",
			"VirtualService abtesting/mlmodel-virtualservice is bound to istio-system/public-gateway, not to mlmodel-gateway: that binding and its hosts are kept", ""},
		{"unreadable", "istio-system/public-gateway", "Blue_50", live(&routing.Binding{Gateway: "istio-system/public-gateway"}, GatewayUnreadable), "apply:green apply:blue route:g50/b50[bg]",
			"Gateway istio-system/public-gateway could not be read with these credentials", ""},
		{"missing", "istio-system/nope", "Blue_50", live(&routing.Binding{Gateway: "istio-system/nope"}, GatewayAbsent), "", "",
			"Blue_50: Gateway istio-system/nope does not exist, so VirtualService abtesting/mlmodel-virtualservice bound to it would receive no traffic through it"},
		{"missing on Rollback", "istio-system/nope", "Rollback", live(&routing.Binding{Gateway: "istio-system/nope"}, GatewayAbsent), "apply:green route:g100/b0[g] delete:blue delete:blue",
			"Gateway istio-system/nope does not exist: VirtualService abtesting/mlmodel-virtualservice receives no traffic through it until it does", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Stage, _ = config.ParseStage(tc.stage)
			c.Gateway = tc.gateway
			p, err := Make(&c, tc.live)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q…", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.steps, describe(p.Steps)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if tc.note != "" && (len(p.Notes) == 0 || !strings.HasPrefix(p.Notes[0], tc.note)) {
				t.Errorf("notes %q, want %q…", p.Notes, tc.note)
			}
		})
	}
}
