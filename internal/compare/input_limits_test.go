package compare

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/analysis"
	"github.com/mlcanary/mlcanary/internal/config"
)

// TestRequestsFileWithAByteOrderMark (found by the #11 break-it review, C2): a UTF-8 requests file
// that starts with a byte order mark, as PowerShell 5.1 and Notepad write it on Windows agents, is
// read like one without; CRLF line ends too.
func TestRequestsFileWithAByteOrderMark(t *testing.T) {
	name := filepath.Join(t.TempDir(), "requests.jsonl")
	if err := os.WriteFile(name, []byte("\ufeff[0.1, 0.2]\r\n[0.3, 0.4]\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rq, err := Prepare(name, nil)
	if err != nil {
		t.Fatalf("a UTF-8 file with a byte order mark is refused: %v", err)
	}
	defer func() { _ = rq.Close() }()
	if rq.Count != 2 {
		t.Errorf("%d requests, want 2", rq.Count)
	}
}

// TestTinyRateIsStillALimit (#11 break-it review, C4): --rate 1e-10 (a line every 317 years)
// waits; the wait never overflows into the past and sends everything at once.
func TestTinyRateIsStillALimit(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{"score":1}`)
	}))
	t.Cleanup(srv.Close)
	o := options(srv.URL) // both copies reach the same server
	o.Rate = 1e-10
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	r, err := Run(ctx, strings.NewReader(grid(50)), "reqs.jsonl", o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests > 1 || hits.Load() > 2 {
		t.Errorf("--rate 1e-10: %d lines sent in 2 s (%d HTTP requests), want at most 1", r.Requests, hits.Load())
	}
	for _, c := range []struct {
		i    int
		rate float64
		want time.Duration
	}{{0, 1e-10, 0}, {1, 1e-10, time.Duration(1<<63 - 1)}, {3, 2, 1500 * time.Millisecond}} {
		if got := after(c.i, c.rate); got != c.want {
			t.Errorf("after(%d, %g) = %s, want %s", c.i, c.rate, got, c.want)
		}
	}
}

// TestZeroMaxDisagreementIsBadInput (#11 break-it review, C6): with --max-disagreement 0 no number
// of identical answers could prove blue agrees (an interval never lies below 0), so it is refused
// as bad input instead of ending every comparison undecided.
func TestZeroMaxDisagreementIsBadInput(t *testing.T) {
	in := NewInputs()
	in.Gateway, in.Requests, in.MaxDisagreement = "127.0.0.1", "reqs.jsonl", 0
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "max-disagreement") {
		t.Errorf("--max-disagreement 0: %v, want refused naming it", err)
	}
}

// TestUnprovableMaxDisagreementIsBadInput: C6's kind beyond 0 (second #11 break-it review, D14). A
// --max-disagreement so small that even MaxProvingRequests answers that all agree could not prove
// blue agrees (1e-10 % needs about 6.6e12) is refused naming the flag and the smallest allowed, at
// the confidence given; the smallest allowed shown is itself accepted and provable.
func TestUnprovableMaxDisagreementIsBadInput(t *testing.T) {
	t.Parallel()
	for _, conf := range []float64{0.5, 0.95, 0.99, 0.999} {
		for _, max := range []float64{1e-10, 1e-8, SmallestMaxDisagreement(conf)} {
			in := NewInputs()
			in.Gateway, in.Requests, in.MaxDisagreement, in.Confidence = "127.0.0.1", "r.jsonl", max, conf
			err := in.Validate()
			if err == nil || !strings.Contains(err.Error(), "max-disagreement") || !strings.Contains(err.Error(), "a percentage above") {
				t.Errorf("--max-disagreement %g at %g: %v, want refused naming the flag and the smallest allowed", max, conf, err)
			}
		}
		in := NewInputs()
		in.Gateway, in.Requests, in.Confidence = "127.0.0.1", "r.jsonl", conf
		var shown float64
		if _, err := fmt.Sscan(ceilDigits(SmallestMaxDisagreement(conf), 3), &shown); err != nil {
			t.Fatal(err)
		}
		in.MaxDisagreement = shown
		if err := in.Validate(); err != nil {
			t.Errorf("the smallest allowed shown, %g at %g, is refused: %v", shown, conf, err)
		}
		r := &Report{Compared: int(MaxProvingRequests), Agreed: int(MaxProvingRequests), MaxDisagreement: shown / 100, Confidence: conf, RoutesChecked: true}
		r.decide()
		if r.Verdict != analysis.Agrees {
			t.Errorf("at the smallest allowed %g%% (confidence %g), %g answers all alike: %s", shown, conf, MaxProvingRequests, r.Reason)
		}
	}
	// The stage front ends use the CLI's rule, naming their own input.
	in := NewStageInputs(writeRequests(t, "[1]\n"))
	in.MaxDisagreement = 1e-10
	if _, err := in.Options(config.Default(), "127.0.0.1"); err == nil || !strings.Contains(err.Error(), FlagStageMaxDisagreement) {
		t.Errorf("stage compare-max-disagreement 1e-10: %v", err)
	}
}

// TestNonFiniteInputsAreRefused: a NaN or Inf tolerance, maximum, confidence or rate is refused
// (kept from the second #11 break-it review, where it held).
func TestNonFiniteInputsAreRefused(t *testing.T) {
	t.Parallel()
	for _, set := range []func(*Inputs){
		func(in *Inputs) { in.AbsTolerance = math.NaN() }, func(in *Inputs) { in.RelTolerance = math.Inf(1) },
		func(in *Inputs) { in.MaxDisagreement = math.NaN() }, func(in *Inputs) { in.Confidence = math.NaN() },
		func(in *Inputs) { in.Rate = math.Inf(1) },
	} {
		in := NewInputs()
		in.Gateway, in.Requests = "127.0.0.1", "r.jsonl"
		set(&in)
		if err := in.Validate(); err == nil {
			t.Errorf("%+v accepted", in)
		}
	}
}
