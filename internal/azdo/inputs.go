package azdo

import (
	"errors"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Names of the task inputs that are not config flags. Together with flagInputs they are the
// contract with task/task.json: the agent passes each as INPUT_<NAME in upper case>.
const (
	InputStage                = "stage"
	InputConnectionType       = "connectionType"
	InputKubernetesConnection = "kubernetesServiceConnection"
	InputAzureSubscription    = "azureSubscriptionConnection"
	InputAzureResourceGroup   = "azureResourceGroup"
	InputKubernetesCluster    = "kubernetesCluster"
	InputUseClusterAdmin      = "useClusterAdmin"
	// The Prometheus API's credentials as values (secret variables), for the analysis after a stage.
	InputPrometheusToken    = "prometheusToken"
	InputPrometheusPassword = "prometheusPassword"
)

// The values of the connectionType input.
const (
	ConnectionKubernetes = "kubernetesServiceConnection"
	ConnectionAzureRM    = "azureResourceManager"
)

const inputEnvPrefix = "INPUT_"

// flagInputs maps each task input onto the config or verify flag it sets. The task's names are camelCase
// (the agent allows only letters and digits); the flags are the CLI's.
var flagInputs = []struct{ Input, Flag string }{
	{"namespace", config.FlagNamespace},
	{"app", config.FlagApp},
	{"greenDeployment", config.FlagGreenDeployment},
	{"blueDeployment", config.FlagBlueDeployment},
	{"greenService", config.FlagGreenService},
	{"blueService", config.FlagBlueService},
	{"gateway", config.FlagGateway},
	{"virtualService", config.FlagVirtualService},
	{"gatewaySelector", config.FlagGatewaySelector},
	{"ingress", config.FlagIngress},
	{"hosts", config.FlagHosts},
	{"gatewayPort", config.FlagGatewayPort},
	{"port", config.FlagPort},
	{"replicas", config.FlagReplicas},
	{"imagePullSecret", config.FlagImagePullSecret},
	{"podTemplate", config.FlagPodTemplate},
	{"container", config.FlagContainer},
	{"header", config.FlagHeader},
	{"uriPrefix", config.FlagURIPrefix},
	{"readinessPath", config.FlagReadinessPath},
	{"image", config.FlagImage},
	{"imageRepository", config.FlagImageRepo},
	{"imageTag", config.FlagImageTag},
	{"timeout", config.FlagTimeout},
	{"capacityCheck", config.FlagCapacityCheck},
	{"dryRun", config.FlagDryRun},
	{"lockName", config.FlagLockName},
	{"lockTimeout", config.FlagLockTimeout},
	// The Verification group: traffic checked right after the stage (verify.StageInputs).
	{"verifyGateway", verify.FlagGateway},
	{"answerGreen", verify.FlagAnswerGreen},
	{"answerBlue", verify.FlagAnswerBlue},
	{"verifyRequests", verify.FlagRequests},
	{"verifyTolerance", verify.FlagTolerance},
	// Compared right after verification (compare.StageInputs).
	{"compareRequests", compare.FlagStageRequests},
	{"compareFields", compare.FlagStageFields},
	{"compareAbsTolerance", compare.FlagStageAbsTolerance},
	{"compareRelTolerance", compare.FlagStageRelTolerance},
	{"compareMaxDisagreement", compare.FlagStageMaxDisagreement},
	{"compareConfidence", compare.FlagStageConfidence},
	{"compareRequestTimeout", compare.FlagStageTimeout},
	{"compareRate", compare.FlagStageRate},
	{"compareConcurrency", compare.FlagStageConcurrency},
	// The Analysis group: the analysis after the stage (analyze.StageInputs), each named as its flag
	// in camelCase (prometheus-url → prometheusUrl), appended by init.
}

func init() {
	for _, flag := range analyze.StageFlags() {
		flagInputs = append(flagInputs, struct{ Input, Flag string }{frontend.TaskName(flag), flag})
	}
}

// InputNames lists every task input the binary reads, for the test that keeps task.json in step.
func InputNames() []string {
	names := []string{InputStage, InputConnectionType, InputKubernetesConnection, InputAzureSubscription,
		InputAzureResourceGroup, InputKubernetesCluster, InputUseClusterAdmin, InputPrometheusToken, InputPrometheusPassword}
	for _, m := range flagInputs {
		names = append(names, m.Input)
	}
	return names
}

// TaskInput returns the task input that sets flag, so an error about a flag names what the pipeline
// author typed; flags without a task input are returned unchanged.
func TaskInput(flag string) string {
	switch flag {
	case analyze.InputToken:
		return InputPrometheusToken
	case analyze.InputPassword:
		return InputPrometheusPassword
	}
	for _, m := range flagInputs {
		if m.Flag == flag {
			return m.Input
		}
	}
	return flag
}

// Task is what the task inputs say beyond the shared config inputs.
type Task struct {
	// Stage is the stage name as typed (parsed later by config).
	Stage string
	// Connection says how to reach the cluster.
	Connection Connection
}

// Connection names the service connection to the cluster and, for Azure Resource Manager, the AKS
// cluster to fetch credentials for.
type Connection struct {
	// Type is ConnectionKubernetes or ConnectionAzureRM.
	Type string
	// Endpoint is the service connection's id, which keys its ENDPOINT_* variables.
	Endpoint string
	// ResourceGroup, Cluster and Admin select the AKS cluster and credential (Azure Resource Manager only).
	ResourceGroup, Cluster string
	Admin                  bool
}

// ReadInputs sets every config and verify input the task was given onto fs (a FlagSet the config
// Inputs and verify StageInputs are bound to) and returns the task's other inputs. Empty inputs keep the flag defaults.
func ReadInputs(env frontend.LookupEnv, fs *pflag.FlagSet) (Task, error) {
	for _, m := range flagInputs {
		v := input(env, m.Input)
		if v == "" {
			continue
		}
		if err := fs.Set(m.Flag, v); err != nil {
			return Task{}, setError(err, fs.Lookup(m.Flag), m.Input, v)
		}
	}
	t := Task{Stage: input(env, InputStage)}
	if t.Stage == "" {
		return t, &config.InputError{Input: InputStage, Value: "", Allowed: "one of " + config.StageNames}
	}
	c, err := readConnection(env)
	t.Connection = c
	return t, err
}

func readConnection(env frontend.LookupEnv) (Connection, error) {
	c := Connection{Type: input(env, InputConnectionType)}
	if c.Type == "" {
		c.Type = ConnectionKubernetes // the task's default
	}
	switch config.Choice(c.Type) {
	case strings.ToLower(ConnectionKubernetes):
		c.Type, c.Endpoint = ConnectionKubernetes, input(env, InputKubernetesConnection)
		if c.Endpoint == "" {
			return c, &config.InputError{Input: InputKubernetesConnection, Allowed: "a Kubernetes service connection"}
		}
	case strings.ToLower(ConnectionAzureRM):
		c.Type, c.Endpoint = ConnectionAzureRM, input(env, InputAzureSubscription)
		c.ResourceGroup, c.Cluster = input(env, InputAzureResourceGroup), input(env, InputKubernetesCluster)
		c.Admin = config.Choice(input(env, InputUseClusterAdmin)) == "true"
		for name, v := range map[string]string{InputAzureSubscription: c.Endpoint, InputAzureResourceGroup: c.ResourceGroup, InputKubernetesCluster: c.Cluster} {
			if v == "" {
				return c, &config.InputError{Input: name, Allowed: "a value when connectionType is " + ConnectionAzureRM}
			}
		}
	default:
		return c, &config.InputError{Input: InputConnectionType, Value: c.Type, Allowed: ConnectionKubernetes + " or " + ConnectionAzureRM}
	}
	return c, nil
}

// input reads INPUT_<NAME>, trimmed, as the agent names it (upper case; the names have no dots or spaces).
func input(env frontend.LookupEnv, name string) string {
	v, _ := env(inputEnvPrefix + strings.ToUpper(name))
	return strings.TrimSpace(v)
}

// setError is config.SetError renamed to the task's names; input is the task input's name.
func setError(err error, f *pflag.Flag, input, v string) error {
	in := config.SetError(err, f, input, v)
	in.Rename(TaskInput)
	return in
}

// RenameInput rewrites an *config.InputError so it names the task inputs (imageTag) instead of the
// CLI flags (image-tag), both the input itself and any other input its message mentions.
func RenameInput(err error) error {
	var in *config.InputError
	if errors.As(err, &in) {
		in.Rename(TaskInput)
	}
	return err
}
