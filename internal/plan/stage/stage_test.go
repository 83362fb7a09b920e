package stage

import "testing"

// TestParse reads every kind of stage name, in any case, and refuses each kind of wrong number
// the same way (always Names): out of range, a sign, a leading zero, no number.
func TestParse(t *testing.T) {
	good := map[string]Stage{
		"Blue_0":      {Kind: KindBlue0},
		"blue_50":     {Kind: KindBlueN, BlueWeight: 50},
		"Blue_99":     {Kind: KindBlueN, BlueWeight: 99},
		"Blue_100":    {Kind: KindBlue100, BlueWeight: 100},
		"Shadow_1":    {Kind: KindShadow, Mirror: 1},
		"shadow_25":   {Kind: KindShadow, Mirror: 25},
		" SHADOW_100": {Kind: KindShadow, Mirror: 100},
		"Blue_Green":  {Kind: KindBlueGreen, BlueWeight: 100},
		"Green_100":   {Kind: KindGreen100},
		"Rollback":    {Kind: KindRollback},
	}
	for name, want := range good {
		s, _, ok := Parse(name)
		if !ok || s != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", name, s, ok, want)
		}
		if back, _, _ := Parse(s.String()); back != s {
			t.Errorf("%q: String %q does not parse back", name, s.String())
		}
	}
	for _, name := range []string{"Shadow_0", "Shadow_101", "Shadow_010", "Shadow_+5", "Shadow_-5", "Shadow_", "Shadow", "Shadow_x", "Blue_500", "Blue_050", "Green_50"} {
		if s, allowed, ok := Parse(name); ok || allowed != Names {
			t.Errorf("Parse(%q) = %+v, %q, %v; want refused with Names", name, s, allowed, ok)
		}
	}
	if g, b := (Stage{Kind: KindShadow, Mirror: 30}).Weights(); g != 100 || b != 0 {
		t.Errorf("Shadow_30 weights green=%d blue=%d, want 100/0: a mirror moves no weight", g, b)
	}
}
