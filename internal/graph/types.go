package graph

import (
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Well-known values that are the same in every tenant.
const (
	// GraphAppID is Microsoft Graph's appId.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// AllPrincipals is the consent type of tenant-wide admin consent.
	AllPrincipals = "AllPrincipals"
)

// Application is the part of an app registration provision reads.
type Application struct {
	ID             string
	AppID          string
	UniqueName     string
	DisplayName    string
	SignInAudience string
	Notes          string
	Tags           []string
	Web            Web
	// SPARedirectURIs and PublicClientRedirectURIs are the other platforms' redirect URIs: the
	// tool writes neither, but shows them on an app it did not make.
	SPARedirectURIs          []string
	PublicClientRedirectURIs []string
	RequiredResourceAccess   []RequiredResourceAccess
	Passwords                []PasswordCredential
	Keys                     []KeyCredential
	Created                  time.Time
	Deleted                  time.Time // zero unless soft-deleted
}

// Web is application.web.
type Web struct {
	RedirectURIs        []string
	LogoutURL           string
	IDTokenIssuance     bool
	AccessTokenIssuance bool
}

// RequiredResourceAccess is one API's permissions in application.requiredResourceAccess.
type RequiredResourceAccess struct {
	ResourceAppID string
	Access        []ResourceAccess
}

// ResourceAccess is one permission id and its type ("Scope" or "Role").
type ResourceAccess struct {
	ID   string
	Type string
}

// PasswordCredential is a client secret as Graph shows it after creation (no secret text).
type PasswordCredential struct {
	KeyID       string
	DisplayName string
	Hint        string
	Start, End  time.Time
}

// KeyCredential is a certificate's public part on an application.
type KeyCredential struct {
	KeyID               string
	DisplayName         string
	Type                string // AsymmetricX509Cert
	Usage               string // Verify
	Key                 []byte // DER certificate; Graph returns it only on a single-object $select
	CustomKeyIdentifier []byte // defaults to the SHA-1 thumbprint
	Start, End          time.Time
}

// AppWrite is what an upsert sends: the whole desired state of the properties provision owns,
// so a re-run converges whatever was changed by hand. Fresh SDK models are built from it each
// time (the SDK's backing store would send only "dirty" fields of a fetched object).
type AppWrite struct {
	DisplayName            string
	SignInAudience         string
	Notes                  string
	Tags                   []string
	Web                    Web
	RequiredResourceAccess []RequiredResourceAccess
	// Keys replaces keyCredentials when SetKeys is true (Graph replaces the whole collection;
	// keys to keep must be sent again with their Key bytes).
	Keys    []KeyCredential
	SetKeys bool
}

// Secret is a client secret's text. Its String, GoString and JSON forms are redacted, so a
// secret printed or logged by mistake shows nothing; Reveal returns the text.
type Secret string

// Reveal returns the secret text, for the one place that writes it to the sample's config.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from showing the text.
func (s Secret) GoString() string { return `graph.Secret("[redacted]")` }

// MarshalJSON keeps a Result encoded as JSON from showing the text.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// ServicePrincipal is the part of a service principal provision reads.
type ServicePrincipal struct {
	ID          string
	AppID       string
	DisplayName string
	Tags        []string
	// Scopes maps the delegated permissions the principal exposes, value to id (for Graph's).
	Scopes map[string]string
}

// Grant is a delegated permission grant (oauth2PermissionGrant).
type Grant struct {
	ID          string
	ClientID    string
	ResourceID  string
	ConsentType string
	Scope       string
}

// Organization is what GET /organization says about the tenant.
type Organization struct {
	ID          string
	DisplayName string
	// TenantType is "AAD" for a workforce tenant, "CIAM" for External ID ("AAD B2C" for B2C).
	TenantType string
	Domains    []Domain
}

// Domain is a verified domain.
type Domain struct {
	Name      string
	IsInitial bool
	IsDefault bool
}

// InitialDomain is the tenant's <name>.onmicrosoft.com domain.
func (o Organization) InitialDomain() string {
	for _, d := range o.Domains {
		if d.IsInitial {
			return d.Name
		}
	}
	return ""
}

// UserFlow is an External ID sign-up/sign-in user flow.
type UserFlow struct {
	ID          string
	DisplayName string
	Description string
}

// ---- conversions ----

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func fromApp(m models.Applicationable) *Application {
	if m == nil {
		return nil
	}
	a := &Application{
		ID:             deref(m.GetId()),
		AppID:          deref(m.GetAppId()),
		UniqueName:     deref(m.GetUniqueName()),
		DisplayName:    deref(m.GetDisplayName()),
		SignInAudience: deref(m.GetSignInAudience()),
		Notes:          deref(m.GetNotes()),
		Tags:           m.GetTags(),
	}
	if t := m.GetCreatedDateTime(); t != nil {
		a.Created = *t
	}
	if t := m.GetDeletedDateTime(); t != nil {
		a.Deleted = *t
	}
	if w := m.GetWeb(); w != nil {
		a.Web.RedirectURIs = w.GetRedirectUris()
		a.Web.LogoutURL = deref(w.GetLogoutUrl())
		if ig := w.GetImplicitGrantSettings(); ig != nil {
			a.Web.IDTokenIssuance = deref(ig.GetEnableIdTokenIssuance())
			a.Web.AccessTokenIssuance = deref(ig.GetEnableAccessTokenIssuance())
		}
	}
	if sp := m.GetSpa(); sp != nil {
		a.SPARedirectURIs = sp.GetRedirectUris()
	}
	if pc := m.GetPublicClient(); pc != nil {
		a.PublicClientRedirectURIs = pc.GetRedirectUris()
	}
	for _, r := range m.GetRequiredResourceAccess() {
		rr := RequiredResourceAccess{ResourceAppID: deref(r.GetResourceAppId())}
		for _, x := range r.GetResourceAccess() {
			rr.Access = append(rr.Access, ResourceAccess{ID: uuidString(x.GetId()), Type: deref(x.GetTypeEscaped())})
		}
		a.RequiredResourceAccess = append(a.RequiredResourceAccess, rr)
	}
	for _, p := range m.GetPasswordCredentials() {
		a.Passwords = append(a.Passwords, fromPassword(p))
	}
	for _, k := range m.GetKeyCredentials() {
		a.Keys = append(a.Keys, KeyCredential{
			KeyID: uuidString(k.GetKeyId()), DisplayName: deref(k.GetDisplayName()), Type: deref(k.GetTypeEscaped()), Usage: deref(k.GetUsage()),
			Key: k.GetKey(), CustomKeyIdentifier: k.GetCustomKeyIdentifier(),
			Start: deref(k.GetStartDateTime()), End: deref(k.GetEndDateTime()),
		})
	}
	return a
}

func fromPassword(p models.PasswordCredentialable) PasswordCredential {
	return PasswordCredential{KeyID: uuidString(p.GetKeyId()), DisplayName: deref(p.GetDisplayName()), Hint: deref(p.GetHint()),
		Start: deref(p.GetStartDateTime()), End: deref(p.GetEndDateTime())}
}

// uuidString is u's text; "" when Graph sent none.
func uuidString(u *uuid.UUID) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func toAppModel(w AppWrite) models.Applicationable {
	m := models.NewApplication()
	m.SetDisplayName(str(w.DisplayName))
	m.SetSignInAudience(str(w.SignInAudience))
	notes := w.Notes
	m.SetNotes(&notes)
	m.SetTags(append([]string{}, w.Tags...))
	web := models.NewWebApplication()
	web.SetRedirectUris(append([]string{}, w.Web.RedirectURIs...))
	if w.Web.LogoutURL != "" {
		web.SetLogoutUrl(str(w.Web.LogoutURL))
	} else {
		// The model writes nothing for a nil string, and PATCH keeps what it is not sent: a
		// stale logout URL would stay. An explicit null clears it.
		web.SetAdditionalData(map[string]any{"logoutUrl": nil})
	}
	ig := models.NewImplicitGrantSettings()
	idt, act := w.Web.IDTokenIssuance, w.Web.AccessTokenIssuance
	ig.SetEnableIdTokenIssuance(&idt)
	ig.SetEnableAccessTokenIssuance(&act)
	web.SetImplicitGrantSettings(ig)
	m.SetWeb(web)
	rras := []models.RequiredResourceAccessable{}
	for _, r := range w.RequiredResourceAccess {
		rra := models.NewRequiredResourceAccess()
		rra.SetResourceAppId(str(r.ResourceAppID))
		var ras []models.ResourceAccessable
		for _, x := range r.Access {
			ra := models.NewResourceAccess()
			if u, err := uuid.Parse(x.ID); err == nil {
				ra.SetId(&u)
			}
			t := x.Type
			ra.SetTypeEscaped(&t)
			ras = append(ras, ra)
		}
		rra.SetResourceAccess(ras)
		rras = append(rras, rra)
	}
	m.SetRequiredResourceAccess(rras)
	if w.SetKeys {
		keys := []models.KeyCredentialable{}
		for _, k := range w.Keys {
			kc := models.NewKeyCredential()
			if u, err := uuid.Parse(k.KeyID); err == nil {
				kc.SetKeyId(&u)
			}
			kc.SetDisplayName(str(k.DisplayName))
			kc.SetTypeEscaped(str(k.Type))
			kc.SetUsage(str(k.Usage))
			kc.SetKey(k.Key)
			if len(k.CustomKeyIdentifier) > 0 {
				kc.SetCustomKeyIdentifier(k.CustomKeyIdentifier)
			}
			if !k.Start.IsZero() {
				s := k.Start
				kc.SetStartDateTime(&s)
			}
			if !k.End.IsZero() {
				e := k.End
				kc.SetEndDateTime(&e)
			}
			keys = append(keys, kc)
		}
		m.SetKeyCredentials(keys)
	}
	return m
}

func fromSP(m models.ServicePrincipalable) *ServicePrincipal {
	if m == nil {
		return nil
	}
	sp := &ServicePrincipal{ID: deref(m.GetId()), AppID: deref(m.GetAppId()), DisplayName: deref(m.GetDisplayName()), Tags: m.GetTags()}
	for _, s := range m.GetOauth2PermissionScopes() {
		if sp.Scopes == nil {
			sp.Scopes = map[string]string{}
		}
		if u := s.GetId(); u != nil {
			sp.Scopes[deref(s.GetValue())] = u.String()
		}
	}
	return sp
}

func fromGrant(m models.OAuth2PermissionGrantable) *Grant {
	if m == nil {
		return nil
	}
	return &Grant{ID: deref(m.GetId()), ClientID: deref(m.GetClientId()), ResourceID: deref(m.GetResourceId()), ConsentType: deref(m.GetConsentType()), Scope: deref(m.GetScope())}
}
