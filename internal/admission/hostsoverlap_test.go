package admission

import "testing"

// TestHostsOverlap: Istio's duplicate-hosts rule, both ways round.
func TestHostsOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"*", "a.example.com", true},
		{"*", "*.example.com", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "*.b.example.com", true},
		{"*.example.com", "example.com", false}, // "*." needs a label before the suffix
		{"*.example.com", "a.example.org", false},
		{"*.example.com", "*.example.org", false},
		{"a.example.com", "a.example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.ample.com", "a.example.com", false}, // a suffix of labels, not of characters
	} {
		if got := HostsOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("HostsOverlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := HostsOverlap(tc.b, tc.a); got != tc.want {
			t.Errorf("HostsOverlap(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}
