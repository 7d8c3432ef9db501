package provision

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// Error is a failed step told so that a person can act on it: what failed, Graph's own words,
// why that usually happens, what to do next, and the request-id for support.
type Error struct {
	Step      string // e.g. "grant admin consent"
	Explain   string // why this usually happens
	Next      string // what to do
	RequestID string // Graph's request-id, when Graph answered
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed: %v", e.Step, e.Err)
	if e.Explain != "" {
		b.WriteString(". " + e.Explain)
	}
	if e.Next != "" {
		b.WriteString(". Next: " + e.Next)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// hint is one row of the suggestions table: a Graph answer, optionally for one step, and what
// it means. The first matching row wins, so specific rows come before general ones.
type hint struct {
	status  int    // 0: any
	code    string // Graph code or a details code; "": any
	message string // substring of the message; "": any
	step    string // substring of the step; "": any
	explain string
	next    string
}

// hints is the suggestions table (data, not scattered ifs). Roles and scopes are those of
// facts/graph.md §1, §4, §10 and facts/identity.md §7.
func hints() []hint {
	return []hint{
		{status: 403, step: "consent", explain: "Granting tenant-wide admin consent needs the DelegatedPermissionGrant.ReadWrite.All permission and an admin role",
			next: "sign in as a Cloud Application Administrator or Application Administrator (or ask one to run entra-quickstart), then run again"},
		{status: 403, step: "user flow", explain: "User flows need the EventListener.ReadWrite.All permission and the External ID User Flow Administrator role (the Azure CLI's sign-in cannot get that permission)",
			next: "sign in as an External ID User Flow Administrator with the default browser sign-in, then run again"},
		{status: 403, code: "Directory_QuotaExceeded", explain: "You have reached the directory's quota of objects you may create (250 for a non-admin, deleted apps included)",
			next: "run entra-quickstart reset to delete and purge the apps this tool made, then run again"},
		{code: "Directory_QuotaExceeded", explain: "You have reached the directory's quota of objects you may create (250 for a non-admin, deleted apps included)",
			next: "run entra-quickstart reset to delete and purge the apps this tool made, then run again"},
		{status: 403, step: "create the app registration", explain: "Your account may not register applications in this tenant: \"Users can register applications\" is off and you hold none of the Application Developer, Application Administrator or Cloud Application Administrator roles (nothing was created)",
			next: "ask an admin for the Application Developer role, or ask an Application Administrator to run entra-quickstart for you, then run again"},
		{status: 403, step: "update the app registration", explain: "Your role may change only the app registrations you own, and you do not own this one",
			next: "ask one of its owners or an Application Administrator to add you as an owner, or choose another --name for an app of your own"},
		{status: 403, step: "owner", explain: "Only an owner of the app or an Application Administrator may add owners",
			next: "ask one of its owners or an Application Administrator to add you as an owner, then run again"},
		{status: 403, explain: "Your account may not manage app registrations in this tenant",
			next: "ask for the Application Developer or Cloud Application Administrator role (and consent to Application.ReadWrite.All), then run again"},
		{status: 400, code: "ObjectConflict", message: "uniqueName", step: "app registration",
			explain: "An app registration with this uniqueName was deleted and is still in the tenant's deleted items: a deleted app keeps its uniqueName for 30 days, until it is purged",
			next:    "purge it with entra-quickstart reset --all-tagged (which also purges tagged apps deleted earlier), or run again with another --name"},
		{code: "CredentialInvalidLifetimeAsPerAppPolicy", explain: "The tenant's app management policy limits how long a credential may be valid",
			next: "run again with a shorter --secret-lifetime (for example 7d)"},
		{code: "CredentialTypeNotAllowedAsPerAppPolicy", explain: "The tenant's app management policy does not allow this kind of credential",
			next: "run again with --credential certificate (or secret), whichever the policy allows"},
		{status: 401, explain: "Graph did not accept the sign-in (expired or for another tenant)",
			next: "sign in again (entra-quickstart signs in at the start of each run)"},
		{status: 429, explain: "Graph is throttling this tenant and kept asking to wait",
			next: "wait a few minutes and run again: it continues where it stopped"},
		{status: 500, explain: "Graph had a server error and kept failing", next: "run again in a minute: it continues where it stopped without duplicating anything"},
		{status: 502, explain: "Graph had a server error and kept failing", next: "run again in a minute: it continues where it stopped without duplicating anything"},
		{status: 503, explain: "Graph is unavailable for now", next: "run again in a minute: it continues where it stopped without duplicating anything"},
		{status: 504, explain: "Graph timed out", next: "run again in a minute: it continues where it stopped without duplicating anything"},
		{status: 404, explain: "The new object had not reached every Graph replica before the retry deadline",
			next: "run again in a minute: it continues where it stopped"},
		{status: 400, code: "NoBackingApplicationObject", explain: "The new app had not reached every Graph replica before the retry deadline",
			next: "run again in a minute: it continues where it stopped"},
	}
}

func (h hint) matches(step string, ge *graph.Error) bool {
	return (h.status == 0 || h.status == ge.Status) &&
		(h.code == "" || ge.HasCode(h.code)) &&
		(h.message == "" || strings.Contains(ge.Message, h.message)) &&
		(h.step == "" || strings.Contains(step, h.step))
}

// actionable wraps a Graph failure with the table's explanation and next step.
func actionable(step string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	e := &Error{Step: step, Err: err}
	ge, ok := graph.AsError(err)
	switch {
	case ok && ge.Status == 0 && ge.Err != nil && !graph.IsTransient(ge):
		var ae *graph.AuthError
		switch {
		case errors.As(ge.Err, &ae) && needsAdminApproval(err):
			// Nothing was written: the sign-in itself was refused (facts/tenants.md §3.3).
			e.Explain = "Your tenant lets only an admin consent to the permissions this tool's sign-in (Microsoft Graph Command Line Tools) asks for, and none has yet (need admin approval); nothing was changed"
			e.Next = "sign in with the Azure CLI instead (az login, then --auth azure-cli: Microsoft pre-authorized its sign-in for Graph), or ask a Global, Application or Cloud Application Administrator to run entra-quickstart once (their consent for the organisation covers everyone), then run again"
		case errors.As(ge.Err, &ae):
			e.Explain, e.Next = "Signing in to Microsoft Graph failed", "check the sign-in method and tenant, then run again"
		}
	case ok && ge.Status == 0:
		e.Explain, e.Next = "The connection to Microsoft Graph kept failing", "check the network (and proxy), then run again: it continues where it stopped"
	case ok:
		e.RequestID = ge.RequestID
		for _, h := range hints() {
			if h.matches(step, ge) {
				e.Explain, e.Next = h.explain, h.next
				break
			}
		}
	}
	return e
}

// needsAdminApproval: the sign-in service refused the tool's own sign-in for want of an admin's
// consent (AADSTS90094 need admin approval, AADSTS90093 consent blocked by policy, AADSTS65001
// no consent without a prompt).
func needsAdminApproval(err error) bool {
	s := err.Error()
	return strings.Contains(s, "AADSTS90094") || strings.Contains(s, "AADSTS90093") || strings.Contains(s, "AADSTS65001")
}

// wrapStep is actionable for reads that may be nil.
func wrapStep(step string, err error) error { return actionable(step, err) }

// PolicyError is a client secret the tenant's app management policy refuses (facts/tenants.md
// §4): secrets are blocked (restriction passwordAddition), or not even the shortest lifetime
// the tool steps down to is allowed (passwordLifetime). The tool's token cannot read the policy
// (that needs Policy.Read.All), so it reacts to Graph's answer.
type PolicyError struct {
	// PasswordsBlocked: no client secret at all; else none short enough.
	PasswordsBlocked bool
	// PolicyID is the policy Graph named; empty when it named none.
	PolicyID string
	// Tried is the shortest lifetime refused.
	Tried time.Duration
	Err   error
}

// PolicyChangers are who may change an app management policy or exempt an app from it.
const PolicyChangers = "a Global Administrator, or a Security Administrator who is also an Application or Cloud Application Administrator"

func (e *PolicyError) policy() string {
	if e.PolicyID == "" {
		return "the tenant's app management policy"
	}
	return fmt.Sprintf("the app management policy %s", e.PolicyID)
}

func (e *PolicyError) Error() string {
	if e.PasswordsBlocked {
		return fmt.Sprintf("add a client secret failed: %v. %s does not allow client secrets (restriction passwordAddition). Next: ask %s to exempt this app from the policy or lift the restriction, or use a sample that accepts a certificate; then run again (the app registration is in place)",
			e.Err, capital(e.policy()), PolicyChangers)
	}
	return fmt.Sprintf("add a client secret failed: %v. %s allows no client secret valid for even %s (restriction passwordLifetime). Next: ask %s to allow a longer lifetime or exempt this app; then run again (the app registration is in place)",
		e.Err, capital(e.policy()), days(e.Tried), PolicyChangers)
}

func (e *PolicyError) Unwrap() error { return e.Err }

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var policyIDRE = regexp.MustCompile(`policy '([^']+)'`)

// policyRefusal classifies a refused secret: blocked, too long, or neither (nil).
func policyRefusal(err error) *PolicyError {
	ge, ok := graph.AsError(err)
	if !ok || ge.Status != 400 {
		return nil
	}
	pe := &PolicyError{Err: err}
	if m := policyIDRE.FindStringSubmatch(ge.Message); m != nil {
		pe.PolicyID = m[1]
	}
	switch {
	case ge.HasCode("CredentialTypeNotAllowedAsPerAppPolicy"):
		pe.PasswordsBlocked = true
	case ge.HasCode("CredentialInvalidLifetimeAsPerAppPolicy"):
	default:
		return nil
	}
	return pe
}

// shorterLifetimes are the lifetimes tried, in turn, when a policy refuses a secret's: the
// steps below the one asked for (facts/tenants.md §4: the refusal does not say the maximum).
func shorterLifetimes(asked time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range []int{180, 90, 30, 7, 1} {
		if l := time.Duration(d) * 24 * time.Hour; l < asked {
			out = append(out, l)
		}
	}
	return out
}
