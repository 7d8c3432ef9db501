package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Error is a failed Graph call: what was being done, Graph's answer, and the ids support asks
// for. Transport failures (a dropped connection) have Status 0 and the cause in Err.
type Error struct {
	Op              string   // what the call was for, e.g. "add a client secret"
	Status          int      // HTTP status; 0 when no answer came
	Code            string   // Graph's error.code, e.g. Authorization_RequestDenied
	Message         string   // Graph's error.message
	Details         []Detail // Graph's error.details
	RequestID       string   // request-id: quote it to Microsoft support
	ClientRequestID string
	Date            string
	RetryAfter      time.Duration // from a 429/503 Retry-After header
	Attempts        int           // how many times the call was sent
	Err             error         // the SDK's or the transport's error
}

// Detail is one entry of Graph's error.details.
type Detail struct {
	Code    string
	Message string
	Target  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case e.Status == 0 && e.Err != nil:
		b.WriteString(e.Err.Error())
	case e.Message != "":
		b.WriteString(e.Message)
	default:
		b.WriteString("HTTP " + strconv.Itoa(e.Status))
	}
	var meta []string
	if e.Status != 0 {
		s := "HTTP " + strconv.Itoa(e.Status)
		if e.Code != "" {
			s += " " + e.Code
		}
		meta = append(meta, s)
	}
	if e.RequestID != "" {
		meta = append(meta, "request-id "+e.RequestID)
	}
	if e.Attempts > 1 {
		meta = append(meta, strconv.Itoa(e.Attempts)+" attempts")
	}
	if len(meta) > 0 {
		b.WriteString(" (" + strings.Join(meta, ", ") + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// HasCode reports whether the error's code or one of its details' codes is code.
func (e *Error) HasCode(code string) bool {
	if strings.EqualFold(e.Code, code) {
		return true
	}
	for _, d := range e.Details {
		if strings.EqualFold(d.Code, code) {
			return true
		}
	}
	return false
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var ge *Error
	ok := errors.As(err, &ge)
	return ge, ok
}

// IsNotFound reports a 404 from Graph.
func IsNotFound(err error) bool {
	ge, ok := AsError(err)
	return ok && ge.Status == 404
}

// IsReplicationLag reports an answer Graph gives while a new object has not reached every
// replica yet (facts/graph.md §9): 404 Request_ResourceNotFound or Directory_ObjectNotFound, 400
// NoBackingApplicationObject. Only meaningful for calls about an object just created.
func IsReplicationLag(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	switch {
	case ge.Status == 404:
		return true
	case ge.Status == 400 && (ge.HasCode("NoBackingApplicationObject") || ge.HasCode("Directory_ObjectNotFound")):
		return true
	}
	return false
}

// IsConcurrencyViolation reports Directory_ConcurrencyViolation: Entra refusing a change
// because another one to the same object (typically its credentials) came too close before it
// (facts/tenants.md §5; seen as 409, and as 503). The advice is to wait briefly and retry: it is
// a reason of its own, not replication lag (nothing is missing) nor a struggling service.
func IsConcurrencyViolation(err error) bool {
	ge, ok := AsError(err)
	return ok && (ge.Status == 409 || ge.Status == 503) && ge.HasCode("Directory_ConcurrencyViolation")
}

// IsThrottled reports a 429.
func IsThrottled(err error) bool {
	ge, ok := AsError(err)
	return ok && ge.Status == 429
}

// IsTransient reports a failure worth repeating: a 5xx or no answer at all.
func IsTransient(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	if ge.Status >= 500 {
		return true
	}
	return ge.Status == 0 && isTransport(ge.Err)
}

// AuthError is a failure to get a Graph access token: nothing Graph said, nothing to retry.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return "getting a Microsoft Graph access token: " + e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

func isTransport(err error) bool {
	if err == nil {
		return false
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// wrap turns whatever the SDK returned into an *Error.
func wrap(op string, err error) *Error {
	if ge, ok := AsError(err); ok {
		if ge.Op == "" {
			ge.Op = op
		}
		return ge
	}
	e := &Error{Op: op, Err: err}
	var oe *odataerrors.ODataError
	var ae *abs.ApiError
	switch {
	case errors.As(err, &oe):
		e.Status = oe.ResponseStatusCode
		headers(e, oe.GetResponseHeaders())
		if me := oe.GetErrorEscaped(); me != nil {
			e.Code = deref(me.GetCode())
			e.Message = deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				e.Details = append(e.Details, Detail{Code: deref(d.GetCode()), Message: deref(d.GetMessage()), Target: deref(d.GetTarget())})
			}
			if in := me.GetInnerError(); in != nil {
				if v := deref(in.GetRequestId()); v != "" {
					e.RequestID = v
				}
				if v := deref(in.GetClientRequestId()); v != "" {
					e.ClientRequestID = v
				}
				if d := in.GetDate(); d != nil {
					e.Date = d.UTC().Format("2006-01-02T15:04:05")
				}
			}
		}
	case errors.As(err, &ae):
		e.Status = ae.ResponseStatusCode
		e.Message = ae.Message
		headers(e, ae.ResponseHeaders)
	}
	return e
}

func headers(e *Error, h *abs.ResponseHeaders) {
	if h == nil {
		return
	}
	first := func(k string) string {
		if v := h.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if v := first("request-id"); v != "" {
		e.RequestID = v
	}
	if v := first("client-request-id"); v != "" {
		e.ClientRequestID = v
	}
	if v := first("Retry-After"); v != "" {
		e.RetryAfter = parseRetryAfter(v, time.Now())
	}
}

// parseRetryAfter reads delta-seconds (possibly fractional) or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// canceled wraps the context's error with what was being done.
func canceled(ctx context.Context, op string, last error) error {
	cause := context.Cause(ctx)
	if last != nil {
		return fmt.Errorf("graph: %s: stopped (%w) after: %v", op, cause, last)
	}
	return fmt.Errorf("graph: %s: %w", op, cause)
}
