package render

import (
	"testing"
	"time"
)

// TestProgressDeadlineCoversTimeout (breakit9 G6): the Deployment's progress deadline is never
// shorter than --timeout, so the Deployment controller never fails a model load that --timeout
// allows; it is the file's when longer, and left to the server's default (600 s) when neither asks
// for more.
func TestProgressDeadlineCoversTimeout(t *testing.T) {
	p := func(n int32) *int32 { return &n }
	for _, tc := range []struct {
		file    *int32
		timeout time.Duration
		want    *int32
	}{
		{nil, 10 * time.Minute, nil},
		{nil, 5 * time.Minute, nil},
		{nil, 30 * time.Minute, p(1800)},
		{nil, 10*time.Minute + 500*time.Millisecond, p(601)},
		{nil, 24 * time.Hour, p(86400)},
		{p(1800), 30 * time.Minute, p(1800)},
		{p(1800), 10 * time.Minute, p(1800)},
		{p(300), 10 * time.Minute, p(600)},
		{p(300), time.Minute, p(300)},
		{p(600), 10 * time.Minute, p(600)},
		{p(1800), 45 * time.Minute, p(2700)},
	} {
		got := progressDeadline(tc.file, tc.timeout)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("file %v, timeout %s: %v, want %v", deref(tc.file), tc.timeout, deref(got), deref(tc.want))
		}
	}
}

func deref(p *int32) any {
	if p == nil {
		return "unset"
	}
	return *p
}
