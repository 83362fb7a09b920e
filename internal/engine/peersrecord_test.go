package engine

import (
	"strings"
	"testing"
)

// TestPeersRecordRoundTrip: PeersCheckedAnnotation's value reads back as written; a clean check of
// every namespace is the bare key (what older versions and plan --offline write), anything else
// JSON an older mlcanary does not take for a clean record; more notes than maxRecordedNotes are
// counted and restated as a count; an edited value is no record.
func TestPeersRecordRoundTrip(t *testing.T) {
	const key = "ns/mlmodel-gateway * /score"
	many := make([]string, maxRecordedNotes+3)
	for i := range many {
		many[i] = "note"
	}
	for _, tc := range []struct {
		rec     peersCheck
		bare    bool
		restate int
	}{
		{recordPeers(key, peersAll, nil), true, 0},
		{recordPeers(key, peersNamespace, nil), false, 0},
		{recordPeers(key, peersAll, []string{"VirtualService ns/a takes x-team=a"}), false, 1},
		{recordPeers(key, peersNone, []string{"not checked"}), false, 1},
		{recordPeers(key, peersNamespace, many), false, maxRecordedNotes + 1},
	} {
		v := tc.rec.value()
		if (v == key) != tc.bare {
			t.Errorf("%+v recorded as %q", tc.rec, v)
		}
		got, ok := parsePeers(v)
		if !ok || got.Key != key || got.Scope != tc.rec.Scope || len(got.Notes) != len(tc.rec.Notes) || got.More != tc.rec.More {
			t.Errorf("%q read back as %+v, %v; want %+v", v, got, ok, tc.rec)
		}
		if r := got.restate("mlmodel-gateway"); len(r) != tc.restate || len(r) > 0 && !strings.Contains(strings.Join(r, "\n"), "last check") {
			t.Errorf("%q restated as %q", v, r)
		}
	}
	for _, v := range []string{"", "{", `{"key":"","scope":"all namespaces"}`, `{"key":"k","scope":"some"}`} {
		if r, ok := parsePeers(v); ok {
			t.Errorf("%q read as a record %+v", v, r)
		}
	}
}
