package istioprom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/mlcanary/mlcanary/internal/golden"
)

// fakeAPI answers each query whose text contains a key with that key's matrix (the first match in
// order), and every other query with an empty matrix; err, when set, answers every query.
type fakeAPI struct {
	answers []answer
	err     error
	asked   []string
}

type answer struct {
	contains string
	m        model.Matrix
}

func (f *fakeAPI) Query(_ context.Context, q string, _ time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.asked = append(f.asked, q)
	if f.err != nil {
		return nil, nil, f.err
	}
	for _, a := range f.answers {
		if strings.Contains(q, a.contains) {
			return a.m, nil, nil
		}
	}
	return model.Matrix{}, nil, nil
}

var testConfig = Config{
	Endpoint: "http://prometheus:9090", Namespace: "abtesting",
	Blue:  Version{Name: "blue", Workload: "model-blue", Service: "model-svc-blue"},
	Green: Version{Name: "green", Workload: "model-green", Service: "model-svc-green"},
	Start: t0.Add(60 * time.Second), End: t0.Add(660 * time.Second), SLO: time.Second,
}

// scraped is a counter scraped every 30s from t0 to t0+660s: from at t0 (before the window), then
// growing linearly to to at the end.
func scraped(labels map[string]string, from, to float64) *model.SampleStream {
	var s []model.SamplePair
	for sec := 0; sec <= 660; sec += 30 {
		s = append(s, at(sec, from+(to-from)*float64(sec)/660))
	}
	return series(labels, s...)
}

// healthy is a namespace where blue and green each served requests, with 5xx, a no-upstream 503
// for blue at the gateway, and durations.
func healthy() *fakeAPI {
	dest := func(w, code string) map[string]string {
		return map[string]string{"destination_workload": w, "response_code": code, "reporter": "destination"}
	}
	bucket := func(w, le string) map[string]string {
		return map[string]string{"destination_workload": w, "le": le}
	}
	return &fakeAPI{answers: []answer{
		{`istio_requests_total{reporter="destination",destination_workload_namespace="abtesting",destination_workload="model-blue"}`,
			model.Matrix{scraped(dest("model-blue", "200"), 100, 1200), scraped(dest("model-blue", "503"), 0, 44)}},
		{`destination_service_name="model-svc-blue"`, model.Matrix{scraped(map[string]string{"response_flags": "UH"}, 0, 11)}},
		{`istio_requests_total{reporter="destination",destination_workload_namespace="abtesting",destination_workload="model-green"}`,
			model.Matrix{scraped(dest("model-green", "200"), 1000, 2100), scraped(dest("model-green", "500"), 5, 16)}},
		{`istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="abtesting",destination_workload="model-blue"}`,
			model.Matrix{scraped(bucket("model-blue", "500"), 0, 1000), scraped(bucket("model-blue", "1000"), 0, 1100), scraped(bucket("model-blue", "+Inf"), 0, 1144)}},
		{`istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="abtesting",destination_workload="model-green"}`,
			model.Matrix{scraped(bucket("model-green", "1000"), 100, 1180), scraped(bucket("model-green", "+Inf"), 105, 1216)}},
	}}
}

// TestMeasure: exact counts from the samples (the window holds 600 of the 660 seconds, so each
// linear counter counts 600/660 of its growth: blue's 200s 1000, its 503s 40, 10 unserved), and the
// queries as sent (testdata/queries.golden).
func TestMeasure(t *testing.T) {
	api := healthy()
	res, err := Measure(context.Background(), api, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Measurement{
		"blue":  {Version: "blue", Requests: 1000 + 40 + 10, Errors: 40 + 10, Unserved: 10, Timed: 1040, Slow: 1040 - 1000},
		"green": {Version: "green", Requests: 1000 + 10, Errors: 10, Timed: 1010, Slow: 1010 - 982},
	}
	for _, m := range []Measurement{res.Blue, res.Green} {
		w := want[m.Version]
		w.Newest, w.ScrapeInterval = m.Newest, 30*time.Second
		if m != w || !m.Newest.Equal(testConfig.End) {
			t.Errorf("%s: %+v\nwant %+v", m.Version, m, w)
		}
	}
	if res.BoundaryMs != 1000 {
		t.Errorf("boundary %g, want 1000", res.BoundaryMs)
	}
	var b strings.Builder
	for _, q := range res.Queries {
		fmt.Fprintf(&b, "%s @ %s\n  %s\n", q.What, q.Time.Format(time.RFC3339), q.PromQL)
	}
	golden.Assert(t, "queries.golden", b.String())
}

// TestMeasureNoData: each way of having nothing to measure is its own error, in one sentence
// (testdata/nodata.golden), and never a result that could pass.
func TestMeasureNoData(t *testing.T) {
	withoutBlue := healthy()
	withoutBlue.answers = withoutBlue.answers[2:]
	stale := healthy()
	stale.answers[0].m = model.Matrix{series(nil, at(0, 1), at(30, 2), at(60, 3), at(90, 9), at(120, 10))}
	coarse := healthy()
	for i := 3; i < 5; i++ {
		coarse.answers[i].m = coarse.answers[i].m[len(coarse.answers[i].m)-2:]
	}
	cases := []struct {
		name string
		api  *fakeAPI
		slo  time.Duration
		as   any
	}{
		{"nothing at all", &fakeAPI{}, time.Second, new(*NoSeriesError)},
		{"green has series, blue none", withoutBlue, time.Second, new(*NoSeriesError)},
		{"stale", stale, time.Second, new(*StaleError)},
		{"SLO above every boundary", coarse, 2 * time.Second, new(*NoBoundaryError)},
		{"query error", &fakeAPI{err: &v1.Error{Type: v1.ErrBadData, Msg: "invalid parameter \"query\": 1:10: parse error"}}, time.Second, new(*QueryError)},
		{"HTTP error with a body", &fakeAPI{err: &v1.Error{Type: v1.ErrClient, Msg: "client error: 403",
			Detail: "Forbidden: the caller lacks\nthe Monitoring Data Reader role\n##vso[task.setvariable]x"}}, time.Second, new(*QueryError)},
	}
	var b strings.Builder
	for _, c := range cases {
		cfg := testConfig
		cfg.SLO = c.slo
		_, err := Measure(context.Background(), c.api, cfg)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.As(err, c.as) {
			t.Errorf("%s: %T %v", c.name, err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: more than one line: %q", c.name, err)
		}
		fmt.Fprintf(&b, "%s:\n  %s\n", c.name, err)
	}
	golden.Assert(t, "nodata.golden", b.String())
}

// TestMeasureNoTraffic: series but no request in the window is no error: zero counts, which the
// decision calls undecided with the requests it needs.
func TestMeasureNoTraffic(t *testing.T) {
	api := healthy()
	for i := range api.answers {
		for _, s := range api.answers[i].m {
			for j := range s.Values {
				s.Values[j].Value = s.Values[0].Value
			}
		}
	}
	res, err := Measure(context.Background(), api, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blue.Requests != 0 || res.Green.Requests != 0 || res.Blue.Timed != 0 {
		t.Errorf("counts %+v %+v, want none", res.Blue, res.Green)
	}
}
