// Package github is mlcanary's GitHub Actions front end: a frontend.Source that reads the action's
// inputs and kubeconfig from the step's environment, and a frontend.Reporter that speaks the runner's
// formats — masks first, log groups, step outputs in GITHUB_OUTPUT, a Markdown step summary in
// GITHUB_STEP_SUMMARY, and the error as one ::error:: annotation.
package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/frontend"
)

// Front is the GitHub Action as a front end of the stage run (frontend.Run).
type Front struct {
	env frontend.LookupEnv
	gh  *githubactions.Action
	kc  kubeconfig
	// outcome is what the stage left, kept for the step summary Finish writes; nil until Summary.
	outcome *frontend.Outcome
}

var _ frontend.Front = (*Front)(nil)

// NewFront returns the front end of a step whose environment env reads; workflow commands go to
// out (the step's stdout).
func NewFront(env frontend.LookupEnv, out io.Writer) *Front {
	return &Front{env: env, gh: githubactions.New(githubactions.WithWriter(out), githubactions.WithGetenv(getenv(env)))}
}

// Secrets reads the kubeconfig (the input, else KUBECONFIG's files) and returns every secret in
// it, also when it does not load, and the Prometheus token and password inputs: they are masked
// before the error is printed.
func (f *Front) Secrets() ([]string, error) {
	kc, err := loadKubeconfig(f.env)
	f.kc = kc
	secrets := kc.secrets()
	for _, name := range []string{inputPrometheusToken, inputPrometheusPassword} {
		if v := input(f.env, name); v != "" {
			secrets = append(secrets, v)
		}
	}
	return secrets, err
}

// Inputs reads the action's inputs (ReadRequest).
func (f *Front) Inputs() (frontend.Request, error) {
	return ReadRequest(f.env)
}

// Connect builds the client config from the kubeconfig Secrets read.
func (f *Front) Connect(context.Context, frontend.Request, func(string)) (frontend.Cluster, error) {
	rc, err := f.kc.restConfig()
	return frontend.Cluster{Config: rc}, err
}

// Mask registers a secret with the runner (::add-mask::).
func (f *Front) Mask(secret string) { f.gh.AddMask(secret) }

// runnerFiles are the files a step reports through: its outputs and its step summary.
var runnerFiles = []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"}

// Preflight checks that GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are set and each opens for append
// (as the runner creates them, and as the library writes them), before anything is sent: a stage
// must not move traffic and then fail to report it. A problem is a *config.InputError naming the
// variable (exit 2).
func (f *Front) Preflight() error {
	for _, name := range runnerFiles {
		path := f.gh.Getenv(name)
		if path != "" {
			file, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				err = file.Close()
			}
			if err == nil {
				continue
			}
		}
		return &config.InputError{Input: name, Value: path,
			Allowed: "a file this step can append to, which the runner sets; run mlcanary github-action only as a GitHub Actions step"}
	}
	return nil
}

// Begin opens a log group for the stage or the verification.
func (f *Front) Begin(p frontend.Part) {
	if p.Kind == frontend.PartVerify {
		f.gh.Group("mlcanary verify through " + p.Title)
		return
	}
	if p.Kind == frontend.PartCompare {
		f.gh.Group("mlcanary compare: " + p.Title)
		return
	}
	f.gh.Group("mlcanary " + p.Title)
}

// End closes the group; a verification's ends with its verdict (the report is in the step summary).
func (f *Front) End(p frontend.Part) {
	switch {
	case p.Kind == frontend.PartVerify && p.Passed:
		f.gh.Infof("verified: traffic matches the live routes (report in the step summary)")
	case p.Kind == frontend.PartVerify:
		f.gh.Infof("not verified (the error annotation says why; report in the step summary)")
	case p.Kind == frontend.PartCompare && p.Passed:
		f.gh.Infof("compared: blue agrees with green (report in the step summary)")
	case p.Kind == frontend.PartCompare:
		f.gh.Infof("blue does not agree with green (the error annotation says why; report in the step summary)")
	}
	f.gh.EndGroup()
}

// Logf prints a plain log line made safe with Plain.
func (f *Front) Logf(format string, args ...any) {
	f.gh.Infof("%s", Plain(fmt.Sprintf(format, args...)))
}

// Output sets a step output (one line, OutputValue) in GITHUB_OUTPUT, which Preflight found
// writable; a file that fails later is an error (the library panics then).
func (f *Front) Output(o frontend.Output) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reporting to the runner: %v", p)
		}
	}()
	f.gh.SetOutput(o.Name, OutputValue(o.Value))
	return nil
}

// Summary keeps the outcome; Finish writes the step summary, with the run's error when it failed.
func (f *Front) Summary(_ context.Context, o frontend.Outcome) error {
	f.outcome = &o
	return nil
}

// Finish writes the step summary (when the stage returned a result) and, on failure, the error:
// one annotation titled "mlcanary", whose text is the line every front end prints
// (config.Printable; a stage's error already begins with the stage's name), also shown once in the
// summary. This is the one place the action prints an error.
func (f *Front) Finish(err error) {
	line := ""
	if err != nil {
		line = config.Printable(err.Error())
	}
	if o := f.outcome; o != nil {
		for _, w := range o.Result.Warnings { // an annotation each, besides the step summary
			f.gh.Warningf("%s", Plain(w))
		}
		caution := line
		if o.StageErr == nil && (o.Verify.Err != nil && errors.Is(err, o.Verify.Err) || o.Compare.Err != nil && errors.Is(err, o.Compare.Err)) {
			caution = "" // the verification's or comparison's own section says it (its report, or the error)
		}
		md := StepSummary(o.Result, caution, o.Verify, o.Analysis.Markdown())
		if c := o.Compare.Markdown(); c != "" {
			md = strings.TrimRight(md, "\n") + "\n\n" + c
		}
		if werr := f.writeSummary(md); werr != nil {
			f.gh.Warningf("%s", Plain(werr.Error()))
		}
	}
	if err != nil {
		f.gh.WithFieldsMap(map[string]string{"title": "mlcanary"}).Errorf("%s", line)
	}
}

// writeSummary appends md to GITHUB_STEP_SUMMARY; the library panics when it cannot.
func (f *Front) writeSummary(md string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing the step summary: %v", p)
		}
	}()
	f.gh.AddStepSummary(md)
	return nil
}

// getenv adapts a LookupEnv to the library's Getenv, which has no "unset" result.
func getenv(env frontend.LookupEnv) githubactions.GetenvFunc {
	return func(k string) string {
		v, _ := env(k)
		return v
	}
}
