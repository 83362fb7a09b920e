package ownership

import "testing"

// TestServerHostAdmits: a Gateway server host read as Istio reads it, for a VirtualService of
// namespace ml on a Gateway of namespace gw.
func TestServerHostAdmits(t *testing.T) {
	for _, tc := range []struct {
		host, name string
		ok         bool
	}{
		{"*", "*", true}, {"model.example.com", "model.example.com", true},
		{"*/*", "*", true}, {"*/model.example.com", "model.example.com", true},
		{"ml/*", "*", true}, {"otherteam/*", "*", false},
		{"./*", "*", false},
	} {
		name, ok := serverHostAdmits(tc.host, "ml", "gw")
		if name != tc.name || ok != tc.ok {
			t.Errorf("%s: %q %v, want %q %v", tc.host, name, ok, tc.name, tc.ok)
		}
	}
	if _, ok := serverHostAdmits("./*", "ml", "ml"); !ok {
		t.Errorf("./* on a Gateway of namespace ml does not admit namespace ml")
	}
	if overlaps([]string{"model.example.com"}, []string{"otherteam/*", "ml/other.example.com"}, "ml", "ml") {
		t.Errorf("otherteam/* and ml/other.example.com serve model.example.com of namespace ml")
	}
	if !overlaps([]string{"model.example.com"}, []string{"otherteam/*", "ml/*.example.com"}, "ml", "ml") {
		t.Errorf("ml/*.example.com does not serve model.example.com of namespace ml")
	}
}
