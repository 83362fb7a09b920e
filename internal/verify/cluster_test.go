package verify

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// fixedStatus is a StatusReader that returns one result or error and records the config it got.
type fixedStatus struct {
	res *summary.Result
	err error
	got config.Config
}

func (f *fixedStatus) Status(_ context.Context, cfg config.Config) (*summary.Result, error) {
	f.got = cfg
	return f.res, f.err
}

func TestTargetFromCluster(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.URIPrefix = "/predict"
	live := &fixedStatus{res: &summary.Result{Weights: summary.Weights{Green: 70, Blue: 30}, Routes: documentedRoutes}}
	got, err := TargetFromCluster(t.Context(), live, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Weights: summary.Weights{Green: 70, Blue: 30}, Routes: documentedRoutes, Path: "/predict"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if live.got.Namespace != "abtesting" {
		t.Errorf("Status got namespace %q, want the config's", live.got.Namespace)
	}

	boom := errors.New("connection refused")
	_, err = TargetFromCluster(t.Context(), &fixedStatus{err: boom}, cfg)
	if !errors.Is(err, boom) || err.Error() != "reading the live routes in namespace abtesting: connection refused" {
		t.Errorf("error %q does not wrap the status error once", err)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"20.1.2.3":             "http://20.1.2.3",
		"20.1.2.3:8080/":       "http://20.1.2.3:8080",
		"https://gw.example/ ": "https://gw.example",
		"http://127.0.0.1:80":  "http://127.0.0.1:80",
	} {
		if got := BaseURL(in); got != want {
			t.Errorf("BaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}
