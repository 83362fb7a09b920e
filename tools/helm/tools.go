//go:build tools

// Package tools pins helm's main package so `go build helm.sh/helm/v3/cmd/helm` resolves here:
// `make bench-stage` times `helm upgrade --install` of the documented objects.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
