package graph

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// RetryPolicy bounds the retries of one call. Graph is eventually consistent: a new object can
// be invisible to the next call for seconds (facts say up to two minutes), so lag answers are
// retried with exponential backoff until Deadline; a 429 waits its Retry-After (however many
// times Graph asks, unlike the SDK's three tries); a 5xx or a dropped connection is retried too,
// because every call this package makes is either idempotent or made safe by its caller.
type RetryPolicy struct {
	Initial  time.Duration // first backoff; default 1 s
	Max      time.Duration // longest backoff; default 16 s
	Deadline time.Duration // total time one call may spend retrying; default 2 min
	// MaxRetryAfter caps one Retry-After wait (a server asking for longer fails the call with
	// its error, which says to try later); default 2 min.
	MaxRetryAfter time.Duration
}

// DefaultRetry is the policy for real tenants.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Initial: time.Second, Max: 16 * time.Second, Deadline: 2 * time.Minute, MaxRetryAfter: 2 * time.Minute}
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
	return d
}

// RetryEvent tells the caller a call is being retried.
type RetryEvent struct {
	Op      string
	Attempt int           // the attempt that failed, from 1
	Wait    time.Duration // before the next attempt
	Reason  string        // "replication lag", "throttled", "server error", "connection lost"
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
		case lag && IsReplicationLag(ge):
			reason = "replication lag"
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
