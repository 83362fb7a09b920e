// Package azdotest is a local HTTPS server for tests that speaks the Azure DevOps REST endpoints
// azure-devops-go-api calls to tag a build: location discovery (OPTIONS /_apis), resource areas and
// PUT {project}/_apis/build/builds/{buildId}/tags/{tag}. It requires the job's bearer token, as
// Azure DevOps does, and records the tags it was given.
package azdotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Location ids from azure-devops-go-api v7 (build.ResourceAreaId and the tags location; the
// location service's ResourceAreas).
const (
	buildArea         = "965220d5-5bb9-42cf-8d67-9b146df2a5a4"
	tagsLocation      = "6e6114b2-8161-44c8-8f6c-c5505782427f"
	areasLocation     = "e81700f7-3be2-46de-8624-2eb35882fcaa"
	tagsRouteTemplate = "{project}/_apis/{area}/builds/{buildId}/{resource}/{*tag}"
)

// Server is the fake organization. Set Token, Project and BuildID before use; set Fail to make tag
// requests fail with that status.
type Server struct {
	*httptest.Server
	Token, Project string
	BuildID        string
	Fail           int

	mu   sync.Mutex
	tags []string
}

// Start starts the server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB) *Server {
	s := &Server{Token: "job-access-token-xyz", Project: "0d7f4d6e-4c43-4e6b-9f3e-6d1d0c2a9b11", BuildID: "321"}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Tags returns the tags added so far, in order.
func (s *Server) Tags() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tags...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "TF400813: The user is not authorized to access this resource.", "typeKey": "UnauthorizedRequestException"})
		return
	}
	switch {
	case r.Method == http.MethodOptions && r.URL.Path == "/_apis":
		writeJSON(w, http.StatusOK, collection(s.locations()))
	case r.Method == http.MethodGet && r.URL.Path == "/_apis/ResourceAreas":
		writeJSON(w, http.StatusOK, collection([]any{map[string]any{"id": buildArea, "name": "build", "locationUrl": s.URL + "/"}}))
	case r.Method == http.MethodPut:
		s.tag(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) locations() []any {
	loc := func(id, area, resource, route string) map[string]any {
		return map[string]any{"id": id, "area": area, "resourceName": resource, "routeTemplate": route,
			"resourceVersion": 3, "minVersion": "2.0", "maxVersion": "7.1", "releasedVersion": "7.0"}
	}
	return []any{loc(areasLocation, "Location", "ResourceAreas", "_apis/{resource}/{areaId}"), loc(tagsLocation, "build", "tags", tagsRouteTemplate)}
}

func (s *Server) tag(w http.ResponseWriter, r *http.Request) {
	prefix := "/" + s.Project + "/_apis/build/builds/" + s.BuildID + "/tags/"
	raw, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	tag, err := url.PathUnescape(raw)
	switch {
	case !ok || err != nil || tag == "":
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "TF200016: build or project not found", "typeKey": "BuildNotFoundException"})
	case !strings.HasPrefix(apiVersion(r), "7."):
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "api-version is required"})
	case s.Fail != 0:
		writeJSON(w, s.Fail, map[string]any{"message": "VS403403: tagging is not allowed", "typeKey": "AccessDeniedException"})
	default:
		s.mu.Lock()
		s.tags = append(s.tags, tag)
		all := append([]string(nil), s.tags...)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, collection(toAny(all)))
	}
}

// apiVersion is the requested version, from the query or, as azure-devops-go-api sends it, the
// Accept header ("application/json;api-version=7.1-preview.3").
func apiVersion(r *http.Request) string {
	if v := r.URL.Query().Get("api-version"); v != "" {
		return v
	}
	_, v, _ := strings.Cut(r.Header.Get("Accept"), "api-version=")
	return v
}

func collection(v []any) map[string]any { return map[string]any{"count": len(v), "value": v} }

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Command is one logging command as the agent parses it (agent Command.TryParse and
// CommandStringConvertor.Unescape with DECODE_PERCENTS on).
type Command struct {
	Name  string
	Props map[string]string
	Data  string
}

var vsoLine = regexp.MustCompile(`##vso\[([^ \]]+)(?: ([^\]]*))?\](.*)$`)

func unescape(s string) string {
	return strings.NewReplacer("%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]", "%AZP25", "%").Replace(s)
}

// ParseCommands reads task output the way the agent does: each line holding "##vso[" is one
// command. A line the agent could not parse is an error.
func ParseCommands(out string) ([]Command, error) {
	var cmds []Command
	for _, line := range strings.Split(out, "\n") {
		i := strings.Index(line, "##vso[")
		if i < 0 {
			continue
		}
		m := vsoLine.FindStringSubmatch(line[i:])
		if m == nil {
			return cmds, fmt.Errorf("malformed command line %q", line)
		}
		c := Command{Name: m[1], Props: map[string]string{}, Data: unescape(m[3])}
		for _, kv := range strings.Split(m[2], ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				c.Props[k] = unescape(v)
			}
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}
