package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const (
	svc     = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: ns\n"
	svcJSON = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"ns"}}`
	vs      = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs\nspec:\n  http:\n  - route:\n    - weight: 100\n"
	vsJSON  = `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"vs"},"spec":{"http":[{"route":[{"weight":100}]}]}}`
)

func TestWrite(t *testing.T) {
	bodies := []json.RawMessage{json.RawMessage(svcJSON), json.RawMessage(vsJSON)}
	var y bytes.Buffer
	if err := Write(&y, bodies, "yaml"); err != nil {
		t.Fatal(err)
	}
	if want := svc + "---\n" + vs; y.String() != want {
		t.Errorf("yaml:\n%s\nwant:\n%s", y.String(), want)
	}
	var j bytes.Buffer
	if err := Write(&j, bodies, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(j.String(), "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {\n      \"apiVersion\": \"v1\",") || !strings.HasSuffix(j.String(), "}\n") {
		t.Errorf("json is not kubectl's List layout:\n%s", j.String())
	}
	for format, out := range map[string]string{"yaml": y.String(), "json": j.String()} {
		objs, err := Parse(out)
		if err != nil || len(objs) != 2 || objs[1]["kind"] != "VirtualService" {
			t.Errorf("Parse(Write(%s)) = %v, %v", format, objs, err)
		}
	}
	for format, want := range map[string]string{"yaml": "", "json": "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": []\n}\n"} {
		var b bytes.Buffer
		if err := Write(&b, nil, format); err != nil || b.String() != want {
			t.Errorf("Write(nil, %s) = %q, %v; want %q", format, b.String(), err, want)
		}
	}
	if err := Write(&j, bodies, "text"); err == nil {
		t.Error("Write(text) succeeded")
	}
	for _, bad := range []string{`[1]`, `"s"`, `{`, `null`} {
		if err := Write(&j, []json.RawMessage{json.RawMessage(bad)}, "yaml"); err == nil {
			t.Errorf("Write(yaml) of %s succeeded", bad)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"empty", "", 0},
		{"only separators", "---\n---\n", 0},
		{"one", svc, 1},
		{"leading separator and comments", "---\n# c\n" + svc + "---\n", 1},
		{"two", svc + "---\n" + vs, 2},
		{"a List is its items", `{"apiVersion":"v1","kind":"List","items":[` + svcJSON + "," + vsJSON + "]}\n---\n" + svc, 3},
		{"JSON document", svcJSON, 1},
	} {
		objs, err := Parse(tc.in)
		if err != nil || len(objs) != tc.want {
			t.Errorf("%s: Parse = %d objects, %v; want %d", tc.name, len(objs), err, tc.want)
		}
	}
	for name, in := range map[string]string{
		"no kind":    "apiVersion: v1\nmetadata:\n  name: s\n",
		"no name":    "apiVersion: v1\nkind: Service\n",
		"not a map":  "- a\n- b\n",
		"bad YAML":   "apiVersion: v1\nkind: [\n",
		"second bad": svc + "---\nkind: Service\n",
		"List item":  `{"apiVersion":"v1","kind":"List","items":[1]}`,
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "reading object") {
			t.Errorf("%s: Parse error = %v", name, err)
		}
	}
}

// TestWriteLeavesOutServerFields: every field the server populates (ServerFields) is absent from
// both formats, whichever object holds it, and the client's fields around it are kept; a body with
// none is written as it is.
func TestWriteLeavesOutServerFields(t *testing.T) {
	live := `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"vs","namespace":"ns",` +
		`"annotations":{"a":"b"},"labels":{"l":"v"},%s},"spec":{"hosts":["*"]}%s}`
	for _, tc := range []struct{ name, meta, top string }{
		{"uid", `"uid":"0b5e7a2c-1f1e-4a5e-9a0e-2f7b2c1d3e4f"`, ""},
		{"resourceVersion", `"resourceVersion":"1234"`, ""},
		{"generation", `"generation":3`, ""},
		{"creationTimestamp", `"creationTimestamp":"2026-11-29T15:00:00Z"`, ""},
		{"creationTimestamp null", `"creationTimestamp":null`, ""},
		{"deletionTimestamp", `"deletionTimestamp":"2026-11-29T15:00:00Z","deletionGracePeriodSeconds":30`, ""},
		{"selfLink", `"selfLink":"/apis/networking.istio.io/v1/namespaces/ns/virtualservices/vs"`, ""},
		{"managedFields", `"managedFields":[{"manager":"mlcanary","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":{}}]`, ""},
		{"status", `"uid":"u"`, `,"status":{"conditions":[{"type":"Reconciled","status":"True"}]}`},
		{"all at once", `"uid":"u","resourceVersion":"1","generation":1,"creationTimestamp":null,"managedFields":[]`, `,"status":{}`},
	} {
		for _, format := range []string{"yaml", "json"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				var b bytes.Buffer
				body := json.RawMessage(fmt.Sprintf(live, tc.meta, tc.top))
				if err := Write(&b, []json.RawMessage{body}, format); err != nil {
					t.Fatal(err)
				}
				for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
					"deletionGracePeriodSeconds", "selfLink", "managedFields", "status"} {
					if strings.Contains(b.String(), f) {
						t.Errorf("%s written:\n%s", f, b.String())
					}
				}
				objs, err := Parse(b.String())
				if err != nil || len(objs) != 1 {
					t.Fatalf("Parse: %v, %v", objs, err)
				}
				meta := objs[0]["metadata"].(map[string]any)
				if meta["name"] != "vs" || meta["namespace"] != "ns" || meta["annotations"] == nil || meta["labels"] == nil || objs[0]["spec"] == nil {
					t.Errorf("a client field lost:\n%s", b.String())
				}
			})
		}
	}
	var b bytes.Buffer
	if err := Write(&b, []json.RawMessage{json.RawMessage(vsJSON)}, "json"); err != nil || !strings.Contains(b.String(), `"spec": {`) {
		t.Errorf("a body without server fields: %v\n%s", err, b.String())
	}
}
