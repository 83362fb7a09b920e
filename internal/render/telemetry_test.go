package render

import (
	"reflect"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestTelemetryLabels: the canonical revision is always the version; version is the version unless
// the pod template carries a version of its own, and a template copied from the other version (as
// Blue_Green copies blue's to green) gets this version's labels. The input is never changed.
func TestTelemetryLabels(t *testing.T) {
	base := map[string]string{"app": "model", "model_version": "green"}
	cases := []struct {
		name string
		in   map[string]string
		v    config.Version
		want map[string]string
	}{
		{"nil", nil, config.Blue, map[string]string{CanonicalRevisionLabel: "blue", "version": "blue"}},
		{"selector labels", base, config.Green, map[string]string{"app": "model", "model_version": "green", CanonicalRevisionLabel: "green", "version": "green"}},
		{"user's version kept", map[string]string{"version": "v3"}, config.Blue, map[string]string{CanonicalRevisionLabel: "blue", "version": "v3"}},
		{"blue's template copied to green", map[string]string{"version": "blue", CanonicalRevisionLabel: "blue", "team": "ml"}, config.Green,
			map[string]string{"version": "green", CanonicalRevisionLabel: "green", "team": "ml"}},
		{"a user's canonical revision is mlcanary's", map[string]string{CanonicalRevisionLabel: "r7"}, config.Green, map[string]string{CanonicalRevisionLabel: "green", "version": "green"}},
	}
	for _, c := range cases {
		var before map[string]string
		if c.in != nil {
			before = map[string]string{}
			for k, v := range c.in {
				before[k] = v
			}
		}
		got := TelemetryLabels(c.in, c.v)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if c.in != nil && !reflect.DeepEqual(c.in, before) {
			t.Errorf("%s: the input was changed to %v", c.name, c.in)
		}
	}
}
