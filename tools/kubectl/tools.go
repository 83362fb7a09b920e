//go:build tools

// Package tools pins kubectl's main package so `go build k8s.io/kubernetes/cmd/kubectl` resolves
// here: the tests pipe `mlcanary plan -o yaml|json` into `kubectl apply --dry-run=server -f -`.
package tools

import _ "k8s.io/kubernetes/cmd/kubectl"
