package secret

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestString holds each rule of Object for one string value: what is a credential and is
// redacted, and what is not and stays as it is.
func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// --k=v, -k=v and K=V with a secret-looking key
		{"--upstream-token=s3cr3t", "--upstream-token=(redacted)"},
		{"--client-secret=s3cr3t", "--client-secret=(redacted)"},
		{"--password=hunter2", "--password=(redacted)"},
		{"-passwd=hunter2", "-passwd=(redacted)"},
		{"--api-key=abc", "--api-key=(redacted)"},
		{"--apiKey=abc", "--apiKey=(redacted)"},
		{"UPSTREAM_TOKEN=abc", "UPSTREAM_TOKEN=(redacted)"},
		{"AZURE_CLIENT_CREDENTIALS=abc", "AZURE_CLIENT_CREDENTIALS=(redacted)"},
		{"--sas=sv=2022&sig=abc", "--sas=(redacted)"},
		{"--authorization=Bearer x", "--authorization=(redacted)"},
		{"--connectionString=Endpoint=sb://x/", "--connectionString=(redacted)"},
		// connection strings: the whole value
		{"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc==;EndpointSuffix=core.windows.net", Redacted},
		{"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=abc", Redacted},
		// authorization schemes
		{"Bearer eyJhbGciOi", "Bearer (redacted)"},
		{"basic YWxpY2U6cHc=", "basic (redacted)"},
		// URLs: userinfo password, secret-looking query parameters
		{"https://alice:pw@example.com/score", "https://alice:xxxxx@example.com/score"},
		{"https://acct.blob.core.windows.net/models/m.pkl?sv=2022-11-02&sig=abc%3D", "https://acct.blob.core.windows.net/models/m.pkl?sig=xxxxx&sv=2022-11-02"},
		{"https://fn.azurewebsites.net/api/score?code=abc", "https://fn.azurewebsites.net/api/score?code=xxxxx"},
		{"/score?token=abc", "/score?token=xxxxx"},
		// not credentials
		{"--port=5001", "--port=5001"},
		{"--model-path=/models/m", "--model-path=/models/m"},
		{"--monkey=1", "--monkey=1"},
		{"app=model", "app=model"},
		{"acr.io/model:42", "acr.io/model:42"},
		{"https://example.com/score?x=1", "https://example.com/score?x=1"},
		{"model-svc-green", "model-svc-green"},
		{"--token", "--token"},
		{"", ""},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestObject: the rules of Object in the places of live objects where credentials are put.
func TestObject(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"env values, whatever the name; valueFrom stays",
			`{"spec":{"template":{"spec":{"containers":[{"name":"m","env":[{"name":"MODE","value":"fast"},{"name":"K","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]}]}}}}`,
			`{"spec":{"template":{"spec":{"containers":[{"name":"m","env":[{"name":"MODE","value":"(redacted)"},{"name":"K","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]}]}}}}`},
		{"args: --k=v and --k v forms, other args kept",
			`{"args":["--upstream-token=t1","--password","t2","--port","5001","--secret","--verbose"]}`,
			`{"args":["--upstream-token=(redacted)","--password","(redacted)","--port","5001","--secret","--verbose"]}`},
		{"command with a URL holding a password",
			`{"command":["python","serve.py","--store","https://u:pw@store/x"]}`,
			`{"command":["python","serve.py","--store","https://u:xxxxx@store/x"]}`},
		{"VirtualService header operations",
			`{"headers":{"request":{"set":{"Authorization":"Bearer t","x-api-version":"green"},"add":{"x-api-key":"k","Cookie":"c=1"},"remove":["Authorization"]}}}`,
			`{"headers":{"request":{"set":{"Authorization":"(redacted)","x-api-version":"green"},"add":{"x-api-key":"(redacted)","Cookie":"(redacted)"},"remove":["Authorization"]}}}`},
		{"header match on a credential",
			`{"match":[{"headers":{"authorization":{"exact":"Bearer t"},"x-api-version":{"exact":"blue"}}}]}`,
			`{"match":[{"headers":{"authorization":{"exact":"(redacted)"},"x-api-version":{"exact":"blue"}}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in, want map[string]any
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(in)
			if d := cmp.Diff(want, Object(in)); d != "" {
				t.Errorf("Object (-want +got):\n%s", d)
			}
			if after, _ := json.Marshal(in); string(after) != string(before) {
				t.Errorf("Object changed its input")
			}
		})
	}
}
