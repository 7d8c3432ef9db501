package cli

import (
	"net/http"
	"strconv"
	"time"
)

// retryGets retries idempotent GETs (discovery, signing keys, Graph /me) on a throttle or a
// server error a few times, so one transient answer does not fail the sign-in check. POSTs
// (the code redemption) are never retried: an authorization code is good for one use.
type retryGets struct {
	next  http.RoundTripper
	tries int
}

func withGetRetries(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &retryGets{next: rt, tries: 3}
}

func (r *retryGets) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return r.next.RoundTrip(req)
	}
	wait := 300 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := r.next.RoundTrip(req)
		transient := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !transient || attempt == r.tries || req.Context().Err() != nil {
			return resp, err
		}
		d := wait
		if resp != nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 && s <= 5 {
				d = time.Duration(s) * time.Second
			}
			resp.Body.Close()
		}
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		wait *= 2
	}
}
