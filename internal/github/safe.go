package github

import (
	"strings"

	"github.com/mlcanary/mlcanary/internal/config"
)

// lineBreaks turns CR and LF into spaces, so one text is one line of the step's log.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// Plain makes text that did not come from mlcanary itself (engine messages that quote cluster
// objects, image names, errors) safe to print as one plain line of the step's log. The runner reads
// a line as a workflow command when it starts with "::" after leading whitespace, or when it holds
// "##[" anywhere (the old command syntax); such a line gets the prefix "> " and "##[" loses its
// bracket, so text from a cluster can never mask, annotate, stop commands or set outputs.
//
// The rule is config.Neutralise, shared with the Azure DevOps task and the CLI's error line.
func Plain(s string) string {
	return config.Neutralise(lineBreaks.Replace(s))
}

// OutputValue keeps a step output on one line: CR and LF are dropped, so a value can never end the
// GITHUB_OUTPUT record it is written in and start another. Every output is a single-line value.
func OutputValue(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}
