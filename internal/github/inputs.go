package github

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/analyze"
	"github.com/mlcanary/mlcanary/internal/compare"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/verify"
)

// Input names that are not CLI flags. Every other input has the name of its CLI flag
// (config.FlagNamespace, config.FlagImageRepo, ...), so action.yml and --help agree.
const (
	inputStage      = "stage"
	inputKubeconfig = "kubeconfig"
)

// ReadInputs reads the action's inputs from env into a validated Config and, when verify-gateway
// is set, verify's options (nil otherwise). Inputs go through the CLI's own FlagSet (and verify's
// stage inputs), so each one is parsed and validated exactly as the flag of the same name; an unset
// or empty input keeps the flag's default. Any problem is a *config.InputError (exit code 2).
func ReadInputs(env frontend.LookupEnv) (config.Config, *verify.Options, error) {
	req, err := ReadRequest(env)
	return req.Config, req.Verify, err
}

// Inputs of the Prometheus API's credentials as values (secrets), for the analysis after a stage.
const (
	inputPrometheusToken    = analyze.InputToken
	inputPrometheusPassword = analyze.InputPassword
)

// ReadRequest is ReadInputs with the comparison compare-requests asks for (compare.StageInputs:
// its file read and checked now, before anything is sent) and the analysis gate after the stage
// (analyze.StageInputs: the analysis inputs have their flags' names; the Prometheus token and
// password are the secret inputs prometheus-token and prometheus-password; nil when analysis is
// not true).
func ReadRequest(env frontend.LookupEnv) (frontend.Request, error) {
	var in config.Inputs
	var vin verify.StageInputs
	var cin compare.StageInputs
	var ain analyze.StageInputs
	fs := pflag.NewFlagSet("github-action", pflag.ContinueOnError)
	in.AddFlags(fs)
	vin.AddFlags(fs)
	cin.AddFlags(fs)
	ain.AddFlags(fs)
	var req frontend.Request
	var err error
	if req.Config, err = readConfig(env, fs, &in); err != nil {
		return req, err
	}
	if req.Verify, err = vin.Options(req.Config.Hosts); err != nil {
		return req, err
	}
	if req.Compare, err = cin.Options(req.Config, vin.Gateway); err != nil {
		return req, err
	}
	ain.SetSecrets(input(env, inputPrometheusToken), input(env, inputPrometheusPassword))
	req.Analysis, err = ain.Gate(req.Config.Stage, req.Config.DryRun)
	return req, err
}

// readConfig sets every input onto fs and builds the config from in, which is bound to fs.
func readConfig(env frontend.LookupEnv, fs *pflag.FlagSet, in *config.Inputs) (config.Config, error) {
	var setErr error
	fs.VisitAll(func(f *pflag.Flag) {
		v := input(env, f.Name)
		if v == "" || setErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			setErr = config.SetError(err, f, f.Name, v)
		}
	})
	if setErr != nil {
		return config.Config{}, setErr
	}
	stage := input(env, inputStage)
	if stage == "" {
		return config.Config{}, &config.InputError{Input: inputStage, Value: "", Allowed: config.StageNames}
	}
	cfg, err := in.Config(stage)
	if err != nil {
		return cfg, err
	}
	if cfg.ChangedBy = RunURL(env); cfg.ChangedBy == "" {
		cfg.ChangedBy = "github"
	}
	cfg.Lock.Holder = frontend.Identity(RunURL(env), env)
	return cfg, nil
}

// input returns the trimmed value of the input called name. The runner exports inputs as
// INPUT_<NAME> with the name upper-cased and hyphens kept (INPUT_IMAGE-REPO), which node and
// Docker actions see; a composite action maps inputs itself, and action.yml uses underscores
// (INPUT_IMAGE_REPO) because not every shell passes hyphenated names on. Both are accepted.
func input(env frontend.LookupEnv, name string) string {
	native := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	if v, ok := env(native); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	v, _ := env(strings.ReplaceAll(native, "-", "_"))
	return strings.TrimSpace(v)
}

// RunURL is the workflow run's address, recorded on the cluster as who changed traffic (and who
// holds the namespace's lock), so a later reader can find the run (and its approvals) that moved
// it; "" outside a full runner.
func RunURL(env frontend.LookupEnv) string {
	server, _ := env("GITHUB_SERVER_URL")
	repo, _ := env("GITHUB_REPOSITORY")
	id, _ := env("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
}
