package github

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
	"github.com/mlcanary/mlcanary/internal/kube"
	"github.com/mlcanary/mlcanary/internal/secret"
)

// kubeconfig is where the cluster credentials come from: the kubeconfig input's content, or the
// files a KUBECONFIG exported by an earlier step (azure/aks-set-context, a self-hosted runner's
// ~/.kube/config) points at. raw holds every file's content, read only to find what to mask.
type kubeconfig struct {
	content []byte   // the kubeconfig input, when given
	paths   []string // otherwise the files to load, in KUBECONFIG precedence
	raw     [][]byte
}

// errNoKubeconfig says where credentials are looked for; Value is empty, never a secret.
var errNoKubeconfig = &config.InputError{
	Input:   inputKubeconfig,
	Value:   "",
	Allowed: "kubeconfig content (e.g. ${{ secrets.KUBECONFIG }}), or a KUBECONFIG exported by an earlier step such as azure/aks-set-context",
}

// errBadKubeconfig is a kubeconfig input that does not parse. The parser's message may quote the
// content, which is a secret, so neither it nor the content is shown.
var errBadKubeconfig = &config.InputError{
	Input:   inputKubeconfig,
	Value:   "(not shown)",
	Allowed: "kubeconfig YAML (not base64), e.g. the content of ~/.kube/config stored as ${{ secrets.KUBECONFIG }}",
}

// loadKubeconfig finds and reads the credentials. It returns what it could read even on error, so
// the caller can mask it before printing the error.
func loadKubeconfig(env frontend.LookupEnv) (kubeconfig, error) {
	if c, ok := env("INPUT_KUBECONFIG"); ok && strings.TrimSpace(c) != "" {
		return kubeconfig{content: []byte(c), raw: [][]byte{[]byte(c)}}, nil
	}
	var kc kubeconfig
	if list, _ := env("KUBECONFIG"); list != "" {
		kc.paths = filepath.SplitList(list)
	} else if home, ok := env("HOME"); ok && home != "" {
		kc.paths = []string{filepath.Join(home, ".kube", "config")}
	}
	for _, p := range kc.paths {
		b, err := os.ReadFile(p)
		switch {
		case os.IsNotExist(err):
			continue // clientcmd skips missing files in a KUBECONFIG list, too
		case err != nil:
			return kc, fmt.Errorf("reading kubeconfig %s: %w", p, err)
		}
		kc.raw = append(kc.raw, b)
	}
	if len(kc.raw) == 0 {
		return kc, errNoKubeconfig
	}
	return kc, nil
}

// restConfig builds the client configuration from the input content or the files. A kubeconfig
// that parses but cannot be used (no current context, no server, a CA or client certificate that
// does not load) is bad input naming the kubeconfig input or KUBECONFIG (kube.Unusable), never
// quoting the content.
func (kc kubeconfig) restConfig() (*rest.Config, error) {
	if kc.content != nil {
		if _, err := clientcmd.Load(kc.content); err != nil {
			return nil, errBadKubeconfig
		}
		rc, err := clientcmd.RESTConfigFromKubeConfig(kc.content)
		if problem := kube.Unusable(rc, err); problem != "" {
			return nil, &config.InputError{Input: inputKubeconfig, Value: "(not shown)", Allowed: "a usable kubeconfig; in this one " + problem}
		}
		return rc, nil
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: kc.paths}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if problem := kube.Unusable(rc, err); problem != "" {
		return nil, &config.InputError{Input: "KUBECONFIG", Value: strings.Join(kc.paths, string(filepath.ListSeparator)), Allowed: "a usable kubeconfig; in this one " + problem}
	}
	return rc, nil
}

// secrets lists every value to mask in every file (secret.Kubeconfig). A file that does not parse
// is masked line by line, since nothing in it can be told apart.
func (kc kubeconfig) secrets() []string {
	var out []string
	for _, raw := range kc.raw {
		cfg, err := clientcmd.Load(raw)
		if err != nil {
			out = append(out, secret.Lines(string(raw))...)
			continue
		}
		out = append(out, secret.Kubeconfig(cfg)...)
	}
	return secret.Dedupe(out)
}
