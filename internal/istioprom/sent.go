package istioprom

import (
	"context"
	"fmt"
	"strings"
)

// Sent counts the requests to v's Service in namespace that a sending proxy reported over the
// window (cfg.Start, cfg.End] (istio_requests_total with reporter="source": the ingress gateway for
// a header-route request, a calling pod's sidecar for an in-mesh one), with cfg.Matchers added. A
// mirror's copy is never among them: Envoy reports only the client's request, for the version its
// route chose, and the copy only where it arrives (reporter="destination"). So a version's
// destination-reported requests minus these are the copies it received. No series is 0, not an
// error; a failed query is a *QueryError. Requests a proxy answered itself for lack of an upstream
// (noUpstreamFlags) are left out: no pod counted them.
func Sent(ctx context.Context, q Querier, cfg Config, v Version) (int64, error) {
	extra := ""
	for _, m := range cfg.Matchers {
		extra += "," + m
	}
	flags := "(.*,)?(" + strings.Join(noUpstreamFlags, "|") + ")(,.*)?" // never reached a pod
	sel := fmt.Sprintf(`%s{reporter="source",destination_service_namespace=%s,destination_service_name=%s,response_flags!~%s%s}`,
		metricRequests, quote(cfg.Namespace), quote(v.Service), quote(flags), extra)
	var res Result
	m, _, err := query(ctx, q, cfg, v.Name+" requests reported by their sender", rangeOf(sel, cfg.End.Sub(cfg.Start)+Lookback), &res)
	if err != nil {
		return 0, err
	}
	m, _ = oneSource(m, cfg.Start, v.Name+"'s requests reported by their sender")
	b, _ := newBaselines(cfg.Start, m)
	n, _ := requestCounts(m, b)
	return round(n), nil
}
