package loadtest

import (
	"math"
	"testing"
)

func TestZ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		confidence float64
		tests      int
		want       float64
	}{
		{0.95, 1, 1.959964},
		{0.99, 1, 2.575829},
		{0.90, 1, 1.644854},
		{0.95, 2, 2.241403}, // Bonferroni: alpha 0.025 two-sided
		{0.99, 2, 2.807034},
	}
	for _, tc := range tests {
		if got := Z(tc.confidence, tc.tests); math.Abs(got-tc.want) > 5e-6 {
			t.Errorf("Z(%g, %d) = %.6f, want %.6f", tc.confidence, tc.tests, got, tc.want)
		}
	}
}

// TestWilson checks the interval against published values: Newcombe (1998), "Two-sided confidence
// intervals for the single proportion", Statistics in Medicine 17:857–872, Table II, method 3
// (Wilson score without continuity correction), 95% confidence; and two cases computed by hand.
func TestWilson(t *testing.T) {
	t.Parallel()
	z95 := Z(0.95, 1)
	tests := []struct {
		k, n int
		want Interval
	}{
		{81, 263, Interval{0.2553, 0.3662}},
		{15, 148, Interval{0.0624, 0.1605}},
		{0, 20, Interval{0, 0.1611}},
		{1, 29, Interval{0.0061, 0.1718}},
		{50, 100, Interval{0.4038, 0.5962}}, // center 0.5, half 1.96·sqrt(25.9604)/103.8415
		{10, 10, Interval{0.7225, 1}},       // low n/(n+z²) = 10/13.8415
	}
	for _, tc := range tests {
		got := Wilson(tc.k, tc.n, z95)
		if math.Abs(got.Low-tc.want.Low) > 5e-5 || math.Abs(got.High-tc.want.High) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]",
				tc.k, tc.n, got.Low, got.High, tc.want.Low, tc.want.High)
		}
	}
	if got := Wilson(0, 0, z95); got != (Interval{0, 1}) {
		t.Errorf("Wilson(0, 0) = %v, want the whole [0, 1]", got)
	}
}

func TestSampleSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		expected   []float64
		confidence float64
		tolerance  float64
		want       int
	}{
		// z = 2.807034, z² = 7.879442; 7.879442·0.25/0.025² = 3151.8
		{"50/50 at 99%, ±5 points", []float64{0.5, 0.5}, 0.99, 0.05, 3152},
		// 7.879442·0.09/0.025² = 1134.6
		{"90/10 at 99%, ±5 points", []float64{0.9, 0.1}, 0.99, 0.05, 1135},
		// z = 2.575829, z² = 6.634896; floor 2·z²/tol = 265.4
		{"one answer at 99%", []float64{1}, 0.99, 0.05, 266},
		// z = 1.959964; 3.841459·0.25/0.05² = 384.1
		{"one 50% share at 95%, ±10 points", []float64{0.5}, 0.95, 0.10, 385},
	}
	for _, tc := range tests {
		if got := SampleSize(tc.expected, tc.confidence, tc.tolerance); got != tc.want {
			t.Errorf("%s: SampleSize = %d, want %d", tc.name, got, tc.want)
		}
	}
}
