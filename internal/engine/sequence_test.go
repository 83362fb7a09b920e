package engine_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/summary"
)

const (
	imgA = "myacr.azurecr.io/model:1"
	imgB = "myacr.azurecr.io/model:2"
	imgC = "myacr.azurecr.io/model:3"
)

type want struct {
	weights summary.Weights
	images  summary.Images
	routes  []string
}

func check(t *testing.T, f *fixture, stage string, res *summary.Result, w want) {
	t.Helper()
	var routes []string
	for _, r := range res.Routes {
		routes = append(routes, r.Version)
	}
	got := want{weights: res.Weights, images: res.Images, routes: routes}
	if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
		t.Errorf("%s result (-want +got):\n%s", stage, diff)
	}
	routing, images := f.live()
	live := summary.Weights{Green: routing.Weights[config.Green], Blue: routing.Weights[config.Blue]}
	if live != w.weights {
		t.Errorf("%s: live weights %+v, want %+v", stage, live, w.weights)
	}
	if images[config.Green] != w.images.Green || images[config.Blue] != w.images.Blue {
		t.Errorf("%s: live images %v, want %+v", stage, images, w.images)
	}
}

// TestFirstReleaseThenDocumentedSequence runs the documented five stages on an empty namespace (a
// first release), then again with a new image on the green it produced.
func TestFirstReleaseThenDocumentedSequence(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		stage, image string
		want         want
	}{
		{"Blue_0", imgA, want{summary.Weights{}, summary.Images{Blue: imgA}, []string{"blue"}}},
		{"Blue_50", "", want{summary.Weights{Blue: 100}, summary.Images{Blue: imgA}, []string{"blue"}}},
		{"Blue_100", "", want{summary.Weights{Blue: 100}, summary.Images{Blue: imgA}, []string{"blue"}}},
		{"Blue_Green", "", want{summary.Weights{Blue: 100}, summary.Images{Green: imgA, Blue: imgA}, []string{"blue", "green"}}},
		{"Green_100", "", want{summary.Weights{Green: 100}, summary.Images{Green: imgA}, []string{"green"}}},
		// The documented flow, on the green the first release left.
		{"Blue_0", imgB, want{summary.Weights{Green: 100}, summary.Images{Green: imgA, Blue: imgB}, []string{"blue", "green"}}},
		{"Blue_50", imgB, want{summary.Weights{Green: 50, Blue: 50}, summary.Images{Green: imgA, Blue: imgB}, []string{"blue", "green"}}},
		{"Blue_100", "", want{summary.Weights{Blue: 100}, summary.Images{Green: imgA, Blue: imgB}, []string{"blue", "green"}}},
		{"Blue_Green", "", want{summary.Weights{Blue: 100}, summary.Images{Green: imgB, Blue: imgB}, []string{"blue", "green"}}},
		{"Green_100", "", want{summary.Weights{Green: 100}, summary.Images{Green: imgB}, []string{"green"}}},
	}
	for _, s := range steps {
		f.rec.reset()
		res := f.stage(s.stage, s.image)
		requests, writes := f.rec.counts()
		check(t, f, s.stage, res, s.want)
		f.rec.reset()
		f.stage(s.stage, s.image)
		rerunRequests, rerunWrites := f.rec.counts()
		if len(rerunWrites) != 0 {
			t.Errorf("re-run of %s wrote %v", s.stage, rerunWrites)
		}
		t.Logf("%s: %d requests, %d writes; re-run: %d requests, 0 writes", s.stage, requests, len(writes), rerunRequests)
	}
}
