package graph

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// RetryPolicy bounds the retries of one call. Two kinds of failure are retried differently:
//
//   - Replication lag (IsReplicationLag, on calls about an object just made): Graph is
//     eventually consistent, a new object can be invisible to the next call for seconds (facts
//     say up to two minutes), and the object appears at one moment that no backoff can speed up.
//     Backing off exponentially only overshoots that moment (a 10 s lag cost 13.6 s with 1, 2,
//     4, 8 s waits), so these answers are retried at a short, steady, jittered interval (LagWait)
//     until Deadline.
//   - A concurrent change (IsConcurrencyViolation, 409 Directory_ConcurrencyViolation): another
//     write to the same object came too close; Entra asks to wait briefly and retry, so these
//     back off exponentially from Initial (honouring a Retry-After) until Deadline.
//   - Overload: a 429 waits its Retry-After (however many times Graph asks, unlike the SDK's
//     three tries); a 5xx or a dropped connection backs off exponentially from Initial, so that
//     a struggling service is not hammered. Every call this package makes is either idempotent
//     or made safe by its caller.
type RetryPolicy struct {
	Initial  time.Duration // first backoff after a 5xx or a dropped connection; default 1 s
	Max      time.Duration // longest such backoff; default 16 s
	Deadline time.Duration // total time one call may spend retrying; default 2 min
	// LagInterval is LagWait's base: the wait between retries of a replication-lag answer in
	// the first seconds of the lag; default 250 ms.
	LagInterval time.Duration
	// MaxRetryAfter caps one Retry-After wait (a server asking for longer fails the call with
	// its error, which says to try later); default 2 min.
	MaxRetryAfter time.Duration
}

// DefaultRetry is the policy for real tenants.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Initial: time.Second, Max: 16 * time.Second, Deadline: 2 * time.Minute, MaxRetryAfter: 2 * time.Minute, LagInterval: 250 * time.Millisecond}
}

// LagWait is the wait before the next try at something that has not replicated yet, waited
// already into the wait: base (±20 % jitter, so parallel calls do not retry in step) for the
// first 8 bases (2 s at 250 ms), twice base until 40 bases (10 s), then four times base (1 s).
// A try thus lands within one interval of the moment the object appears: about 1.06 times the
// lag on average for a 2 s lag, less for longer ones. What it costs at the default, per call
// that waits: 24 tries for a 10 s lag, 74 for 60 s; the journey waits in at most two calls at
// once (the secret and the service principal), then one (the consent), so a 10 s lag costs
// about 70 calls and a 60 s lag about 220. That is at most 8 calls a second, inside Graph's
// write budget of 3,000 per 150 s for one app in one tenant and far inside the tenant's 18,000
// per 5 min (facts/graph.md §8); a room of people waiting at once is paced by 429s, whose
// Retry-After is honoured.
func LagWait(base, waited time.Duration) time.Duration {
	if base <= 0 {
		base = DefaultRetry().LagInterval
	}
	step := base
	switch {
	case waited >= 40*base:
		step = 4 * base
	case waited >= 8*base:
		step = 2 * base
	}
	return step + time.Duration((rand.Float64()-0.5)*0.4*float64(step))
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetry()
	if p.Initial > 0 {
		d.Initial = p.Initial
	}
	if p.Max > 0 {
		d.Max = p.Max
	}
	if p.Deadline > 0 {
		d.Deadline = p.Deadline
	}
	if p.MaxRetryAfter > 0 {
		d.MaxRetryAfter = p.MaxRetryAfter
	}
	if p.LagInterval > 0 {
		d.LagInterval = p.LagInterval
	}
	return d
}

// RetryEvent tells the caller a call is being retried.
type RetryEvent struct {
	Op      string
	Attempt int           // the attempt that failed, from 1
	Wait    time.Duration // before the next attempt
	Reason  string        // "replication lag", "concurrent change", "throttled", "server error", "connection lost"
	Err     *Error
}

// callGone is call for a removal: an object already gone counts as removed.
func (c *Client) callGone(ctx context.Context, op string, lag bool, fn func(context.Context) error) error {
	if err := c.call(ctx, op, lag, fn); !IsNotFound(err) {
		return err
	}
	return nil
}

// call runs fn until it succeeds, fails for good, or the policy or ctx ends it. lag says that a
// "not found" answer means "not replicated yet" for this call.
func (c *Client) call(ctx context.Context, op string, lag bool, fn func(context.Context) error) error {
	start := time.Now()
	backoff := c.retry.Initial
	var lagSince time.Time // when this call first met replication lag
	var last *Error
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return canceled(ctx, op, errOrNil(last))
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return canceled(ctx, op, errOrNil(last))
		}
		var ae *AuthError
		if errors.As(err, &ae) {
			return &Error{Op: op, Err: ae, Attempts: attempt}
		}
		ge := wrap(op, err)
		ge.Attempts = attempt
		last = ge
		reason := ""
		wait := time.Duration(0)
		switch {
		case IsThrottled(ge):
			reason = "throttled"
			wait = ge.RetryAfter
			if wait > c.retry.MaxRetryAfter {
				return ge
			}
		case IsConcurrencyViolation(ge):
			reason = "concurrent change"
			wait = ge.RetryAfter
		case lag && IsReplicationLag(ge):
			reason = "replication lag"
			if lagSince.IsZero() {
				lagSince = time.Now()
			}
			wait = LagWait(c.retry.LagInterval, time.Since(lagSince))
		case IsTransient(ge):
			reason = "server error"
			if ge.Status == 0 {
				reason = "connection lost"
			} else if ge.RetryAfter > 0 {
				wait = ge.RetryAfter
			}
		default:
			return ge
		}
		if wait == 0 {
			// Full backoff with ±25 % jitter so parallel calls do not retry in step.
			wait = backoff + time.Duration((rand.Float64()-0.5)*0.5*float64(backoff))
			backoff = min(backoff*2, c.retry.Max)
		}
		if time.Since(start)+wait > c.retry.Deadline {
			return ge
		}
		if c.onRetry != nil {
			c.onRetry(RetryEvent{Op: op, Attempt: attempt, Wait: wait, Reason: reason, Err: ge})
		}
		if err := c.sleep(ctx, wait); err != nil {
			return canceled(ctx, op, ge)
		}
	}
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// authCredential marks token failures so they are told apart from Graph's answers and never
// retried here (azidentity has its own retries).
type authCredential struct{ azcore.TokenCredential }

func (a authCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	t, err := a.TokenCredential.GetToken(ctx, o)
	if err != nil && ctx.Err() == nil {
		return t, &AuthError{Err: err}
	}
	return t, err
}
