package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Kinds of failure a tally distinguishes. They are few and fixed, so the error table stays small.
const (
	KindStatus  = "status"             // an HTTP response with a status outside 200–299
	KindTimeout = "timeout"            // no complete response within the request timeout
	KindRefused = "connection refused" // nothing listens at the address
	KindReset   = "connection reset"   // the peer reset or closed the connection mid-request
	KindDNS     = "dns"                // the host name did not resolve
	KindOther   = "other"              // anything else; the first message is kept as an example
)

// classify names the kind of a transport error. It reports canceled=true when the error only
// means the run itself was stopped, which is not a failure of the target.
func classify(ctx context.Context, err error) (kind string, canceled bool) {
	var netErr net.Error
	var dnsErr *net.DNSError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return "", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout, false
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused, false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindReset, false
	case errors.As(err, &dnsErr):
		return KindDNS, false
	}
	return KindOther, false
}
