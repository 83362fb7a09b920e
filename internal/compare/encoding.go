package compare

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Captured requests carry the client's Accept-Encoding (`gzip, deflate, br` from every browser and
// HTTP library), and a model behind a compressing middleware (Starlette's GZipMiddleware from 500
// bytes, Envoy's compressor) answers them compressed. compare forwards only the codings it decodes
// (decodable) and decodes the answer by its Content-Encoding, so a large answer is compared rather
// than counted as non-JSON.

// decodable are the content codings compare reads (RFC 9110 §8.4.1), lower case.
var decodable = map[string]bool{"gzip": true, "x-gzip": true, "deflate": true, "identity": true}

// acceptable keeps, of a line's Accept-Encoding values, the codings compare decodes (with their
// q-values); nil when none is left, so the header is not sent and the answer comes uncompressed.
func acceptable(values []string) []string {
	var keep []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(c), ";")
			if decodable[strings.ToLower(strings.TrimSpace(name))] {
				keep = append(keep, strings.TrimSpace(c))
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return []string{strings.Join(keep, ", ")}
}

// decoded reads resp's body through its Content-Encoding (gzip, deflate as zlib or raw DEFLATE,
// identity; several codings are undone last first). The error is one sentence naming a coding
// compare cannot decode; a corrupt stream surfaces as a read error of the returned reader.
func decoded(resp *http.Response) (io.Reader, error) {
	var r io.Reader = resp.Body
	var codings []string
	for _, v := range resp.Header.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	for i := len(codings) - 1; i >= 0; i-- {
		switch codings[i] {
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("in a gzip Content-Encoding that does not decode: %w", err)
			}
			r = zr
		case "deflate":
			r = inflate(r)
		default:
			return nil, fmt.Errorf("in Content-Encoding %q, which compare cannot decode (it asks only for gzip or deflate)", codings[i])
		}
	}
	return r, nil
}

// inflate reads HTTP's deflate: a zlib stream (RFC 1950) as the RFC says, or raw DEFLATE as some
// servers send it (a zlib stream's first byte has 8 in its low nibble and its header is a multiple of 31).
func inflate(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		if zr, err := zlib.NewReader(br); err == nil {
			return zr
		}
	}
	return flate.NewReader(br)
}
