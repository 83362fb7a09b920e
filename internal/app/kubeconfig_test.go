package app

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestKubeconfigFlagLoadedOnce: a --kubeconfig file is parsed once (loadedRules) and gives what
// client-go's loader gives from the file itself: paths relative to the file's directory, --context
// choosing among its contexts, and the same refusals for a file that does not parse or has no
// usable context.
func TestKubeconfigFlagLoadedOnce(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noEnv := func(string) (string, bool) { return "", false }
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Close()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("certs", "ca.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	good := write("good", `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443", certificate-authority: certs/ca.crt}}
- {name: b, cluster: {server: "https://b.example:6443", insecure-skip-tls-verify: true}}
users: [{name: u, user: {token: tok}}]
contexts: [{name: a, context: {cluster: a, user: u}}, {name: b, context: {cluster: b, user: u}}]
current-context: a
`)
	rc, err := (&kubeFlags{kubeconfig: good}).restConfig(noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://a.example:6443" || rc.CAFile != filepath.Join(dir, "certs", "ca.crt") || rc.BearerToken != "tok" {
		t.Errorf("current context: host %q, CA file %q, token %q", rc.Host, rc.CAFile, rc.BearerToken)
	}
	rc, err = (&kubeFlags{kubeconfig: good, context: "b"}).restConfig(noEnv)
	if err != nil || rc.Host != "https://b.example:6443" || !rc.Insecure {
		t.Errorf("--context b: %v, %+v", err, rc)
	}

	refusals := []struct{ file, context, want string }{
		{write("not-yaml", "token: hunter2\n\t{"), "", `invalid kubeconfig "` + filepath.Join(dir, "not-yaml") + `": allowed: the path of a kubeconfig file that parses as kubeconfig YAML`},
		{good, "c", `invalid context "c": allowed: a context of the kubeconfig: a, b`},
		{write("no-context", "apiVersion: v1\nkind: Config\n"), "", "allowed: a usable kubeconfig; this one has no current context with a cluster and a user"},
	}
	for _, r := range refusals {
		_, err := (&kubeFlags{kubeconfig: r.file, context: r.context}).restConfig(noEnv)
		var in *config.InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), r.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s (context %q): %v, want an input error containing %q", filepath.Base(r.file), r.context, err, r.want)
		}
	}
}
