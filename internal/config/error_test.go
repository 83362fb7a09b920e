package config

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorLineIsEscaped: an InputError is one line whatever its value holds; control characters,
// invalid UTF-8 and format characters are escaped, a long value is cut on a character boundary.
func TestErrorLineIsEscaped(t *testing.T) {
	for value, want := range map[string]string{
		"a\nb":                       `"a\nb"`,
		"\x1b[31m":                   `"\x1b[31m"`,
		"exa\u202emple":              `"exa\u202emple"`,
		"\xff":                       `"\xff"`,
		"ñ日本":                        `"ñ日本"`,
		strings.Repeat("é", 200):     `"` + strings.Repeat("é", 120) + `"… (200 characters)`,
		strings.Repeat("\xff", 130):  `"` + strings.Repeat(`\xff`, 120) + `"… (130 characters)`,
		"##vso[task.complete]" + "x": `"##vso[task.complete]x"`,
	} {
		got := (&InputError{Input: "app", Value: value, Allowed: "a\rb"}).Error()
		if wantLine := "invalid app " + want + `: allowed: a\rb`; got != wantLine {
			t.Errorf("value %q: %q, want %q", value, got, wantLine)
		}
	}
}

// TestRenameNamesEveryInput: the Azure DevOps names replace the flag names in the input and in
// the inputs the message mentions.
func TestRenameNamesEveryInput(t *testing.T) {
	_, err := ImageFrom("x.io/m:1", "x.io/m", "")
	var e *InputError
	if !errors.As(err, &e) {
		t.Fatalf("ImageFrom = %v, want an *InputError", err)
	}
	e.Rename(func(f string) string {
		return map[string]string{"image": "image", "image-repo": "imageRepository", "image-tag": "imageTag"}[f]
	})
	if want := `invalid image "x.io/m:1": allowed: either image or imageRepository plus imageTag, not both`; e.Error() != want {
		t.Errorf("%q, want %q", e.Error(), want)
	}
}

// TestImageFrom: what each image input may hold, and which input a refusal names.
func TestImageFrom(t *testing.T) {
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ image, repo, tag, want, input string }{
		{"x.io/m:1", "", "", "x.io/m:1", ""},
		{"x.io/m@sha256:" + hex, "", "", "x.io/m@sha256:" + hex, ""},
		{"x.io/m:1@sha256:" + hex, "", "", "x.io/m:1@sha256:" + hex, ""},
		{"model:1", "", "", "model:1", ""},
		{"", "x.io/m", "sha256:" + hex, "x.io/m@sha256:" + hex, ""},
		{"", "x.io/m", "1@sha256:" + hex, "x.io/m:1@sha256:" + hex, ""},
		{"sha256:" + hex, "", "", "", "image"},
		{hex, "", "", "", "image"},
		{"x.io/m", "", "", "", "image"},
		{"x.io/m:1 ", "", "", "", "image"},
		{"", "x.io/m", "sha256:1", "", "image-tag"},
		{"", "x.io/m", "a b", "", "image-tag"},
		{"", "x.io/m:1", "2", "", "image-repo"},
		{"", hex, "2", "", "image-repo"},
		{"", "x.io", "2", "", "image-repo"},
		{"", "", "2", "", "image-repo"},
		{"", "x.io/m", "", "", "image-tag"},
	} {
		got, err := ImageFrom(tc.image, tc.repo, tc.tag)
		var in *InputError
		errors.As(err, &in)
		if got != tc.want || (tc.input == "") != (err == nil) || (in != nil && in.Input != tc.input) {
			t.Errorf("ImageFrom(%q, %q, %q) = %q, %v; want %q naming %q", tc.image, tc.repo, tc.tag, got, err, tc.want, tc.input)
		}
	}
}

// TestPrintableNeutralisesCommands: the one rule every front end applies to text it did not write
// (the CLI's error line included, which may run inside an Azure Pipelines or GitHub Actions step).
func TestPrintableNeutralisesCommands(t *testing.T) {
	for in, want := range map[string]string{
		"policy: ##vso[task.setvariable variable=approved]true": "policy: ##vso%5Btask.setvariable variable=approved]true",
		"##VSO[task.complete result=Succeeded]":                 "##VSO%5Btask.complete result=Succeeded]",
		"x ##[error]fake":                                       "x ##%5Berror]fake",
		"::set-output name=x::y":                                "> ::set-output name=x::y",
		"  ::error::forged":                                     ">   ::error::forged",
		"a\n::error::forged":                                    `a\n::error::forged`,
		"plain text":                                            "plain text",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
