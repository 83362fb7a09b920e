//go:build tools

// Package tools pins act's main package so `go build github.com/nektos/act` resolves here.
package tools

import _ "github.com/nektos/act"
