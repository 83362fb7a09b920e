package manifest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// writeSchemas writes kubeconform's strict JSON schemas for every kind the API server serves in
// groupVersions (its OpenAPI v3 paths, e.g. "api/v1", "apis/apps/v1",
// "apis/networking.istio.io/v1") into dir, named as kubeconform's local template
// dir/{{ .ResourceKind }}{{ .KindSuffix }}.json looks them up (deployment-apps-v1.json,
// service-v1.json, virtualservice-networking-v1.json). It is what kubeconform's
// openapi2jsonschema.py does to a published schema, done to the API server's own: every object
// with properties gets additionalProperties: false (unless it preserves unknown fields), and the
// int-or-string format becomes oneOf string/integer; nullable: true admits null. References stay
// references, into the same document's $defs. It returns how many schemas it wrote.
func writeSchemas(rc *rest.Config, dir string, groupVersions ...string) (int, error) {
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return 0, err
	}
	var index struct {
		Paths map[string]struct {
			URL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	host := strings.TrimSuffix(rc.Host, "/")
	// A CRD's OpenAPI is published by the API server's aggregator some time after the CRD is
	// established, so the index is read again until it lists every group version, for up to a minute.
	var missing string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if err := getJSON(hc, host+"/openapi/v3", &index); err != nil {
			return 0, err
		}
		missing = ""
		for _, gv := range groupVersions {
			if _, ok := index.Paths[gv]; !ok {
				missing = gv
			}
		}
		if missing == "" || time.Now().After(deadline) {
			break
		}
	}
	if missing != "" {
		return 0, fmt.Errorf("the API server serves no OpenAPI v3 for %s after a minute", missing)
	}
	n := 0
	for _, gv := range groupVersions {
		p := index.Paths[gv]
		var doc struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := getJSON(hc, host+p.URL, &doc); err != nil {
			return n, err
		}
		defs := map[string]any{}
		for name, s := range doc.Components.Schemas {
			defs[name] = strict(s)
		}
		group, version := "", strings.TrimPrefix(gv, "api/")
		if rest, ok := strings.CutPrefix(gv, "apis/"); ok {
			group, version, _ = strings.Cut(rest, "/")
		}
		for _, s := range doc.Components.Schemas {
			gvks, _ := s.(map[string]any)["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				gvk := g.(map[string]any)
				if gvk["group"] != group || gvk["version"] != version {
					continue
				}
				root := strict(s).(map[string]any)
				root["$defs"] = defs
				data, err := json.Marshal(root)
				if err != nil {
					return n, err
				}
				if err := os.WriteFile(filepath.Join(dir, fileName(gvk)), data, 0o644); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// fileName is kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json for gvk: the kind and the
// group's first label, lower case (service-v1, deployment-apps-v1, gateway-networking-v1).
func fileName(gvk map[string]any) string {
	group, version, kind := gvk["group"].(string), gvk["version"].(string), gvk["kind"].(string)
	suffix := "-" + version
	if group != "" {
		suffix = "-" + strings.Split(group, ".")[0] + "-" + version
	}
	return strings.ToLower(kind+suffix) + ".json"
}

// strict returns a copy of the OpenAPI schema s as a strict JSON schema (see writeSchemas).
func strict(s any) any {
	switch v := s.(type) {
	case map[string]any:
		if v["format"] == "int-or-string" {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		}
		out := map[string]any{}
		for k, x := range v {
			if k == "$ref" {
				x = strings.Replace(x.(string), "#/components/schemas/", "#/$defs/", 1)
			}
			out[k] = strict(x)
		}
		if _, ok := v["properties"]; ok && v["x-kubernetes-preserve-unknown-fields"] != true {
			if _, set := v["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		if t, ok := v["type"].(string); ok && v["nullable"] == true {
			out["type"] = []any{t, "null"}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = strict(x)
		}
		return out
	}
	return s
}

func getJSON(hc *http.Client, url string, into any) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return json.Unmarshal(body, into)
}
