package app

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// kubeFlags select the cluster the way kubectl does: --kubeconfig, else KUBECONFIG, else
// ~/.kube/config, else the in-cluster service account; --context picks a context.
type kubeFlags struct {
	kubeconfig string
	context    string
}

func (k *kubeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context to use (default: the current context)")
}

// restConfig loads credentials; env supplies KUBECONFIG so tests need not touch the process environment.
func (k *kubeFlags) restConfig(env LookupEnv) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	var source clientcmd.ClientConfigLoader = rules
	if v, ok := env("KUBECONFIG"); ok && v != "" {
		rules.Precedence = filepath.SplitList(v)
		if k.kubeconfig == "" && !anyExists(rules.Precedence) {
			return nil, &config.InputError{Input: "KUBECONFIG", Value: v, Allowed: "paths of kubeconfig files, at least one of which exists"}
		}
	}
	if k.kubeconfig != "" {
		// A regular file only: a directory or a device (/dev/stdin) is no kubeconfig and could block.
		fi, err := os.Stat(k.kubeconfig)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, &config.InputError{Input: "kubeconfig", Value: k.kubeconfig, Allowed: "the path of a readable kubeconfig file"}
		}
		rules.ExplicitPath = k.kubeconfig
		if loaded, err := rules.Load(); err == nil {
			source = loadedRules{rules, loaded}
		} else if _, err := clientcmd.LoadFromFile(k.kubeconfig); err != nil { // its content is never quoted
			return nil, &config.InputError{Input: "kubeconfig", Value: k.kubeconfig, Allowed: "the path of a kubeconfig file that parses as kubeconfig YAML"}
		}
	}
	rules.ExplicitPath = k.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.context}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(source, overrides)
	if err := k.checkContext(loader); err != nil {
		return nil, err
	}
	rc, err := loader.ClientConfig()
	input, value := k.input(env, rules)
	if clientcmd.IsEmptyConfig(err) && input == "" {
		return nil, fmt.Errorf("no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, or run inside a cluster")
	}
	if clientcmd.IsEmptyConfig(err) {
		return nil, &config.InputError{Input: input, Value: value, Allowed: "a usable kubeconfig; this one has no current context with a cluster and a user"}
	}
	if problem := kube.Unusable(rc, err); problem != "" {
		if input == "" { // in-cluster credentials
			return nil, fmt.Errorf("loading the in-cluster credentials: %s", problem)
		}
		return nil, &config.InputError{Input: input, Value: value, Allowed: "a usable kubeconfig; in this one " + problem}
	}
	rc.UserAgent = "mlcanary"
	return rc, nil
}

// loadedRules are rules whose Load returns config, what a call of rules.Load already returned: a
// --kubeconfig file is read and parsed once, by the check that it parses, not again by the loader
// (≈ 0.3 ms for a small kubeconfig, more for one holding certificates, in every process; #12).
type loadedRules struct {
	*clientcmd.ClientConfigLoadingRules
	config *clientcmdapi.Config
}

// Load returns the config already loaded.
func (r loadedRules) Load() (*clientcmdapi.Config, error) { return r.config, nil }

// input names where the kubeconfig came from as the user gave it: "kubeconfig" (the flag, or the
// default ~/.kube/config) or "KUBECONFIG", with its value; "" when none exists (in-cluster).
func (k *kubeFlags) input(env LookupEnv, rules *clientcmd.ClientConfigLoadingRules) (string, string) {
	if k.kubeconfig != "" {
		return "kubeconfig", k.kubeconfig
	}
	if v, ok := env("KUBECONFIG"); ok && v != "" {
		return "KUBECONFIG", v
	}
	if p := rules.GetDefaultFilename(); p != "" && anyExists([]string{p}) {
		return "kubeconfig", p
	}
	return "", ""
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// checkContext refuses a --context the kubeconfig does not have, naming the ones it has.
func (k *kubeFlags) checkContext(loader clientcmd.ClientConfig) error {
	if k.context == "" {
		return nil
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	if _, ok := raw.Contexts[k.context]; ok {
		return nil
	}
	names := slices.Sorted(maps.Keys(raw.Contexts))
	return &config.InputError{Input: "context", Value: k.context, Allowed: "a context of the kubeconfig: " + strings.Join(names, ", ")}
}

// checkFormat validates -o before anything else runs.
func checkFormat(format string) error {
	switch format {
	case "text", "json", "yaml", "markdown":
		return nil
	}
	return &config.InputError{Input: "output", Value: format, Allowed: summary.Formats}
}

// progress prints engine progress lines to the error stream, leaving Out for the result.
func progress(s Streams) func(string, ...any) {
	return func(format string, args ...any) { _, _ = fmt.Fprintf(s.Err, format+"\n", args...) } // progress is best effort
}
