package scoringmock

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Inputs are `mlcanary serve-model`'s inputs as given: where to listen, what to answer, how to
// misbehave and how long to drain.
type Inputs struct {
	// Addr is HOST:PORT or :PORT to listen on.
	Addr string
	// Answer is what /score answers (DefaultAnswer unless set).
	Answer string
	// FailRate is the fraction of /score requests (0 to 1) answered with FailStatus (400 to 599).
	FailRate   float64
	FailStatus int
	// Latency delays every /score answer (0 or more).
	Latency time.Duration
	// ReadyAfter is how long the pretend model takes to load (0 or more): "/" and /score answer 503 until then.
	ReadyAfter time.Duration
	// Weights turns on the model mode (Model): comma-separated numbers, or NAME=NUMBER pairs
	// (ParseWeights); "" answers Answer.
	Weights string
	// Bias, Threshold, Labels ("BELOW,ABOVE") and NaNRate (0 to 1) are the model's (Model); they need Weights.
	Bias, Threshold float64
	Labels          string
	NaNRate         float64
	// Grace is how long requests in flight may finish after Ctrl-C or SIGTERM (0 or more).
	Grace time.Duration
}

// NewInputs returns the inputs with the documented defaults: port 5001 (the documented images'),
// DefaultAnswer, failures answered 500 when asked for, 10s to drain.
func NewInputs() Inputs {
	return Inputs{Addr: ":5001", Answer: DefaultAnswer, FailStatus: 500, Grace: 10 * time.Second,
		Threshold: 0.5, Labels: strings.Join(DefaultLabels[:], ",")}
}

// AddFlags binds the inputs to fs under `mlcanary serve-model`'s flag names, with NewInputs' defaults.
func (in *Inputs) AddFlags(fs *pflag.FlagSet) {
	d := NewInputs()
	fs.StringVar(&in.Addr, "addr", d.Addr, "HOST:PORT to listen on (the documented images use port 5001)")
	fs.StringVar(&in.Answer, "answer", d.Answer, "what /score answers, as a JSON string")
	config.DecimalVar(fs, &in.FailRate, "fail-rate", d.FailRate, allowedFailRate, "fraction of /score requests (0 to 1) that fail, spread evenly")
	config.WholeVarP(fs, &in.FailStatus, "fail-status", "", d.FailStatus, allowedFailStatus, "HTTP status of a failed request (400 to 599)")
	config.DurationVarP(fs, &in.Latency, "latency", "", d.Latency, allowedLatency, "delay before every /score answer, e.g. 50ms")
	config.DurationVarP(fs, &in.ReadyAfter, "ready-after", "", d.ReadyAfter, allowedReadyAfter, `how long the model takes to load, e.g. 30s: until then "/" (the readiness probe's path) and /score answer 503`)
	fs.StringVar(&in.Weights, flagWeights, d.Weights, `model mode: /score answers {"score": bias + Σ weight·input, "label": …} for a JSON array of numbers ("0.5,-1,2") or a JSON object's members ("age=0.5,income=-1")`)
	config.DecimalVar(fs, &in.Bias, flagBias, d.Bias, allowedFinite, "model mode: added to the weighted sum")
	config.DecimalVar(fs, &in.Threshold, flagThreshold, d.Threshold, allowedFinite, "model mode: a score at or above it gets the second label, below it the first")
	fs.StringVar(&in.Labels, flagLabels, d.Labels, "model mode: the labels below and at or above --threshold, BELOW,ABOVE")
	config.DecimalVar(fs, &in.NaNRate, flagNaNRate, d.NaNRate, allowedFailRate, "model mode: fraction of answers (0 to 1) whose score is NaN, spread evenly, written as Python's json.dumps does")
	config.DurationVarP(fs, &in.Grace, "shutdown-timeout", "", d.Grace, allowedGrace, "how long requests in flight may finish after Ctrl-C or SIGTERM")
}

// What each numeric input allows, said the same way whether its value does not parse (the flag
// refuses it) or is out of range (Options refuses it).
const (
	allowedFailRate   = "a fraction from 0 to 1"
	allowedFailStatus = "an HTTP error status from 400 to 599"
	allowedLatency    = "a duration of 0 or more, e.g. 50ms"
	allowedGrace      = "a duration of 0 or more, e.g. 10s"
	allowedReadyAfter = "a duration of 0 or more, e.g. 30s"
	allowedFinite     = "a finite number, e.g. 0.5"
	allowedLabels     = "two different labels BELOW,ABOVE, e.g. negative,positive"
	allowedWeights    = `comma-separated numbers ("0.5,-1,2") or NAME=NUMBER pairs ("age=0.5,income=-1")`
)

// Names of the model mode's flags.
const (
	flagWeights   = "weights"
	flagBias      = "bias"
	flagThreshold = "threshold"
	flagLabels    = "labels"
	flagNaNRate   = "nan-rate"
)

// Options validates the inputs into the handler's Options; the first bad one is a
// *config.InputError naming its flag. The address is only checked for its shape: whether it can be
// listened on is known by listening.
func (in *Inputs) Options() (Options, error) {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	switch {
	case !(in.FailRate >= 0 && in.FailRate <= 1): // written so NaN fails too
		return Options{}, bad("fail-rate", fmt.Sprint(in.FailRate), allowedFailRate)
	case in.FailStatus < 400 || in.FailStatus > 599:
		return Options{}, bad("fail-status", fmt.Sprint(in.FailStatus), allowedFailStatus)
	case in.Latency < 0:
		return Options{}, bad("latency", in.Latency.String(), allowedLatency)
	case in.ReadyAfter < 0:
		return Options{}, bad("ready-after", in.ReadyAfter.String(), allowedReadyAfter)
	case in.Grace < 0:
		return Options{}, bad("shutdown-timeout", in.Grace.String(), allowedGrace)
	}
	if _, _, err := net.SplitHostPort(in.Addr); err != nil {
		return Options{}, bad("addr", in.Addr, "HOST:PORT or :PORT, e.g. :5001 or 127.0.0.1:5001")
	}
	m, err := in.model()
	if err != nil {
		return Options{}, err
	}
	return Options{Answer: in.Answer, FailRate: in.FailRate, FailStatus: in.FailStatus, Latency: in.Latency, ReadyAfter: in.ReadyAfter, Model: m}, nil
}

// model validates the model mode's inputs into the Model; nil without --weights, whose absence
// makes every other model input an error (it would be silently ignored).
func (in *Inputs) model() (*Model, error) {
	bad := func(input, value, allowed string) error {
		return &config.InputError{Input: input, Value: value, Allowed: allowed}
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case !finite(in.Bias):
		return nil, bad(flagBias, fmt.Sprint(in.Bias), allowedFinite)
	case !finite(in.Threshold):
		return nil, bad(flagThreshold, fmt.Sprint(in.Threshold), allowedFinite)
	case !(in.NaNRate >= 0 && in.NaNRate <= 1):
		return nil, bad(flagNaNRate, fmt.Sprint(in.NaNRate), allowedFailRate)
	}
	below, above, ok := strings.Cut(in.Labels, ",")
	below, above = strings.TrimSpace(below), strings.TrimSpace(above)
	if !ok || below == "" || above == "" || below == above || strings.Contains(above, ",") {
		return nil, bad(flagLabels, in.Labels, allowedLabels)
	}
	if strings.TrimSpace(in.Weights) == "" {
		d := NewInputs()
		for _, f := range []struct {
			name  string
			given bool
		}{{flagBias, in.Bias != d.Bias}, {flagThreshold, in.Threshold != d.Threshold}, {flagLabels, in.Labels != d.Labels}, {flagNaNRate, in.NaNRate != d.NaNRate}} {
			if f.given {
				return nil, bad(flagWeights, in.Weights, allowedWeights+": --"+f.name+" is a setting of the model mode, which --weights turns on")
			}
		}
		return nil, nil
	}
	w, names, err := ParseWeights(in.Weights)
	if err != nil {
		return nil, bad(flagWeights, in.Weights, allowedWeights+" ("+err.Error()+")")
	}
	return &Model{Weights: w, Names: names, Bias: in.Bias, Threshold: in.Threshold, Labels: [2]string{below, above}, NaNRate: in.NaNRate}, nil
}
