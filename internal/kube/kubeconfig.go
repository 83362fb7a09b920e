package kube

import (
	"errors"
	"io/fs"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Unusable says in mlcanary's own words why a kubeconfig that parses cannot be used to send a
// request, or "" when rc can be used. loadErr is the error of building rc from the kubeconfig
// (clientcmd's ClientConfig; nil when it succeeded); rc is then checked as client-go would use it:
// a server address, and certificate files and data that load (rest.TLSConfigFor). The words never
// quote the kubeconfig's content, which holds secrets; every front end reports them as bad input
// (exit 2) naming its own input.
func Unusable(rc *rest.Config, loadErr error) string {
	if loadErr == nil {
		switch {
		case rc == nil || strings.TrimSpace(rc.Host) == "":
			return "its cluster has no server address"
		}
		_, err := rest.TLSConfigFor(rc)
		switch {
		case err == nil:
			return ""
		case rc.CertFile != "" && strings.Contains(err.Error(), rc.CertFile), rc.KeyFile != "" && strings.Contains(err.Error(), rc.KeyFile):
			return "its user's client certificate or key cannot be read or loaded"
		case rc.CAFile != "" && strings.Contains(err.Error(), rc.CAFile), strings.Contains(err.Error(), "root certificates"):
			return "its cluster's certificate authority is not a readable PEM certificate"
		case strings.HasPrefix(err.Error(), "tls: "): // tls.X509KeyPair on the client certificate and key
			return "its user's client certificate or key cannot be read or loaded"
		}
		loadErr = err
	}
	msg := loadErr.Error()
	switch {
	case clientcmd.IsEmptyConfig(loadErr): // clientcmd's word for a context whose cluster has no server
		return "its current context names no cluster with a server address"
	case strings.Contains(msg, "context was not found"):
		return "its current context (or the context asked for) is not one of its contexts"
	case strings.Contains(msg, "no server found") || strings.Contains(msg, "no server defined"):
		return "its cluster has no server address"
	case strings.Contains(msg, "client-cert") || strings.Contains(msg, "client-key") || strings.Contains(msg, "client certificate"):
		return "its user's client certificate or key cannot be read or loaded"
	case strings.Contains(msg, "certificate-authority") || strings.Contains(msg, "root certificates") || strings.Contains(msg, "PEM"):
		return "its cluster's certificate authority is not a readable PEM certificate"
	case strings.Contains(msg, "cluster") && strings.Contains(msg, "not found"):
		return "its context names a cluster it does not have"
	case strings.Contains(msg, "user") && strings.Contains(msg, "not found"):
		return "its context names a user it does not have"
	case errors.Is(loadErr, fs.ErrNotExist):
		return "a file it names does not exist"
	}
	return "its current context must name a cluster with a server address and a user whose credentials load"
}
