package azdo

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/verify"
)

func mapEnv(m map[string]string) frontend.LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// readConfig reads the inputs as the task does: config and verify inputs on one FlagSet.
func readConfig(t *testing.T, env map[string]string) (config.Config, Task, error) {
	cfg, task, _, err := readAll(t, env)
	return cfg, task, err
}

func readAll(t *testing.T, env map[string]string) (config.Config, Task, *verify.Options, error) {
	t.Helper()
	var in config.Inputs
	var vin verify.StageInputs
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	in.AddFlags(fs)
	vin.AddFlags(fs)
	task, err := ReadInputs(mapEnv(env), fs)
	if err != nil {
		return config.Config{}, task, nil, err
	}
	cfg, err := in.Config(task.Stage)
	if err != nil {
		return cfg, task, nil, RenameInput(err)
	}
	o, err := vin.Options(cfg.Hosts)
	return cfg, task, o, RenameInput(err)
}

// TestReadInputsVerification checks the Verification group: no gateway means no verification, and
// the given inputs become verify's options with the CLI's defaults for the rest.
func TestReadInputsVerification(t *testing.T) {
	base := map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_KUBERNETESSERVICECONNECTION": "k"}
	if _, _, o, err := readAll(t, base); err != nil || o != nil {
		t.Fatalf("without verifyGateway: options %+v, err %v; want none", o, err)
	}
	env := map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3:8080", "INPUT_ANSWERGREEN": "New Model A",
		"INPUT_VERIFYREQUESTS": "400", "INPUT_VERIFYTOLERANCE": "10", "INPUT_HOSTS": "*.example.org,scoring.example.com"}
	for k, v := range base {
		env[k] = v
	}
	_, _, o, err := readAll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	want := &verify.Options{Gateway: "20.1.2.3:8080", Host: "scoring.example.com", Answers: map[config.Version]string{config.Green: "New Model A"},
		Requests: 400, Concurrency: 10, Timeout: 10 * time.Second, Confidence: 0.99, Tolerance: 0.1, MaxErrorShare: 0.01}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("verify options (-want +got):\n%s", diff)
	}
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

// TestReadInputsGatewayInAnotherNamespace: the gateway input takes NAMESPACE/NAME of an existing
// Gateway, as the CLI flag does.
func TestReadInputsGatewayInAnotherNamespace(t *testing.T) {
	cfg, _, err := readConfig(t, map[string]string{"INPUT_STAGE": "Blue_50", "INPUT_KUBERNETESSERVICECONNECTION": "k", "INPUT_GATEWAY": "istio-system/public-gateway"})
	if err != nil {
		t.Fatal(err)
	}
	if ns, name, external := cfg.GatewayRef(); ns != "istio-system" || name != "public-gateway" || !external {
		t.Errorf("gateway %q read as %s, %s, %v", cfg.Gateway, ns, name, external)
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

// TestConnectionChoicesReadAlike (breakit9 G14): the task's own choice inputs (connectionType,
// useClusterAdmin) read their words by config.Choice, as every choice input: case and blanks ignored.
func TestConnectionChoicesReadAlike(t *testing.T) {
	for _, v := range [][2]string{{" AzureResourceManager ", " TRUE "}, {"azureresourcemanager", "True"}} {
		_, task, err := readConfig(t, map[string]string{"INPUT_STAGE": "Rollback", "INPUT_CONNECTIONTYPE": v[0],
			"INPUT_AZURESUBSCRIPTIONCONNECTION": "arm-id", "INPUT_AZURERESOURCEGROUP": "rg", "INPUT_KUBERNETESCLUSTER": "aks1", "INPUT_USECLUSTERADMIN": v[1]})
		if err != nil || task.Connection.Type != ConnectionAzureRM || !task.Connection.Admin {
			t.Errorf("connectionType %q, useClusterAdmin %q: %v %+v", v[0], v[1], err, task.Connection)
		}
	}
}

// TestReadInputsErrorsNameTaskInputs checks bad inputs are *config.InputError (exit 2) naming the
// task input the pipeline author typed, not the CLI flag.
func TestReadInputsErrorsNameTaskInputs(t *testing.T) {
	base := map[string]string{"INPUT_STAGE": "Blue_100", "INPUT_KUBERNETESSERVICECONNECTION": "k"}
	tests := []struct {
		name        string
		env         map[string]string
		wantInput   string
		wantAllowed string // when set, what the error says is allowed
	}{
		{"no stage", map[string]string{"INPUT_KUBERNETESSERVICECONNECTION": "k"}, "stage", ""},
		{"bad stage", map[string]string{"INPUT_STAGE": "Blue_101"}, "stage", config.StageNames},
		{"stage not Blue_N", map[string]string{"INPUT_STAGE": "Blue_x"}, "stage", config.StageNames},
		{"bad dry run", map[string]string{"INPUT_DRYRUN": "maybe"}, "dryRun", "true or false"},
		{"bad deployment name", map[string]string{"INPUT_GREENDEPLOYMENT": "Not_DNS"}, "greenDeployment", ""},
		{"tag without repository", map[string]string{"INPUT_IMAGETAG": "42"}, "imageRepository", ""},
		{"bad port", map[string]string{"INPUT_PORT": "http"}, "port", ""},
		{"readiness path without a leading /", map[string]string{"INPUT_READINESSPATH": "ready"}, "readinessPath", config.AllowedReadinessPath},
		{"readiness path with a host", map[string]string{"INPUT_READINESSPATH": "http://localhost:5001/"}, "readinessPath", config.AllowedReadinessPath},
		{"gateway with two slashes", map[string]string{"INPUT_GATEWAY": "istio-system/public/gw"}, "gateway", ""},
		{"gateway without a name", map[string]string{"INPUT_GATEWAY": "istio-system/"}, "gateway", ""},
		{"gateway in the legacy dotted form", map[string]string{"INPUT_GATEWAY": "public-gateway.istio-system"}, "gateway", ""},
		{"no connection", map[string]string{"INPUT_KUBERNETESSERVICECONNECTION": ""}, "kubernetesServiceConnection", ""},
		{"unknown connection type", map[string]string{"INPUT_CONNECTIONTYPE": "ssh"}, "connectionType", ""},
		{"verify gateway with a path", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3/score"}, "verifyGateway", ""},
		{"verify requests not a number", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYREQUESTS": "many"}, "verifyRequests", "a whole number, 0 (enough to decide) or more"},
		{"verify requests a fraction", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYREQUESTS": "2.5"}, "verifyRequests", "a whole number, 0 (enough to decide) or more"},
		{"verify requests negative", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYREQUESTS": "-3"}, "verifyRequests", "a whole number, 0 (enough to decide) or more"},
		{"verify tolerance not a number", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "5%"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance NaN", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "NaN"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance Inf", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "Inf"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance +Inf", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "+Inf"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance too large for a float64", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "1e400"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance out of range", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "0"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"verify tolerance 100", map[string]string{"INPUT_VERIFYGATEWAY": "20.1.2.3", "INPUT_VERIFYTOLERANCE": "100"}, "verifyTolerance", "percentage points above 0 and below 100, e.g. 5"},
		{"pod template whose port is not the model port", map[string]string{"INPUT_PODTEMPLATE": "../render/testdata/templates/azureml.yaml", "INPUT_PORT": "8080"}, "podTemplate",
			"no ports on the scoring container, or ports including 8080 ({port}), where mlcanary's Services send traffic, on it or on a proxy container in front of it (found containers[model].ports 5001)"},
		{"pod template without the container named", map[string]string{"INPUT_PODTEMPLATE": "../render/testdata/templates/gpu.yaml", "INPUT_CONTAINER": "scorer"}, "podTemplate", ""},
		{"pod template missing", map[string]string{"INPUT_PODTEMPLATE": "deploy/model.yaml"}, "podTemplate", ""},
		{"bad container name", map[string]string{"INPUT_CONTAINER": "Model"}, "container", ""},
		{"aks without cluster", map[string]string{"INPUT_CONNECTIONTYPE": "azureResourceManager", "INPUT_AZURESUBSCRIPTIONCONNECTION": "a", "INPUT_AZURERESOURCEGROUP": "rg"}, "kubernetesCluster", ""},
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
			if tt.wantAllowed != "" && in.Allowed != tt.wantAllowed {
				t.Errorf("allowed %q, want %q", in.Allowed, tt.wantAllowed)
			}
		})
	}
}
