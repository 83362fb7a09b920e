//go:build tools

// Package tools pins hey's main package so `go build github.com/rakyll/hey` resolves here.
package tools

import _ "github.com/rakyll/hey"
