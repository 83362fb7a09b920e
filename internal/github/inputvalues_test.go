package github

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestReadInputsOneWordingPerInput: an action input whose value does not parse (abc, NaN, 1e400)
// and one that parses but is out of range are refused naming the input, with the same allowed
// text; before, a malformed value got a text from the flag's type ("a whole number") and an
// out-of-range one the input's own ("0 (enough to decide) or more"), and NaN passed.
func TestReadInputsOneWordingPerInput(t *testing.T) {
	for _, tc := range []struct {
		input string
		bad   []string
	}{
		{"verify-requests", []string{"abc", "2.5", "-3"}},
		{"verify-tolerance", []string{"abc", "NaN", "Inf", "+Inf", "1e400", "0", "100"}},
		{"dry-run", []string{"maybe", "2"}},
		{"replicas", []string{"abc", "0", "1001"}},
		{"port", []string{"http", "0", "65536"}},
		{"timeout", []string{"soon", "0", "25h", "-5"}},
		{"readiness-path", []string{"ready", "http://localhost:5001/", "//host/", "/a b"}}, // NONE is none: choice words ignore case (config.Choice)
		{"stage", []string{"Blue_x", "Blue_500", "foo"}},
		{"capacity-check", []string{"strict", "on", "1"}},
	} {
		allowed := ""
		for _, v := range tc.bad {
			env := map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_VERIFY-GATEWAY": "20.1.2.3", "INPUT_" + upper(tc.input): v}
			_, _, err := ReadInputs(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			var in *config.InputError
			if !errors.As(err, &in) || in.Input != tc.input || in.Value != v {
				t.Errorf("%s=%s: got %v, want an InputError naming %s", tc.input, v, err, tc.input)
				continue
			}
			if allowed == "" {
				allowed = in.Allowed
			} else if in.Allowed != allowed {
				t.Errorf("%s is described two ways: %q and %q", tc.input, allowed, in.Allowed)
			}
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestReadInputsPodTemplate: the action's pod-template and container inputs go through the CLI's
// flags, so a template is read, checked against the other inputs (here port) and refused with the
// same one line, naming the input pod-template and the file as given.
func TestReadInputsPodTemplate(t *testing.T) {
	path := "../render/testdata/templates/azureml.yaml"
	read := func(env map[string]string) (config.Config, error) {
		env["INPUT_STAGE"] = "Blue_0"
		env["INPUT_IMAGE"] = "myregistry.azurecr.io/model:42"
		c, _, err := ReadInputs(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		return c, err
	}
	c, err := read(map[string]string{"INPUT_POD_TEMPLATE": path})
	if err != nil || c.Template == nil || c.Template.Container != "model" {
		t.Fatalf("pod-template: %+v, %v", c.Template, err)
	}
	_, err = read(map[string]string{"INPUT_POD-TEMPLATE": path, "INPUT_PORT": "8080"})
	var in *config.InputError
	if !errors.As(err, &in) || in.Input != "pod-template" || in.Value != path || !strings.Contains(in.Error(), "ports including 8080 (port)") {
		t.Fatalf("port conflict: %v", err)
	}
	_, err = read(map[string]string{"INPUT_POD_TEMPLATE": path, "INPUT_CONTAINER": "scorer"})
	if !errors.As(err, &in) || in.Input != "pod-template" || !strings.Contains(in.Error(), "a container named scorer (container)") {
		t.Fatalf("container: %v", err)
	}
}
