package scoringmock

import (
	"fmt"
	"net"
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
	// Grace is how long requests in flight may finish after Ctrl-C or SIGTERM (0 or more).
	Grace time.Duration
}

// NewInputs returns the inputs with the documented defaults: port 5001 (the documented images'),
// DefaultAnswer, failures answered 500 when asked for, 10s to drain.
func NewInputs() Inputs {
	return Inputs{Addr: ":5001", Answer: DefaultAnswer, FailStatus: 500, Grace: 10 * time.Second}
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
	return Options{Answer: in.Answer, FailRate: in.FailRate, FailStatus: in.FailStatus, Latency: in.Latency, ReadyAfter: in.ReadyAfter}, nil
}
