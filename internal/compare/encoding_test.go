package compare

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlcanary/mlcanary/internal/analysis"
)

// compressing answers a batch request ({"batch": …}) with 100 scores (shifted by shift) and any other
// with a label, compressed in coding when the request accepts it and the answer has 500 bytes or more
// (Starlette's GZipMiddleware). It records the Accept-Encoding it last saw.
func compressing(coding string, shift float64, seen *atomic.Value) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen.Store(r.Header.Get("Accept-Encoding"))
		body := `{"label":"approve"}`
		if bytes.HasPrefix(b, []byte(`{"batch"`)) {
			scores := make([]string, 100)
			for i := range scores {
				scores[i] = fmt.Sprintf("%.6f", 0.123456+shift)
			}
			body = `{"scores":[` + strings.Join(scores, ",") + `]}`
		}
		if len(body) < 500 || !strings.Contains(r.Header.Get("Accept-Encoding"), coding) && coding != "br" {
			_, _ = io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Encoding", coding)
		var zw io.WriteCloser
		switch coding {
		case "gzip":
			zw = gzip.NewWriter(w)
		case "deflate":
			zw = zlib.NewWriter(w)
		case "raw-deflate":
			w.Header().Set("Content-Encoding", "deflate")
			zw, _ = flate.NewWriter(w, flate.DefaultCompression)
		default: // a coding compare never asked for, sent anyway
			_, _ = io.WriteString(w, "\x1b\x00"+body)
			return
		}
		_, _ = io.WriteString(zw, body)
		_ = zw.Close()
	})
}

// captured is n lines of captured traffic with a browser's Accept-Encoding, every other one a batch.
func captured(n int, acceptEncoding string) string {
	var lines strings.Builder
	for i := range n {
		body := fmt.Sprintf(`[%d]`, i)
		if i%2 == 0 {
			body = fmt.Sprintf(`{"batch": [%d]}`, i)
		}
		fmt.Fprintf(&lines, `{"body": %s, "headers": {"Accept-Encoding": %q, "User-Agent": "python-requests/2.32"}}`+"\n", body, acceptEncoding)
	}
	return lines.String()
}

// TestCompressedAnswers (found by the second #11 break-it review, D4): captured requests ask for
// gzip; the models compress answers of 500 bytes or more. compare decodes gzip and deflate (zlib or
// raw), so blue, which changed every large (batch) answer, is judged on them and is degraded,
// instead of agreeing on the small answers only. It forwards only the codings it decodes.
func TestCompressedAnswers(t *testing.T) {
	t.Parallel()
	for _, coding := range []string{"gzip", "deflate", "raw-deflate"} {
		t.Run(coding, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Value
			accept := "gzip, deflate, br"
			o := options(routed(t, compressing(coding, 0, &seen), compressing(coding, 0.2, &seen), "/score"))
			o.MaxDisagreement = 0.10
			r := run(t, captured(400, accept), o)
			if r.Verdict != analysis.Degraded || r.Compared != 400 || len(r.Green.Invalid) != 0 || r.Compared-r.Agreed != 200 {
				t.Errorf("%s: %d compared, %d agreed, green invalid %v: %s", r.Verdict, r.Compared, r.Agreed, r.Green.Invalid, r.Reason)
			}
		})
	}
}

// TestAcceptEncodingForwarded: compare forwards of a line's Accept-Encoding only the codings it
// decodes, with their q-values, and none when none is left.
func TestAcceptEncodingForwarded(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(strings.Join(r.Header.Values("Accept-Encoding"), "|"))
		_, _ = io.WriteString(w, "1")
	}))
	t.Cleanup(srv.Close)
	for accept, want := range map[string]string{"gzip, deflate, br": "gzip, deflate", "br;q=1.0, gzip;q=0.8, zstd": "gzip;q=0.8",
		"br": "", "identity": "identity", "GZIP": "GZIP"} {
		o := options(srv.URL)
		o.RoutesKnown = false
		run(t, fmt.Sprintf(`{"body": [1], "headers": {"Accept-Encoding": %q}}`+"\n", accept), o)
		if got := seen.Load(); got != want {
			t.Errorf("a line asking for %q: the model was asked for %q, want %q", accept, got, want)
		}
	}
}

// TestUndecodableAnswers: an answer in a coding compare cannot decode (brotli, sent although compare
// never asks for it) is invalid as "undecodable" with one sentence naming the coding, never non-JSON;
// when it is green's, those requests are not compared, and since they are far more than
// --max-disagreement of the file the comparison is undecided, naming the kind.
func TestUndecodableAnswers(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	o := options(routed(t, compressing("br", 0, &seen), compressing("br", 0, &seen), "/score"))
	o.MaxDisagreement = 0.10
	r := run(t, captured(400, "br"), o)
	want := `blue agrees on the 200 compared requests, but 200 of 400 (50.00%) were not compared because green answered them invalidly (200 undecodable), more than the allowed 10.00%`
	if r.Verdict != analysis.Undecided || r.Green.Invalid[InvalidEncoding] != 200 || !strings.HasPrefix(r.Reason, want) {
		t.Errorf("%s (green invalid %v): %s\nwant the reason to begin %q", r.Verdict, r.Green.Invalid, r.Reason, want)
	}
	o = options(routed(t, compressing("gzip", 0, &seen), compressing("br", 0, &seen), "/score"))
	o.MaxDisagreement = 0.10
	r = run(t, captured(400, "gzip, br"), o)
	if r.Verdict != analysis.Degraded || r.Blue.Invalid[InvalidEncoding] != 200 || len(r.Divergent) == 0 ||
		r.Divergent[0].Blue != `an answer in Content-Encoding "br", which compare cannot decode (it asks only for gzip or deflate)` {
		t.Errorf("blue answers in brotli: %s (blue invalid %v): %s; divergent %+v", r.Verdict, r.Blue.Invalid, r.Reason, r.Divergent)
	}
}

// TestUncomparedShare: green answering some requests invalidly leaves them out of the comparison;
// up to --max-disagreement of the requests sent that is what a flaky reference does and blue is
// judged on the rest, beyond it the agreement is undecided, naming the kinds.
func TestUncomparedShare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		every int // green answers every n-th request 500
		want  analysis.Verdict
	}{{1000, analysis.Agrees}, {25, analysis.Undecided}} {
		var n atomic.Int64
		green := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if n.Add(1)%int64(tc.every) == 0 {
				http.Error(w, "overloaded", http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, `{"label":"approve"}`)
		})
		o := options(routed(t, green, answers(`{"label":"approve"}`), "/score"))
		r := run(t, grid(1000), o)
		if r.Verdict != tc.want || tc.want == analysis.Undecided && !strings.Contains(r.Reason, "green answered them invalidly (40 HTTP error)") {
			t.Errorf("green fails 1 in %d: %s: %s", tc.every, r.Verdict, r.Reason)
		}
	}
}
