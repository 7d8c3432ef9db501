// Package provision is the engine that turns "this sample, this tenant, this name" into a
// working app registration through Microsoft Graph: Spec (the desired registration, as data) ->
// Plan (what exists now and the actions, field by field) -> Apply (the fewest dependent round
// trips, idempotent, recoverable) -> WaitReady (until the new credential gets a token). Reset
// and List only ever touch apps carrying the entra-quickstart tag.
//
// The package has no terminal code: progress goes to callbacks, results come back as data.
package provision

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// Tag is carried by every app registration this tool makes; reset and list only ever touch
// apps with it. TagSamplePrefix and TagNamePrefix prefix the per-app tags (tags allow no
// whitespace).
const (
	Tag             = "entra-quickstart"
	TagSamplePrefix = "entra-quickstart:sample:"
	TagNamePrefix   = "entra-quickstart:name:"
	// TagLabPrefix tags every app of a workshop lab (entra-quickstart lab), so that lab reset
	// finds the lab's apps, and only them.
	TagLabPrefix = "entra-quickstart:lab:"
	// CredentialPrefix starts the display name of every secret and certificate this tool adds,
	// which is how a later run tells its own credentials from anyone else's.
	CredentialPrefix = "entra-quickstart"
)

// DefaultSecretLifetime is how long a new client secret is valid: 30 days. A dev tool's
// secrets should expire soon; re-running entra-quickstart makes a new one (and removes the
// old). Tenant policies can demand shorter (CredentialInvalidLifetimeAsPerAppPolicy).
const DefaultSecretLifetime = 30 * 24 * time.Hour

// DefaultCertificateLifetime is the validity of a generated certificate: 90 days.
const DefaultCertificateLifetime = 90 * 24 * time.Hour

// MaxSecretLifetime is the longest lifetime accepted (Graph's own limit is 2 years for the
// default; tenant policies are usually shorter).
const MaxSecretLifetime = 2 * 365 * 24 * time.Hour

// Workforce and External are the catalog's tenant kinds (samples owns the type), named here for
// the engine's own tenant detection.
const (
	Workforce = samples.Workforce
	External  = samples.External
)

// graphScopeIDs are Microsoft Graph's delegated permission ids, the same in every tenant, so
// requiredResourceAccess can go in the first request without looking them up.
var graphScopeIDs = map[string]string{
	"user.read":      "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
	"openid":         "37f7f235-527c-4136-accd-4a02d197296e",
	"profile":        "14dad69e-099b-42c9-810b-d002981feec1",
	"offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
	"email":          "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
}

// canonicalScope spells a known scope as Graph does (User.Read, openid, ...).
func canonicalScope(s string) string {
	switch strings.ToLower(s) {
	case "user.read":
		return "User.Read"
	}
	return strings.ToLower(s)
}

// BaseScopes are always required and consented: the OpenID Connect sign-in scopes and User.Read.
func BaseScopes() []string { return []string{"openid", "profile", "offline_access", "User.Read"} }

// Spec is the desired app registration, as data.
type Spec struct {
	Sample     string             // sample id, e.g. node-workforce
	Name       string             // the user's name for this copy, e.g. "alice"
	TenantType samples.TenantType // what the user said the tenant is; Plan checks it
	// TenantID, when set, must be the signed-in tenant (a guard against the wrong sign-in).
	TenantID string
	// Lab, when set, is the workshop lab the app belongs to: it gets the lab's tag.
	Lab string
	// Owner, when set, is the object id of who signs in (a user, or an app's service
	// principal): they are made an owner of the app where Graph did not make them one (admins
	// are not made owners of what they create).
	Owner string

	DisplayName    string
	UniqueName     string // stable across runs: UniqueName(Sample, Name)
	SignInAudience string // AzureADMyOrg: single tenant, also for External ID
	RedirectURIs   []string
	LogoutURL      string // front-channel logout URL (https)
	// IDTokenIssuance enables ID tokens from the authorize endpoint (implicit/hybrid flows).
	IDTokenIssuance     bool
	AccessTokenIssuance bool
	// GraphScopes are the delegated Graph permissions required and consented, by value.
	GraphScopes []string
	Tags        []string
	Notes       string

	Credential CredentialSpec
	// UserFlow says which External ID user flow to link (ignored for workforce tenants).
	UserFlow UserFlowSpec
}

// CredentialSpec is the app's credential.
type CredentialSpec struct {
	Kind samples.CredentialKind
	// Lifetime of a new secret or certificate; 0 means DefaultSecretLifetime or
	// DefaultCertificateLifetime.
	Lifetime time.Duration
	// Renew makes a new credential even when a valid one made by this tool exists (the CLI sets
	// it when the sample's configuration does not hold the current one, e.g. a new folder).
	Renew bool
	// CurrentKeyID is the keyId of the credential the sample's configuration holds now (from the
	// local record): kept as the grace credential in preference to any other older one.
	CurrentKeyID string
	// KeyFile is where a certificate's private key and certificate are kept (PEM, mode 0600),
	// and where a later run looks for them. Required for Certificate.
	KeyFile string
}

// UserFlowSpec chooses the External ID sign-up/sign-in user flow.
type UserFlowSpec struct {
	// ID or Name picks an existing flow; both empty picks the only flow, or the first by name.
	ID   string
	Name string
	// CreateIfNone creates a flow (email with password, display name collected) named
	// CreateName (default "entra-quickstart sign-up and sign-in") when the tenant has none. The
	// CLI sets it when the user agreed.
	CreateIfNone bool
	CreateName   string
}

// Answers are the user's choices SpecFor needs (the CLI fills them from flags or the wizard).
type Answers struct {
	Name       string
	Lab        string // the workshop lab (entra-quickstart lab), empty outside one
	TenantID   string
	Credential samples.CredentialKind // empty: the sample's default
	// Lifetime of the new credential; 0: the default (DefaultSecretLifetime for secrets).
	Lifetime     time.Duration
	Renew        bool
	CurrentKeyID string
	KeyFile      string
	UserFlow     UserFlowSpec
}

var uniqueNameUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// UniqueName derives the app's uniqueName from the sample id and the user's name: stable across
// runs, distinct per sample and per name, and limited to [a-z0-9._-] (the SDK does not escape
// quotes inside alternate keys).
func UniqueName(sample, name string) string {
	clean := func(s string) string {
		s = uniqueNameUnsafe.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-")
		return strings.Trim(s, "-.")
	}
	n := clean(name)
	if n == "" {
		n = "default"
	}
	u := "entra-quickstart." + clean(sample) + "." + n
	if len(u) > 100 {
		u = u[:100]
	}
	return u
}

// PersonalUniqueName is UniqueName with a stable short id of who signs in (the first 8
// characters of a person's object id, or of an app's client id for an app-only sign-in), so
// that two people configuring the same sample under the same name never share an app by
// accident. An empty who gives UniqueName.
func PersonalUniqueName(sample, name, who string) string {
	id := cleanName(strings.ReplaceAll(who, "-", ""))
	if len(id) > 8 {
		id = id[:8]
	}
	u := UniqueName(sample, name)
	if id == "" {
		return u
	}
	if len(u) > 100-len(id)-1 {
		u = u[:100-len(id)-1]
	}
	return u + "." + id
}

// LabUniqueName is the uniqueName of an attendee's app in a workshop lab. Its second label is
// "lab", which no sample id is, so it never collides with UniqueName's apps; lab and attendee
// are cleaned as UniqueName cleans a name.
func LabUniqueName(lab, attendee string) string {
	u := "entra-quickstart.lab." + cleanName(lab) + "." + cleanName(attendee)
	if len(u) > 100 {
		u = u[:100]
	}
	return u
}

func cleanName(s string) string {
	s = uniqueNameUnsafe.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-")
	return strings.Trim(s, "-.")
}

// NewSpec builds a Spec from plain inputs, filling defaults: uniqueName, display name, audience,
// base scopes, tags and notes.
func NewSpec(s Spec) Spec {
	if s.Name == "" {
		s.Name = "default"
	}
	if s.UniqueName == "" {
		s.UniqueName = UniqueName(s.Sample, s.Name)
	}
	if s.DisplayName == "" {
		s.DisplayName = fmt.Sprintf("%s (%s) by entra-quickstart", s.Sample, s.Name)
		if len(s.DisplayName) > 120 {
			s.DisplayName = s.DisplayName[:120]
		}
	}
	if s.SignInAudience == "" {
		s.SignInAudience = "AzureADMyOrg"
	}
	scopes := BaseScopes()
	for _, sc := range s.GraphScopes {
		c := canonicalScope(sc)
		if !slices.ContainsFunc(scopes, func(x string) bool { return strings.EqualFold(x, c) }) {
			scopes = append(scopes, c)
		}
	}
	s.GraphScopes = scopes
	tags := []string{Tag, TagSamplePrefix + tagSafe(s.Sample), TagNamePrefix + tagSafe(s.Name)}
	if s.Lab != "" {
		tags = append(tags, TagLabPrefix+tagSafe(s.Lab))
	}
	for _, t := range s.Tags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	s.Tags = tags
	if s.Notes == "" && s.Lab != "" {
		s.Notes = "Made by entra-quickstart for the workshop lab " + s.Lab + " (sample " + s.Sample + "). Remove the lab's apps with: entra-quickstart lab reset --name " + s.Lab
	}
	if s.Notes == "" {
		s.Notes = "Made by entra-quickstart for the sample " + s.Sample + ". Remove it with: entra-quickstart reset --sample " + s.Sample + " --name " + s.Name
	}
	if s.Credential.Kind == "" {
		s.Credential.Kind = samples.Secret
	}
	if s.Credential.Lifetime == 0 {
		s.Credential.Lifetime = DefaultSecretLifetime
		if s.Credential.Kind == samples.Certificate {
			s.Credential.Lifetime = DefaultCertificateLifetime
		}
	}
	if s.UserFlow.CreateName == "" {
		s.UserFlow.CreateName = "entra-quickstart sign-up and sign-in"
	}
	return s
}

func tagSafe(s string) string {
	return strings.Join(strings.Fields(s), "-")
}

// SpecFor builds the Spec of a sample from its manifest and the user's answers.
func SpecFor(m *samples.Manifest, a Answers) (Spec, error) {
	if m == nil {
		return Spec{}, errors.New("provision: no sample manifest")
	}
	kind := a.Credential
	if kind == "" {
		kind = m.DefaultCredential()
	}
	if !m.Supports(kind) {
		return Spec{}, fmt.Errorf("provision: the sample %s does not support a %s credential; use one of %v", m.ID, kind, m.Credentials)
	}
	s := NewSpec(Spec{
		Sample:              m.ID,
		Name:                a.Name,
		TenantType:          m.TenantType,
		TenantID:            a.TenantID,
		Lab:                 a.Lab,
		RedirectURIs:        append([]string(nil), m.RedirectURIs...),
		LogoutURL:           m.FrontChannelLogoutURL,
		IDTokenIssuance:     m.ImplicitGrant.IDToken,
		AccessTokenIssuance: m.ImplicitGrant.AccessToken,
		GraphScopes:         append([]string(nil), m.GraphScopes...),
		Credential:          CredentialSpec{Kind: kind, Lifetime: a.Lifetime, Renew: a.Renew, CurrentKeyID: a.CurrentKeyID, KeyFile: a.KeyFile},
		UserFlow:            a.UserFlow,
	})
	return s, s.Validate()
}

// Validate checks what Graph would refuse, before any call, with messages that say what to change.
func (s Spec) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if s.Sample == "" {
		bad("no sample")
	}
	if s.TenantType != Workforce && s.TenantType != External {
		bad("tenant type %q must be %q or %q", s.TenantType, Workforce, External)
	}
	if s.UniqueName == "" || uniqueNameUnsafe.MatchString(s.UniqueName) {
		bad("uniqueName %q may only hold a-z, 0-9, '.', '_' and '-'", s.UniqueName)
	}
	if s.DisplayName == "" || len(s.DisplayName) > 120 {
		bad("display name must be 1 to 120 characters")
	}
	for _, u := range s.RedirectURIs {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://localhost") && !strings.HasPrefix(u, "http://127.0.0.1") {
			bad("redirect URI %q must use https (http only for localhost)", u)
		}
	}
	if s.LogoutURL != "" && !strings.HasPrefix(s.LogoutURL, "https://") {
		bad("front-channel logout URL %q must use https", s.LogoutURL)
	}
	for _, t := range s.Tags {
		if t == "" || len(t) > 256 || strings.ContainsAny(t, " \t\r\n") {
			bad("tag %q must be 1 to 256 characters without spaces", t)
		}
	}
	for _, sc := range s.GraphScopes {
		if _, ok := graphScopeIDs[strings.ToLower(sc)]; !ok {
			bad("Graph scope %q is not one this tool knows the id of (User.Read, openid, profile, offline_access, email)", sc)
		}
	}
	switch s.Credential.Kind {
	case samples.Secret:
	case samples.Certificate:
		if s.Credential.KeyFile == "" {
			bad("a certificate needs a file for its private key (CredentialSpec.KeyFile)")
		}
	default:
		bad("credential %q must be %q or %q", s.Credential.Kind, samples.Secret, samples.Certificate)
	}
	if s.Credential.Lifetime < time.Hour || s.Credential.Lifetime > MaxSecretLifetime {
		bad("credential lifetime %s must be between 1h and 2 years", s.Credential.Lifetime)
	}
	if len(errs) > 0 {
		return fmt.Errorf("provision: the app registration spec is invalid: %w", errors.Join(errs...))
	}
	return nil
}

// consentScope is the grant's scope string: the scope values, space-separated, in spec order.
func (s Spec) consentScope() string { return strings.Join(s.GraphScopes, " ") }

// appWrite is the upsert body for this spec.
func (s Spec) appWrite() graph.AppWrite {
	var access []graph.ResourceAccess
	for _, sc := range s.GraphScopes {
		access = append(access, graph.ResourceAccess{ID: graphScopeIDs[strings.ToLower(sc)], Type: "Scope"})
	}
	return graph.AppWrite{
		DisplayName:    s.DisplayName,
		SignInAudience: s.SignInAudience,
		Notes:          s.Notes,
		Tags:           s.Tags,
		Web: graph.Web{
			RedirectURIs:        s.RedirectURIs,
			LogoutURL:           s.LogoutURL,
			IDTokenIssuance:     s.IDTokenIssuance,
			AccessTokenIssuance: s.AccessTokenIssuance,
		},
		RequiredResourceAccess: []graph.RequiredResourceAccess{{ResourceAppID: graph.GraphAppID, Access: access}},
	}
}
