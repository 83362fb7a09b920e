package engine

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The namespaces a check of the other VirtualServices on the Gateway looked at (peersCheck.Scope).
const (
	// peersAll: every namespace (credentials that may list VirtualServices cluster-wide).
	peersAll = "all namespaces"
	// peersNamespace: the release's namespace only (the README's namespace-scoped Role).
	peersNamespace = "this namespace"
	// peersNone: none; the credentials may not list VirtualServices (the check's note says so).
	peersNone = "none"
)

// maxRecordedNotes bounds the notes a record keeps (a note is a few hundred bytes; annotations
// share 256 KiB per object): the rest are counted (More) and restated as a count.
const maxRecordedNotes = 8

// peersCheck is what PeersCheckedAnnotation records of the last check of the other VirtualServices
// on mlcanary's Gateway (gatewayPeers): its key (peersKey), the namespaces it looked at (Scope)
// and what it noted (Notes, verbatim, at most maxRecordedNotes; More counts the rest). A check
// that refused the stage is never recorded, nor one that failed, nor Rollback's note of what would
// refuse another stage: the next stage checks again.
//
// Its annotation value is the bare key for a check of every namespace that noted nothing — what
// mlcanary wrote before it recorded scopes and notes, and what plan --offline writes — and
// otherwise JSON, {"key":…,"scope":…,"notes":[…],"more":N}, which an older mlcanary does not read
// as a record (it checks again).
type peersCheck struct {
	Key   string   `json:"key"`
	Scope string   `json:"scope"`
	Notes []string `json:"notes,omitempty"`
	More  int      `json:"more,omitempty"`
}

// recordPeers is the record of a check with key that looked at scope and noted notes.
func recordPeers(key, scope string, notes []string) peersCheck {
	r := peersCheck{Key: key, Scope: scope, Notes: notes}
	if len(notes) > maxRecordedNotes {
		r.Notes, r.More = notes[:maxRecordedNotes:maxRecordedNotes], len(notes)-maxRecordedNotes
	}
	return r
}

// value is r as PeersCheckedAnnotation's value.
func (r peersCheck) value() string {
	if r.Scope == peersAll && len(r.Notes) == 0 && r.More == 0 {
		return r.Key
	}
	b, err := json.Marshal(r)
	if err != nil { // strings and an int: cannot happen
		return ""
	}
	return string(b)
}

// parsePeers reads PeersCheckedAnnotation's value v; false when it holds no record mlcanary
// wrote (empty, or edited into something else).
func parsePeers(v string) (peersCheck, bool) {
	if v == "" {
		return peersCheck{}, false
	}
	if !strings.HasPrefix(v, "{") {
		return peersCheck{Key: v, Scope: peersAll}, true
	}
	var r peersCheck
	if err := json.Unmarshal([]byte(v), &r); err != nil || r.Key == "" || r.More < 0 {
		return peersCheck{}, false
	}
	switch r.Scope {
	case peersAll, peersNamespace, peersNone:
		return r, true
	}
	return peersCheck{}, false
}

// restate is what a stage that does not check again (it only moves weights) says of record r:
// each recorded note again, saying where it comes from, so every stage's output tells what the
// check found, not only the stage that checked; nothing for a clean record.
func (r peersCheck) restate(gateway string) []string {
	from := fmt.Sprintf(" (recorded by the last check of the other VirtualServices on Gateway %s; a weight change cannot change it, so this stage did not list them again)", gateway)
	out := make([]string, 0, len(r.Notes)+1)
	for _, n := range r.Notes {
		out = append(out, n+from)
	}
	if r.More > 0 {
		out = append(out, fmt.Sprintf("%d more notes of the last check of the other VirtualServices on Gateway %s, not repeated here: the stage that checked printed them", r.More, gateway))
	}
	return out
}
