// Package app wires mlcanary's commands (cobra): it parses arguments, runs a stage through
// frontend.Run with the front end a command names — the terminal, or the hidden azure-devops-task
// and github-action commands — and prints the error once, through that front end, mapped to an exit
// code. Everything testable is behind Run, so tests drive the real command with injected streams
// and environment.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
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

// LookupEnv is frontend.LookupEnv, the one way every front end reads the environment.
type LookupEnv = frontend.LookupEnv

// UsageError is a command-line mistake that is not about one named input (unknown command, wrong
// number of arguments). Like *config.InputError it exits with code 2.
type UsageError struct{ Msg string }

// Error is Msg with unprintable characters escaped: cobra and pflag repeat what was typed (an
// unknown flag, say), and an error must stay one line that cannot forge a logging command.
func (e *UsageError) Error() string { return config.Printable(e.Msg) }

// Run executes mlcanary with args (without the program name) and returns the exit code. The error,
// if any, is printed exactly once, here, by the front end of the command that ran (Finish): one
// line on s.Err for the terminal, an issue for Azure DevOps, an annotation for GitHub.
func Run(ctx context.Context, s Streams, args []string, env LookupEnv) int {
	front := &frontEnd{Reporter: terminal{s: s}}
	root := newRootFor(s, env, front, args)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	front.Finish(err)
	return ExitCode(err)
}

// frontEnd is the reporter that finishes a run: the terminal, unless a front-end command replaced it.
type frontEnd struct{ frontend.Reporter }

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

// newRoot builds the command tree. The front ends that are not a terminal (Azure DevOps, GitHub)
// are hidden commands that set front to their reporter.
func newRoot(s Streams, env LookupEnv, front *frontEnd) *cobra.Command {
	return rootWith(s, subcommands(s, env, front))
}

// newRootFor is newRoot for a run of args: when args[0] names a subcommand, the tree holds only
// that one, because building every command's flags is most of what a run does before its first
// request (≈ 0.3 ms of a stage's start; #12). Any other first argument (help, completion, a flag,
// a typo that gets a suggestion, none) gets the whole tree.
func newRootFor(s Streams, env LookupEnv, front *frontEnd, args []string) *cobra.Command {
	all := subcommands(s, env, front)
	if len(args) > 0 {
		for _, c := range all {
			if c.name == args[0] {
				return rootWith(s, []subcommand{c})
			}
		}
	}
	return rootWith(s, all)
}

// subcommand is a command of the tree by name, built only when a run needs it.
type subcommand struct {
	name  string
	build func() *cobra.Command
}

func subcommands(s Streams, env LookupEnv, front *frontEnd) []subcommand {
	fronts := func(i int) func() *cobra.Command {
		return func() *cobra.Command { return newFrontEndCommands(s, env, front)[i] }
	}
	return []subcommand{
		{"stage", func() *cobra.Command { return newStageCommand(s, env) }},
		{"plan", func() *cobra.Command { return newPlanCommand(s, env) }},
		{"status", func() *cobra.Command { return newStatusCommand(s, env) }},
		{"version", func() *cobra.Command { return newVersionCommand(s) }},
		{"serve-model", func() *cobra.Command { return newServeModelCommand(s) }},
		{"loadtest", func() *cobra.Command { return newLoadtestCommand(s) }},
		{"verify", func() *cobra.Command { return newVerifyCommand(s, env) }},
		{"analyze", func() *cobra.Command { return newAnalyzeCommand(s, env) }},
		{"compare", func() *cobra.Command { return newCompareCommand(s, env) }},
		{"azure-devops-task", fronts(0)},
		{"github-action", fronts(1)},
	}
}

func rootWith(s Streams, subs []subcommand) *cobra.Command {
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
	root.SetFlagErrorFunc(flagError)
	for _, c := range subs {
		root.AddCommand(c.build())
	}
	return root
}

// flagError turns a flag that did not parse into the one line every bad input gets: the
// *config.InputError mlcanary's typed flags return (config.DecimalVar, WholeVarP, DurationVarP,
// BoolVarP), or one built from the flag's type for flags cobra adds itself (--help, completion's).
// Anything else (an unknown flag, a missing value) is a UsageError. Either exits 2.
func flagError(_ *cobra.Command, err error) error {
	var invalid *pflag.InvalidValueError
	if errors.As(err, &invalid) {
		f := invalid.GetFlag()
		return config.SetError(err, f, f.Name, invalid.GetValue())
	}
	if in := (*config.InputError)(nil); errors.As(err, &in) {
		return in
	}
	return &UsageError{Msg: err.Error()}
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
