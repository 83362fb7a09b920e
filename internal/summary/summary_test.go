package summary

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mlcanary/mlcanary/internal/golden"
)

var at = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var cases = map[string]*Result{
	"blue50": {
		Action: "stage", Stage: "Blue_50", Namespace: "abtesting",
		Weights: Weights{Green: 50, Blue: 50}, Images: Images{Green: "acr.io/model:41", Blue: "acr.io/model:42"},
		Ready: Ready{Green: true, Blue: true},
		Routes: []HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"},
			{Version: "green", Header: "x-api-version", Value: "green", Path: "/score"}},
		Changes:   []string{"VirtualService abtesting/mlmodel-virtualservice updated (green 100% → 50%, blue 0% → 50%; header routes: blue, green)"},
		Changed:   true,
		ChangedBy: "https://dev.azure.com/org/proj/_build/results?buildId=7", ChangedAt: at,
	},
	"status-first-release": {
		Action: "status", Stage: "Blue_0", Namespace: "abtesting",
		Images: Images{Blue: "acr.io/model:1"}, Ready: Ready{Blue: false},
		Routes: []HeaderRoute{{Version: "blue", Header: "x-api-version", Value: "blue", Path: "/score"}},
		Notes:  []string{"first release: there is no green yet, so there is no default route"},
	},
	"sidecar-warning": {Action: "stage", Stage: "Blue_0", Namespace: "abtesting", Weights: Weights{Green: 100},
		Images: Images{Green: "acr.io/model:41", Blue: "acr.io/model:42"}, Ready: Ready{Green: true, Blue: true},
		Changes:  []string{"Deployment abtesting/model-blue created (image acr.io/model:42)"},
		Changed:  true,
		Warnings: []string{"namespace abtesting is labelled istio-injection=enabled, which AKS's Istio add-on ignores: its pods get no Istio sidecar; label it istio.io/rev=asm-1-28 instead (kubectl label namespace abtesting istio-injection- istio.io/rev=asm-1-28)"}},
	"rerun": {Action: "stage", Stage: "Green_100", Namespace: "abtesting", Weights: Weights{Green: 100},
		Images: Images{Green: "acr.io/model:42"}, Ready: Ready{Green: true}, ChangedBy: "local", ChangedAt: at},
	// Text from the cluster must not break the table, inject HTML or form a logging command.
	"hostile": {Action: "status", Stage: "Blue_0", Namespace: "abtesting", Weights: Weights{Green: 100},
		Images:  Images{Green: "evil.io/a|b`c:1", Blue: "x.io/<script>:1"},
		Changes: []string{"##vso[task.setvariable variable=x]1 <b>bold</b> | pipe"}},
}

func TestMarkdownGolden(t *testing.T) {
	for name, r := range cases {
		t.Run(name, func(t *testing.T) { golden.Assert(t, name+".md.golden", Markdown(r)) })
	}
}

func TestTextGolden(t *testing.T) {
	golden.Assert(t, "blue50.txt.golden", Text(cases["blue50"]))
	golden.Assert(t, "sidecar-warning.txt.golden", Text(cases["sidecar-warning"]))
}

func TestHostileTextIsInert(t *testing.T) {
	md := Markdown(cases["hostile"])
	for _, bad := range []string{"<b>", "a|b", "`c", "##vso["} {
		if strings.Contains(md, bad) {
			t.Errorf("Markdown contains %q:\n%s", bad, md)
		}
	}
	// Inside a code span HTML is literal text (CommonMark 6.1), so the image is shown as it is.
	if strings.Count(md, "<script>") != 1 || !strings.Contains(md, "`x.io/<script>:1`") {
		t.Errorf("image outside a code span:\n%s", md)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " | ")-strings.Count(line, `\| `) != 4 {
			t.Errorf("table row has the wrong number of cells: %s", line)
		}
	}
}

func TestBar(t *testing.T) {
	for w, want := range map[int]int{0: 0, 2: 0, 3: 1, 50: 10, 97: 19, 100: 20, 150: 20, -5: 0} {
		if got := strings.Count(Bar(w), "█"); got != want || len([]rune(Bar(w))) != barWidth {
			t.Errorf("Bar(%d) = %q: %d filled, want %d", w, Bar(w), got, want)
		}
	}
}

func TestRenderFormats(t *testing.T) {
	for _, f := range []string{"text", "json", "yaml", "markdown"} {
		out, err := Render(cases["blue50"], f)
		if err != nil || !strings.Contains(out, "50") {
			t.Errorf("Render(%s) = %q, %v", f, out, err)
		}
	}
	if _, err := Render(cases["blue50"], "xml"); err == nil {
		t.Error("Render(xml) succeeded")
	}
	js, _ := Render(cases["blue50"], "json")
	for _, key := range []string{`"stage": "Blue_50"`, `"green": 50`, `"blue": "acr.io/model:42"`} {
		if !strings.Contains(js, key) {
			t.Errorf("json lacks %s:\n%s", key, js)
		}
	}
}

// TestHandMadeLockIsDescribedHonestly: a lock held through a Lease written by hand (no acquireTime
// nor renewTime, #12 break-it K5) is shown without a zero time, in the sentence and in JSON.
func TestHandMadeLockIsDescribedHonestly(t *testing.T) {
	l := &Lock{Lease: "abtesting/mlcanary", Holder: "incident-4711 freeze (alice)"}
	want := "Lease abtesting/mlcanary is held by incident-4711 freeze (alice) (a Lease without acquire or renew time: taken over only by a run that waits and sees it unchanged for its duration)"
	if got := l.Sentence(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	data, err := json.Marshal(l)
	if err != nil || strings.Contains(string(data), "0001") || strings.Contains(string(data), "since") {
		t.Errorf("JSON %s, %v", data, err)
	}
}
