package azdo

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

func mapEnv(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func readConfig(t *testing.T, env map[string]string) (config.Config, Task, error) {
	t.Helper()
	var in config.Inputs
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	in.AddFlags(fs)
	task, err := ReadInputs(mapEnv(env), fs)
	if err != nil {
		return config.Config{}, task, err
	}
	cfg, err := in.Config(task.Stage)
	return cfg, task, RenameInput(err)
}

func TestReadInputsSetsSharedFlags(t *testing.T) {
	cfg, task, err := readConfig(t, map[string]string{
		"INPUT_STAGE":                       "blue_50",
		"INPUT_CONNECTIONTYPE":              "kubernetesServiceConnection",
		"INPUT_KUBERNETESSERVICECONNECTION": "0b4e9d8c-1111-2222-3333-444455556666",
		"INPUT_NAMESPACE":                   " abtest ",
		"INPUT_IMAGEREPOSITORY":             "myreg.azurecr.io/model",
		"INPUT_IMAGETAG":                    "42",
		"INPUT_GREENDEPLOYMENT":             "g",
		"INPUT_BLUESERVICE":                 "bsvc",
		"INPUT_REPLICAS":                    "3",
		"INPUT_TIMEOUT":                     "90",
		"INPUT_DRYRUN":                      "True",
		"INPUT_HOSTS":                       "a.example.com, b.example.com",
		"INPUT_IMAGE":                       "", // empty inputs keep defaults
		"INPUT_AZURERESOURCEGROUP":          "ignored-for-kubernetes",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Task{Stage: "blue_50", Connection: Connection{Type: ConnectionKubernetes, Endpoint: "0b4e9d8c-1111-2222-3333-444455556666"}}
	if diff := cmp.Diff(want, task); diff != "" {
		t.Errorf("task (-want +got):\n%s", diff)
	}
	if cfg.Stage.String() != "Blue_50" || cfg.Namespace != "abtest" || cfg.Image != "myreg.azurecr.io/model:42" ||
		cfg.Objects[config.Green].Deployment != "g" || cfg.Objects[config.Blue].Service != "bsvc" ||
		cfg.Replicas != 3 || cfg.Timeout != 90*time.Second || !cfg.DryRun || len(cfg.Hosts) != 2 {
		t.Errorf("config not taken from the inputs: %+v", cfg)
	}
	if cfg.Objects[config.Blue].Deployment != "model-blue" || cfg.Gateway != "mlmodel-gateway" {
		t.Errorf("unset inputs lost their defaults: %+v", cfg)
	}
}

func TestReadInputsAzureResourceManager(t *testing.T) {
	_, task, err := readConfig(t, map[string]string{
		"INPUT_STAGE":                       "Rollback",
		"INPUT_CONNECTIONTYPE":              "azureResourceManager",
		"INPUT_AZURESUBSCRIPTIONCONNECTION": "arm-id",
		"INPUT_AZURERESOURCEGROUP":          "rg",
		"INPUT_KUBERNETESCLUSTER":           "aks1",
		"INPUT_USECLUSTERADMIN":             "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Connection{Type: ConnectionAzureRM, Endpoint: "arm-id", ResourceGroup: "rg", Cluster: "aks1", Admin: true}
	if diff := cmp.Diff(want, task.Connection); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
}

// TestReadInputsErrorsNameTaskInputs checks bad inputs are *config.InputError (exit 2) naming the
// task input the pipeline author typed, not the CLI flag.
func TestReadInputsErrorsNameTaskInputs(t *testing.T) {
	base := map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_KUBERNETESSERVICECONNECTION": "k"}
	tests := []struct {
		name      string
		env       map[string]string
		wantInput string
	}{
		{"no stage", map[string]string{"INPUT_KUBERNETESSERVICECONNECTION": "k"}, "stage"},
		{"bad stage", map[string]string{"INPUT_STAGE": "Blue_101"}, "stage"},
		{"bad dry run", map[string]string{"INPUT_DRYRUN": "maybe"}, "dryRun"},
		{"bad deployment name", map[string]string{"INPUT_GREENDEPLOYMENT": "Not_DNS"}, "greenDeployment"},
		{"tag without repository", map[string]string{"INPUT_IMAGETAG": "42"}, "imageRepository"},
		{"bad port", map[string]string{"INPUT_PORT": "http"}, "port"},
		{"no connection", map[string]string{"INPUT_KUBERNETESSERVICECONNECTION": ""}, "kubernetesServiceConnection"},
		{"unknown connection type", map[string]string{"INPUT_CONNECTIONTYPE": "ssh"}, "connectionType"},
		{"aks without cluster", map[string]string{"INPUT_CONNECTIONTYPE": "azureResourceManager", "INPUT_AZURESUBSCRIPTIONCONNECTION": "a", "INPUT_AZURERESOURCEGROUP": "rg"}, "kubernetesCluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			if _, ok := tt.env["INPUT_STAGE"]; !ok && tt.name == "no stage" {
				delete(env, "INPUT_STAGE")
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, _, err := readConfig(t, env)
			var in *config.InputError
			if !errors.As(err, &in) {
				t.Fatalf("err = %v, want *config.InputError", err)
			}
			if in.Input != tt.wantInput {
				t.Errorf("error names %q, want %q (%v)", in.Input, tt.wantInput, err)
			}
		})
	}
}
