package ownership

import (
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

// TestShadows: which routes match every request mlcanary's default route gets (--uri-prefix
// /score), and which of them match every request at all.
func TestShadows(t *testing.T) {
	c := config.Default()
	const to = `"route":[{"destination":{"host":"legacy"}}]`
	for _, tc := range []struct {
		match            string
		covers, catchAll bool
	}{
		{``, true, true},
		{`"match":[{}],`, true, true},
		{`"match":[{"uri":{"prefix":"/"}}],`, true, true},
		{`"match":[{"uri":{"prefix":""}}],`, true, true},
		{`"match":[{"name":"x","statPrefix":"s","ignoreUriCase":true}],`, true, true},
		{`"match":[{"uri":{"prefix":"/score"}}],`, true, false},
		{`"match":[{"uri":{"prefix":"/s"}}],`, true, false},
		{`"match":[{"uri":{"prefix":"/SCO"},"ignoreUriCase":true}],`, true, false},
		{`"match":[{"uri":{"prefix":"/x"}},{"uri":{"prefix":"/score"}}],`, true, false},
		{`"match":[{"uri":{"prefix":"/SCO"}}],`, false, false},
		{`"match":[{"uri":{"prefix":"/score/v2"}}],`, false, false},
		{`"match":[{"uri":{"exact":"/score"}}],`, false, false},
		{`"match":[{"uri":{"regex":".*"}}],`, true, true},
		{`"match":[{"uri":{"regex":"/score.*"}}],`, false, false},
		{`"match":[{"uri":{"prefix":"/"},"headers":{"x":{"exact":"1"}}}],`, false, false},
		{`"match":[{"method":{"exact":"GET"}}],`, false, false},
		{`"match":[{"gateways":["mesh"]}],`, false, false},
		{`"match":[{"port":8080}],`, false, false},
	} {
		covers, catchAll := shadows(&c, route(t, `{`+tc.match+to+`}`))
		if covers != tc.covers || catchAll != tc.catchAll {
			t.Errorf("%s: covers %v, catch-all %v; want %v, %v", tc.match, covers, catchAll, tc.covers, tc.catchAll)
		}
	}
}
