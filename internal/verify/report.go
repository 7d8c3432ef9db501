package verify

import (
	"errors"
	"fmt"
	"time"
)

// Step is one stage of the journey, in the order the checklist shows them.
type Step string

const (
	StepDiscovery    Step = "discovery"
	StepAuthorize    Step = "authorize"
	StepCallback     Step = "callback"
	StepCodeExchange Step = "code_exchange"
	StepIDToken      Step = "id_token"
	StepGraphMe      Step = "graph_me"
	StepSignOut      Step = "sign_out"
	StepFrontChannel Step = "front_channel_logout"
)

// Steps lists every step in order.
func Steps() []Step {
	return []Step{StepDiscovery, StepAuthorize, StepCallback, StepCodeExchange, StepIDToken, StepGraphMe, StepSignOut, StepFrontChannel}
}

// Title is the step's name as a person reads it.
func (s Step) Title() string {
	switch s {
	case StepDiscovery:
		return "Discovery"
	case StepAuthorize:
		return "Authorize"
	case StepCallback:
		return "Callback"
	case StepCodeExchange:
		return "Code exchange"
	case StepIDToken:
		return "ID token valid"
	case StepGraphMe:
		return "Graph /me"
	case StepSignOut:
		return "Sign-out"
	case StepFrontChannel:
		return "Front-channel logout"
	}
	return string(s)
}

// Status is where a step stands.
type Status string

const (
	Pending Status = "pending"
	Running Status = "running"
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped" // does not apply to this sample
	// NotChecked: the step applies to this sample but this run could not observe it (the
	// Diagnosis says why and what to do). It is not a pass: the report is not OK.
	NotChecked Status = "not_checked"
	// Warning: the step applies, this run could not observe it, and the reason lies outside the
	// sample's configuration (a browser may refuse Entra's sign-out iframe to a localhost app);
	// the Diagnosis gives the reason. The report stays OK.
	Warning Status = "warning"
)

// Done reports whether the status is final.
func (s Status) Done() bool {
	return s == Passed || s == Failed || s == Skipped || s == NotChecked || s == Warning
}

// StepResult is one line of the checklist.
type StepResult struct {
	Step      Step       `json:"step"`
	Title     string     `json:"title"`
	Status    Status     `json:"status"`
	Detail    string     `json:"detail,omitempty"`
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
	// DurationMS is how long the step ran (0 when it never ran).
	DurationMS int64 `json:"duration_ms"`

	started time.Time
}

// EventKind tells a step change from a notice.
type EventKind string

const (
	EventStep   EventKind = "step"
	EventNotice EventKind = "notice"
)

// Event is what Options.Progress receives: a step changed, or something the person should
// know (the URL to open, a port fallback, a certificate warning, a refused request).
type Event struct {
	Kind    EventKind  `json:"kind"`
	Step    StepResult `json:"step,omitzero"`
	Message string     `json:"message,omitempty"`
	// URL is set on the notice that names the page to open.
	URL string `json:"url,omitempty"`
}

// User is who signed in, from the ID token.
type User struct {
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
	ObjectID string `json:"oid,omitempty"`
	TenantID string `json:"tid,omitempty"`
}

// Refusal is a request the server turned away (unknown or reused state, foreign Host, ...).
type Refusal struct {
	Time   time.Time `json:"time"`
	Path   string    `json:"path"`
	Reason string    `json:"reason"`
}

// Report is the result of a run, rendered by the terminal or as JSON.
type Report struct {
	Authority   string `json:"authority"`
	Issuer      string `json:"issuer,omitempty"`
	TenantID    string `json:"tenant_id,omitempty"`
	ClientID    string `json:"client_id"`
	Credential  string `json:"credential"` // "secret" or "certificate"
	RedirectURI string `json:"redirect_uri"`
	// ServedAt is the redirect URI actually served (another port when the sample's was busy).
	ServedAt string       `json:"served_at,omitempty"`
	Steps    []StepResult `json:"steps"`
	User     *User        `json:"user,omitempty"`
	// Claims are the ID token's claims (no secrets: an ID token is the app's to show).
	Claims map[string]any `json:"id_token_claims,omitempty"`
	// Me is Graph's /me answer.
	Me       map[string]any `json:"graph_me,omitempty"`
	Notices  []string       `json:"notices,omitempty"`
	Refusals []Refusal      `json:"refusals,omitempty"`
	// Outcome is "passed", "failed" (also when a step was not checked), "timeout" or
	// "interrupted".
	Outcome    string    `json:"outcome"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
}

// OK reports whether every step passed, was skipped as not applicable, or ended with a warning
// (a step that applies but was not checked is not OK).
func (r Report) OK() bool {
	if len(r.Steps) == 0 {
		return false
	}
	for _, s := range r.Steps {
		if s.Status != Passed && s.Status != Skipped && s.Status != Warning {
			return false
		}
	}
	return r.Outcome == "passed"
}

// ExitCode is the process exit code for the report: 0 when everything passed, 130 when the
// person interrupted, 1 otherwise.
func (r Report) ExitCode() int {
	switch {
	case r.OK():
		return 0
	case r.Outcome == "interrupted":
		return 130
	}
	return 1
}

// FirstFailure is the first failed step or, when none failed, the first step that applies but
// was not checked: the step that keeps the report from being OK. Nil when there is none.
func (r Report) FirstFailure() *StepResult {
	for _, st := range []Status{Failed, NotChecked} {
		for i := range r.Steps {
			if r.Steps[i].Status == st {
				return &r.Steps[i]
			}
		}
	}
	return nil
}

// Step returns the result of one step.
func (r Report) Step(s Step) StepResult {
	for _, x := range r.Steps {
		if x.Step == s {
			return x
		}
	}
	return StepResult{Step: s, Title: s.Title(), Status: Pending}
}

// Errors Run wraps, so the CLI can tell them apart with errors.Is.
var (
	ErrFailed      = errors.New("sign-in verification failed")
	ErrTimeout     = errors.New("sign-in verification timed out")
	ErrInterrupted = errors.New("sign-in verification interrupted")
)

// Err is the error a report stands for (nil when OK): it names the first failed step and, when
// known, what to do.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	base := ErrFailed
	switch r.Outcome {
	case "timeout":
		base = ErrTimeout
	case "interrupted":
		base = ErrInterrupted
	}
	f := r.FirstFailure()
	if f == nil {
		return base
	}
	msg := f.Title + ": " + f.Detail
	if f.Diagnosis != nil && f.Diagnosis.Fix != "" {
		msg += "; " + f.Diagnosis.Fix
	}
	return fmt.Errorf("%w: %s", base, msg)
}
