package config

import (
	_ "crypto/sha512" // the shipped binary links sha384/sha512 (crypto/tls), so go-digest accepts them there
	"os"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// libraryVerdict is what validate.go asked github.com/distribution/reference before imageref.go
// replaced it: is s an image ID (ParseAnyReference gives no name), does ParseNormalizedNamed
// accept it, and with neither tag nor digest.
func libraryVerdict(s string) (id, ok, nameOnly bool) {
	if ref, err := reference.ParseAnyReference(s); err == nil {
		_, named := ref.(reference.Named)
		id = !named
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return id, false, false
	}
	return id, true, reference.IsNameOnly(named)
}

func checkAgainstLibrary(t *testing.T, s string) {
	t.Helper()
	id, ok, nameOnly := libraryVerdict(s)
	gotNameOnly, gotOK := parseNormalizedNamed(s)
	if gotID := isImageID(s); gotID != id || gotOK != ok || gotOK && gotNameOnly != nameOnly {
		t.Errorf("%q: library says id=%v named=%v nameOnly=%v; imageref.go says id=%v named=%v nameOnly=%v",
			s, id, ok, nameOnly, gotID, gotOK, gotNameOnly)
	}
}

// imageRefCases: the library's own test strings, ours, and each of them combined with a registry
// host, a tag and a digest.
func imageRefCases(t testing.TB) []string {
	data, err := os.ReadFile("testdata/imageref-library-examples.txt")
	if err != nil {
		t.Fatal(err)
	}
	var base []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "# ") {
			base = append(base, line)
		}
	}
	hex64 := strings.Repeat("0123456789abcdef", 4)
	base = append(base,
		// registry ports, IPv6, localhost, the legacy Docker Hub domain, upper case hosts
		"myregistry.azurecr.io:5000/model:42", "myregistry.azurecr.io:/model:42", "myregistry.azurecr.io:50a/model:42",
		"[::1]:5000/model:1", "[::1]/model:1", "[]/model:1", "[::g]/model:1", "[::1]:/model:1", "[::1]x/model:1",
		"localhost/model:1", "localhost:5000/model:1", "LOCALHOST/model:1", "Registry/model:1", "index.docker.io/model:1",
		"index.docker.io/library/model:1", "docker.io/model:1", "-reg.io/model:1", "reg-.io/model:1", "reg..io/model:1",
		"reg.io./model:1", "reg_io.com/model:1", "reg.io:5000:6000/model:1",
		// path separators
		"reg.io/a__b:1", "reg.io/a___b:1", "reg.io/a--b:1", "reg.io/a.-b:1", "reg.io/a._b:1", "reg.io/a..b:1",
		"reg.io/a_:1", "reg.io/_a:1", "reg.io//a:1", "reg.io/a/:1", "reg.io/a/b/c/d:1", "a/b:1", "a:1",
		// upper case
		"reg.io/Model:1", "reg.io/model:TAG", "REG.IO/model:1", "reg.io/model@SHA256:"+hex64, "reg.io/model@sha256:"+strings.ToUpper(hex64),
		// digests: algorithms, lengths, case, both tag and digest
		"reg.io/model@sha256:"+hex64, "reg.io/model@sha256:"+hex64[:63], "reg.io/model@sha256:"+hex64+"0",
		"reg.io/model@sha384:"+hex64+hex64[:32], "reg.io/model@sha512:"+hex64+hex64, "reg.io/model@sha512:"+hex64,
		"reg.io/model@md5:"+hex64[:32], "reg.io/model@sha1:"+hex64[:40], "reg.io/model@sha256+b64:"+hex64,
		"reg.io/model:1@sha256:"+hex64, "reg.io/model@sha256:"+hex64+"@sha256:"+hex64, "reg.io/model@", "reg.io/model:",
		"sha256:"+hex64, "sha384:"+hex64+hex64[:32], "sha512:"+hex64+hex64, hex64, hex64[:63], strings.ToUpper(hex64),
		"sha256:"+hex64[:63], "model@sha256:"+hex64, "reg.io/"+hex64+":1",
		// tags
		"reg.io/model:"+strings.Repeat("t", 128), "reg.io/model:"+strings.Repeat("t", 129), "reg.io/model:.1", "reg.io/model:-1",
		"reg.io/model:_1", "reg.io/model:1.0-rc_2", "reg.io/model:1:2", "reg.io/model:a/b",
		// lengths around 255 once normalized (docker.io/library/ is 18 bytes)
		strings.Repeat("a", 237)+":1", strings.Repeat("a", 238)+":1", "reg.io/"+strings.Repeat("a", 248)+":1",
		"reg.io/"+strings.Repeat("a", 249)+":1", "x/"+strings.Repeat("a", 243)+":1", "x/"+strings.Repeat("a", 244)+":1", "foo_bar.com/"+strings.Repeat("a", 243)+":1",
		"foo_bar.com/"+strings.Repeat("a", 244)+":1", "reg.io/"+strings.Repeat("a/", 127)+"a:1", "reg.io/"+strings.Repeat("a/", 128)+"a:1",
		// whitespace, empty, non-ASCII
		"", " ", "reg.io/model:1 ", " reg.io/model:1", "reg.io/model:1\n", "reg.io/modél:1", "rég.io/model:1", "reg.io/model:ſ",
		"reg.io/MODEL:1", "Ünicode/model:1", "reg.io/model@sha256:"+hex64+"\n",
	)
	cases := append([]string(nil), base...)
	for _, s := range base {
		cases = append(cases, s+":42", s+"@sha256:"+hex64, s+":42@sha256:"+hex64, "myregistry.azurecr.io/"+s,
			"localhost:5000/"+s+":1", strings.ToUpper(s), strings.ToUpper(s)+":1")
	}
	return cases
}

// TestImageReferenceMatchesLibrary: imageref.go gives github.com/distribution/reference's verdict
// (and go-digest's, which it calls) on every case: the library's own test strings and ours, alone
// and combined with a registry, tag and digest.
func TestImageReferenceMatchesLibrary(t *testing.T) {
	cases := imageRefCases(t)
	if len(cases) < 3000 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, s := range cases {
		checkAgainstLibrary(t, s)
	}
}

func FuzzImageReference(f *testing.F) {
	for _, s := range imageRefCases(f) {
		f.Add(s)
	}
	f.Fuzz(checkAgainstLibrary)
}
