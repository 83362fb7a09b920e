// Package app is mlcanary's command line: it parses arguments, picks the front end (terminal,
// Azure DevOps or GitHub Actions), runs the core and maps the outcome to an exit code. Everything
// testable is behind Run, so tests drive the real command with injected streams and environment.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Exit codes, the same in every front end.
const (
	ExitOK      = 0 // the stage holds
	ExitFailed  = 1 // the stage failed; traffic is on something that works
	ExitInvalid = 2 // bad input; nothing was sent to the cluster
)

// Streams are the IO a command may use: machine output to Out, progress and errors to Err.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// StdStreams returns the process's standard streams.
func StdStreams() Streams { return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// LookupEnv reads one environment variable; tests inject a map instead of the process environment.
type LookupEnv func(string) (string, bool)

// UsageError is a command-line mistake that is not about one named input (unknown command, wrong
// number of arguments). Like *config.InputError it exits with code 2.
type UsageError struct{ Msg string }

// Error is Msg with unprintable characters escaped: cobra and pflag repeat what was typed (an
// unknown flag, say), and an error must stay one line that cannot forge a logging command.
func (e *UsageError) Error() string { return config.Printable(e.Msg) }

// Run executes mlcanary with args (without the program name) and returns the exit code. The error,
// if any, is printed exactly once, here, as one line on s.Err (unprintable characters escaped).
func Run(ctx context.Context, s Streams, args []string, env LookupEnv) int {
	if v, _ := env("TF_BUILD"); len(args) == 0 && strings.EqualFold(v, "true") {
		return runAzureDevOps(ctx, s, env)
	}
	root := newRoot(s, env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	_, _ = fmt.Fprintf(s.Err, "mlcanary: %s\n", config.Printable(err.Error())) // nowhere left to report a failed write
	return ExitCode(err)
}

// ExitCode maps an error to the exit code every front end uses.
func ExitCode(err error) int {
	var in *config.InputError
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &in), errors.As(err, &usage):
		return ExitInvalid
	}
	return ExitFailed
}

// newRoot builds the command tree. Front ends that are not a terminal (Azure DevOps, GitHub) are
// chosen inside the commands from env, so every path shares these definitions.
func newRoot(s Streams, env LookupEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "mlcanary",
		Short:         "Move an ML model between blue and green on Kubernetes + Istio, one stage per run",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	root.AddCommand(newStageCommand(s, env), newPlanCommand(s, env), newStatusCommand(s, env))
	root.AddCommand(newVersionCommand(s))
	root.AddCommand(newServeModelCommand(s))
	root.AddCommand(newLoadtestCommand(s))
	root.AddCommand(newVerifyCommand(s, env))
	root.AddCommand(newGitHubActionCommand(s, env))
	return root
}

// noArgs rejects arguments with a UsageError (exit 2), naming the unknown command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &UsageError{Msg: fmt.Sprintf("unknown command %q for %q; run '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())}
	}
	return nil
}

// exactArgs requires n arguments, described by what, with a UsageError otherwise.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &UsageError{Msg: fmt.Sprintf("%s takes %s (got %d arguments); run '%s --help'", cmd.CommandPath(), what, len(args), cmd.CommandPath())}
		}
		return nil
	}
}
