// Package summary describes what a run did or would do (Result) and renders it for people and
// machines: Markdown for the Azure DevOps and GitHub run summaries, text for a terminal, JSON and
// YAML for scripts. Renderers are pure: they return strings and never decide where output goes.
package summary

import (
	"encoding/json"
	"time"
)

// Result is the outcome of one stage, plan or status call, as front ends report it.
type Result struct {
	// Action is "stage", "plan" or "status".
	Action string `json:"action"`
	// Stage is the stage performed or planned; for status, the stage the live routes and
	// Deployments are in (the recorded name when the record agrees).
	Stage string `json:"stage"`
	// RecordedStage is, for status, the stage mlcanary recorded on the VirtualService ("" when
	// none); it differs from Stage when someone changed the routes since.
	RecordedStage string `json:"recordedStage,omitempty"`
	// Drift is, for status, one sentence "drifted from the recorded <stage>: …" when the live state
	// disagrees with the record, else "".
	Drift string `json:"drift,omitempty"`
	// Namespace holds the objects.
	Namespace string `json:"namespace"`
	// Weights are the default route's percentages after the run.
	Weights Weights `json:"weights"`
	// Mirror is the percentage (1..100) of the default route's requests also sent to blue, whose
	// answers are discarded (Shadow_N); 0 when nothing is mirrored.
	Mirror int `json:"mirror,omitempty"`
	// Images are the images each version runs ("" when the version does not exist).
	Images Images `json:"images"`
	// Ready says whether each version's Deployment is rolled out and available.
	Ready Ready `json:"ready"`
	// Routes are the header routes that reach one version directly.
	Routes []HeaderRoute `json:"routes"`
	// Changes lists what this run changed (or, for plan and dry-run, would change), in order.
	Changes []string `json:"changes"`
	// Changed is true when anything was (or would be) written.
	Changed bool `json:"changed"`
	// DryRun is true when nothing was persisted.
	DryRun bool `json:"dryRun"`
	// Notes are facts a reader needs, e.g. that a first release has no green yet.
	Notes []string `json:"notes,omitempty"`
	// Warnings are problems the stage did not refuse but a reader should fix, one sentence each,
	// e.g. that the namespace has no Istio sidecar-injection label.
	Warnings []string `json:"warnings,omitempty"`
	// ChangedBy and ChangedAt are the last recorded traffic change (pipeline run URL or "local").
	ChangedBy string    `json:"changedBy,omitempty"`
	ChangedAt time.Time `json:"changedAt,omitzero"`
	// Lock is, for status, the namespace's lock while a run holds it (nil when it is free).
	Lock *Lock `json:"lock,omitempty"`
	// Diff is the live-vs-desired diff of a plan against a cluster (unified diff of YAML).
	Diff string `json:"diff,omitempty"`
	// Objects is, for an offline plan, Manifests as a YAML stream (documents separated by "---\n").
	Objects string `json:"objects,omitempty"`
	// Manifests are, for a plan, the objects the stage applies, complete, as JSON in the order
	// first applied (a VirtualService routed on the way and at the end counts once: its last
	// write). Offline: the last body the stage sends for each, byte for byte (every object of the
	// assumed state is mlcanary's, so the body is the whole object; no metadata.resourceVersion,
	// the live object's lock, unknown offline). Against a cluster: what the last server-side dry
	// run of each answered it would store — the live object merged with the body, fields of other
	// managers included, with the server's bookkeeping (manifest.Write leaves it out). Deletes are
	// in Changes only.
	Manifests []json.RawMessage `json:"-"`
}

// Lock is the namespace's lock (a coordination.k8s.io/v1 Lease) and the run that holds it.
type Lock struct {
	// Lease is namespace/name of the Lease.
	Lease string `json:"lease"`
	// Holder is the run holding it: a pipeline run's URL, or user@host.
	Holder string `json:"holder"`
	// Stage is the stage it performs ("" when another tool holds the Lease).
	Stage string `json:"stage,omitempty"`
	// Since is when it took the lock; RenewedAt when it last renewed it (the holder's clock); both
	// absent for a Lease written by hand without acquireTime or renewTime.
	Since     time.Time `json:"since,omitzero"`
	RenewedAt time.Time `json:"renewedAt,omitzero"`
	// Expired says its holder stopped renewing it (a killed run): the next stage takes it over.
	Expired bool `json:"expired,omitempty"`
}

// Sentence is the lock in one line: "Lease abtesting/mlcanary is held by … for stage Blue_0 since
// 2026-11-29T16:40:02Z (last renewed …)".
func (l *Lock) Sentence() string {
	s := "Lease " + l.Lease + " is held by " + l.Holder
	if l.Stage != "" {
		s += " for stage " + l.Stage
	}
	if l.Since.IsZero() || l.RenewedAt.IsZero() {
		s += " (a Lease without acquire or renew time: taken over only by a run that waits and sees it unchanged for its duration)"
	} else {
		s += " since " + l.Since.UTC().Format(time.RFC3339) + " (last renewed " + l.RenewedAt.UTC().Format(time.RFC3339) + ")"
	}
	if l.Expired {
		s += "; its holder stopped renewing it, so the next stage takes it over"
	}
	return s
}

// Weights are the default route's traffic percentages.
type Weights struct {
	Green int `json:"green"`
	Blue  int `json:"blue"`
}

// Images are the images each version runs.
type Images struct {
	Green string `json:"green"`
	Blue  string `json:"blue"`
}

// Ready records each version's readiness.
type Ready struct {
	Green bool `json:"green"`
	Blue  bool `json:"blue"`
}

// HeaderRoute is a route that sends requests carrying Header: Value to one version.
type HeaderRoute struct {
	Version string `json:"version"`
	Header  string `json:"header"`
	Value   string `json:"value"`
	// Path is the URI prefix the route matches, e.g. /score.
	Path string `json:"path"`
}
