//go:build tools

// Package tools pins kubeconform's main package so `go build
// github.com/yannh/kubeconform/cmd/kubeconform` resolves here: the tests validate `mlcanary plan -o
// yaml|json` with it against schemas generated from the test API server's OpenAPI.
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
