// Package secret lists the credentials in a kubeconfig that a front end must mask before it prints
// anything: the Azure DevOps task registers them with task.setsecret, the GitHub Action with
// ::add-mask::. Both front ends use this one list, so they mask the same values.
package secret

import (
	"encoding/base64"
	"sort"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// MinLen is the shortest exec plugin argument, exec environment value or line of a PEM block that is
// masked. Shorter ones ("spn", "default", "-") are ordinary words: masking them would blank them out
// all over the log without protecting anything.
const MinLen = 8

// Kubeconfig lists the secrets of every user in cfg, users in name order, without repeats.
func Kubeconfig(cfg *clientcmdapi.Config) []string {
	names := make([]string, 0, len(cfg.AuthInfos))
	for name := range cfg.AuthInfos {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		out = append(out, AuthInfo(cfg.AuthInfos[name])...)
	}
	return Dedupe(out)
}

// AuthInfo lists one user's secrets: token and password (any length); client key and certificate,
// base64 as the file holds them and line by line, since runners mask single lines best; exec plugin
// arguments that are not flags, and exec environment values, of at least MinLen bytes; and
// auth-provider settings.
func AuthInfo(a *clientcmdapi.AuthInfo) []string {
	if a == nil {
		return nil
	}
	out := []string{a.Token, a.Password}
	for _, pem := range [][]byte{a.ClientKeyData, a.ClientCertificateData} {
		if len(pem) > 0 {
			out = append(out, base64.StdEncoding.EncodeToString(pem))
			out = append(out, Lines(string(pem))...)
		}
	}
	if a.Exec != nil {
		for _, arg := range a.Exec.Args {
			if len(arg) >= MinLen && !strings.HasPrefix(arg, "-") {
				out = append(out, arg)
			}
		}
		for _, e := range a.Exec.Env {
			if len(e.Value) >= MinLen {
				out = append(out, e.Value)
			}
		}
	}
	if a.AuthProvider != nil {
		keys := make([]string, 0, len(a.AuthProvider.Config))
		for k := range a.AuthProvider.Config {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, a.AuthProvider.Config[k])
		}
	}
	return Dedupe(out)
}

// Lines splits s into trimmed lines of at least MinLen bytes, dropping PEM armour lines
// ("-----BEGIN …"), which are not secret. Text that cannot be parsed is masked this way.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= MinLen && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// Dedupe drops empty and repeated values (after trimming), keeping the first occurrence's order,
// so each secret is masked once.
func Dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
