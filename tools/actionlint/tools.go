//go:build tools

// Package tools pins actionlint's command so `go build github.com/rhysd/actionlint/cmd/actionlint`
// resolves here.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
