package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/mlcanary/mlcanary/internal/lazyregexp"
)

// splitDocuments returns the stream's documents as JSON, skipping empty ones and expanding a
// List's items. A YAML document that is JSON objects one after another (what `jq -c` writes) is
// each of them: YAML would read only the first and drop the rest unseen.
func splitDocuments(source string, data []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, templateError(source, "cannot be split into YAML documents: "+fileError(err))
		}
		objs, ok := jsonObjects(doc)
		if !ok {
			js, err := yaml.YAMLToJSONStrict(doc)
			if err != nil {
				return nil, templateError(source, fmt.Sprintf("is not valid YAML or JSON (document %d: %s)", n, fileError(errors.New(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")))))
			}
			objs = []json.RawMessage{js}
		}
		for _, js := range objs {
			if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
				continue
			}
			var d document
			if json.Unmarshal(js, &d) == nil && d.Kind == "List" {
				out = append(out, d.Items...)
				continue
			}
			out = append(out, js)
		}
	}
}

// jsonObjects reads doc as one or more JSON values one after another (a byte order mark and blanks
// around them ignored). ok is false when doc is not wholly JSON (then it is read as YAML, which
// also takes a single JSON value).
func jsonObjects(doc []byte) (objs []json.RawMessage, ok bool) {
	doc = bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("\ufeff"))
	if len(doc) == 0 || doc[0] != '{' && doc[0] != '[' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return objs, len(objs) > 0
		}
		if err != nil {
			return nil, false
		}
		objs = append(objs, v)
	}
}

// strict decodes raw into v refusing unknown, misspelled and duplicate fields, which
// sigs.k8s.io/json names with their path (spec.template.spec.containers[0].resource).
func strict(source string, raw []byte, v any, what string) error {
	strictErrs, err := kjson.UnmarshalStrict(raw, v)
	if err != nil {
		return templateError(source, fmt.Sprintf("has a %s that does not decode: %s", what, fileError(err)))
	}
	if len(strictErrs) > 0 {
		return templateError(source, fmt.Sprintf("has a %s with %s (check the spelling against the Kubernetes API)", what, fieldError(strictErrs[0])))
	}
	return nil
}

// quoted is a quoted string in a decoder's error: "…" or `…`.
var quoted = lazyregexp.New("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")

// fieldPath is what a field path of a Kubernetes object looks like: field names (letters, digits,
// '_' or '-', starting with a letter) joined by dots, with list indexes ([0]).
var fieldPath = lazyregexp.New(`^[A-Za-z][A-Za-z0-9_-]*(\[[0-9]+\])*(\.[A-Za-z][A-Za-z0-9_-]*(\[[0-9]+\])*)*$`)

// fileError is a YAML or JSON decoder's error about the user's file, safe to print: the file may
// not be a manifest at all (a path typo naming a credentials file), and decoders quote what they
// read — a key, a value, a line. Every quoted string is replaced by "(text of the file)", and the
// message is kept on one line.
func fileError(err error) string { return redactQuoted(err, false) }

// fieldError is fileError for a strict decoder's unknown or duplicate field, whose quoted path is
// kept when it is shaped like one (fieldPath): a misspelled field is named, a line of a file that
// is not a manifest is not.
func fieldError(err error) string { return redactQuoted(err, true) }

func redactQuoted(err error, paths bool) string {
	msg := quoted.ReplaceAllStringFunc(err.Error(), func(q string) string {
		if inner := q[1 : len(q)-1]; paths && len(inner) <= 300 && fieldPath.MatchString(inner) {
			return q
		}
		return "(text of the file)"
	})
	return strings.Join(strings.Fields(msg), " ")
}

// shownName is s when it is shaped like an object's kind or name (letters, digits, '.', '-', '_'
// and ':' excluded), else "(unnamed)": a document's kind and name are printed in messages.
func shownName(s string) string {
	if isObjectName(s) {
		return s
	}
	if s == "" {
		return ""
	}
	return "(a name that is not a Kubernetes name)"
}

// isObjectName reports whether s is 1 to 253 ASCII letters, digits, '.', '_' and '-', starting
// with a letter or digit (what the regexp ^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$ matches; a loop,
// because that regexp's bounded repeat costs 0.2 ms to compile in every process).
func isObjectName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}
