//go:build tools

// Package tools pins golangci-lint's main package so `go build
// github.com/golangci/golangci-lint/v2/cmd/golangci-lint` resolves here.
package tools

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
