package emulator

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// TenantType and AutomationClient are the client package's: the info document a client reads
// names them, and the directory stores them as they are.
type (
	TenantType       = emuclient.TenantType
	AutomationClient = emuclient.AutomationClient
)

const (
	Workforce  = emuclient.Workforce
	ExternalID = emuclient.ExternalID
	B2C        = emuclient.B2C
)

// graphTenantType is the value of organization.tenantType in Graph.
func graphTenantType(t TenantType) string {
	switch t {
	case ExternalID:
		return "CIAM"
	case B2C:
		return "AAD B2C"
	}
	return "AAD"
}

// Directory is everything the emulator knows: tenants and their objects. All access goes through
// Store, which holds the lock.
type Directory struct {
	Tenants []*Tenant `json:"tenants"`
}

// Tenant is one directory with its users, app registrations and the rest. The JSON tags here are
// for the --data file; Graph's wire shapes are rendered separately.
type Tenant struct {
	ID          string     `json:"id"`
	DisplayName string     `json:"displayName"`
	Type        TenantType `json:"type"`
	// Domain is the initial verified domain, e.g. contoso.onmicrosoft.com.
	Domain     string           `json:"domain"`
	Users      []*User          `json:"users"`
	Automation AutomationClient `json:"automationClient"`

	Applications      []*Application      `json:"applications"`
	ServicePrincipals []*ServicePrincipal `json:"servicePrincipals"`
	Grants            []*Grant            `json:"oauth2PermissionGrants"`
	UserFlows         []*UserFlow         `json:"userFlows,omitempty"`
	// Settings are the tenant's settings and policies; nil is DefaultSettings.
	Settings *Settings `json:"settings,omitempty"`
}

// Subdomain is the first label of the onmicrosoft.com domain: the External ID host is
// <subdomain>.ciamlogin.com.
func (t *Tenant) Subdomain() string {
	s, _, _ := strings.Cut(t.Domain, ".")
	return s
}

// User is a person who can sign in with a password.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail,omitempty"`
	GivenName         string `json:"givenName,omitempty"`
	Surname           string `json:"surname,omitempty"`
	Password          string `json:"password"`
	// Roles are the person's directory roles by display name (Role* constants); none for a
	// plain member.
	Roles []string `json:"roles,omitempty"`
	// LegacyAdmin is the "admin" flag of data files written before roles: read as Global
	// Administrator on load.
	LegacyAdmin bool `json:"admin,omitempty"`
	// SignedUp marks an External ID customer who created the account through a user flow.
	SignedUp bool `json:"signedUp,omitempty"`
}

// Application is an app registration, with the properties the product uses typed and anything
// else a client sets kept verbatim in Extra.
type Application struct {
	ID                     string                     `json:"id"`
	AppID                  string                     `json:"appId"`
	UniqueName             *string                    `json:"uniqueName"`
	DisplayName            string                     `json:"displayName"`
	Description            *string                    `json:"description"`
	Notes                  *string                    `json:"notes"`
	SignInAudience         string                     `json:"signInAudience"`
	PublisherDomain        string                     `json:"publisherDomain"`
	CreatedDateTime        time.Time                  `json:"createdDateTime"`
	DeletedDateTime        *time.Time                 `json:"deletedDateTime"`
	Tags                   []string                   `json:"tags"`
	IdentifierURIs         []string                   `json:"identifierUris"`
	Web                    WebSettings                `json:"web"`
	Spa                    RedirectSettings           `json:"spa"`
	PublicClient           RedirectSettings           `json:"publicClient"`
	RequiredResourceAccess []RequiredResourceAccess   `json:"requiredResourceAccess"`
	PasswordCredentials    []PasswordCredential       `json:"passwordCredentials"`
	KeyCredentials         []KeyCredential            `json:"keyCredentials"`
	Extra                  map[string]json.RawMessage `json:"extra,omitempty"`
	// CreatedBy is who created it through Graph ("user:<id>" or "app:<appId>"), for the
	// non-admin object quota; empty for seeded objects.
	CreatedBy string `json:"createdBy,omitempty"`
	// Owners are the object ids (users, service principals) of the app's owners.
	Owners []string `json:"owners,omitempty"`

	// credentialWrite is when a credential of the app last changed, for the concurrency window.
	credentialWrite time.Time

	// VisibleAt is when replication makes the object visible to calls other than the one that
	// created it (the replication-lag fault); zero means at once.
	VisibleAt time.Time `json:"-"`
}

// WebSettings is application.web.
type WebSettings struct {
	RedirectURIs          []string              `json:"redirectUris"`
	LogoutURL             *string               `json:"logoutUrl"`
	HomePageURL           *string               `json:"homePageUrl"`
	ImplicitGrantSettings ImplicitGrantSettings `json:"implicitGrantSettings"`
}

// ImplicitGrantSettings is application.web.implicitGrantSettings.
type ImplicitGrantSettings struct {
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
}

// RedirectSettings is application.spa and application.publicClient.
type RedirectSettings struct {
	RedirectURIs []string `json:"redirectUris"`
}

// RequiredResourceAccess is one entry of application.requiredResourceAccess.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is a scope ("Scope") or app role ("Role") id.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// PasswordCredential is a client secret. SecretText is kept to check client authentication and
// is never returned by a read.
type PasswordCredential struct {
	KeyID               string    `json:"keyId"`
	DisplayName         *string   `json:"displayName"`
	Hint                string    `json:"hint"`
	SecretText          string    `json:"secretText"`
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	// VisibleAt is when the token endpoint starts accepting the secret (replication lag).
	VisibleAt time.Time `json:"-"`
}

// KeyCredential is an uploaded certificate (public part).
type KeyCredential struct {
	KeyID               string    `json:"keyId"`
	DisplayName         *string   `json:"displayName"`
	Type                string    `json:"type"`
	Usage               string    `json:"usage"`
	Key                 []byte    `json:"key"` // DER of the certificate (base64 in JSON, as Graph)
	CustomKeyIdentifier []byte    `json:"customKeyIdentifier"`
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
}

// ServicePrincipal is the enterprise application of an app in a tenant.
type ServicePrincipal struct {
	ID                     string                     `json:"id"`
	AppID                  string                     `json:"appId"`
	DisplayName            string                     `json:"displayName"`
	AppOwnerOrganizationID string                     `json:"appOwnerOrganizationId"`
	ServicePrincipalNames  []string                   `json:"servicePrincipalNames"`
	ServicePrincipalType   string                     `json:"servicePrincipalType"`
	AccountEnabled         bool                       `json:"accountEnabled"`
	Tags                   []string                   `json:"tags"`
	CreatedDateTime        time.Time                  `json:"createdDateTime"`
	DeletedDateTime        *time.Time                 `json:"deletedDateTime"`
	OAuth2PermissionScopes []PermissionScope          `json:"oauth2PermissionScopes"`
	AppRoles               []AppRole                  `json:"appRoles"`
	AppRoleAssignments     []string                   `json:"appRoleAssignments,omitempty"` // application permissions granted to this SP, by value
	Extra                  map[string]json.RawMessage `json:"extra,omitempty"`
	CreatedBy              string                     `json:"createdBy,omitempty"` // see Application.CreatedBy
	Owners                 []string                   `json:"owners,omitempty"`    // see Application.Owners
	VisibleAt              time.Time                  `json:"-"`
}

// PermissionScope is a delegated permission a resource exposes.
type PermissionScope struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

// AppRole is an application permission a resource exposes.
type AppRole struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Grant is an oauth2PermissionGrant (delegated consent).
type Grant struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"clientId"`
	ConsentType string    `json:"consentType"`
	PrincipalID *string   `json:"principalId"`
	ResourceID  string    `json:"resourceId"`
	Scope       string    `json:"scope"`
	VisibleAt   time.Time `json:"-"`
}

// UserFlow is an External ID sign-up/sign-in flow (externalUsersSelfServiceSignUpEventsFlow).
type UserFlow struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Description *string  `json:"description"`
	AppIDs      []string `json:"includeApplications"`
	// Attributes collected at sign-up (built-in ones by name, e.g. "email", "displayName").
	Attributes []string        `json:"attributes"`
	Extra      json.RawMessage `json:"extra,omitempty"`
}

// Deleted reports whether an application is soft-deleted.
func (a *Application) Deleted() bool { return a.DeletedDateTime != nil }

// Deleted reports whether a service principal is soft-deleted.
func (s *ServicePrincipal) Deleted() bool { return s.DeletedDateTime != nil }

// Store guards the directory. Handlers take the lock for a whole request's read-modify-write,
// so concurrent requests see each other's writes in a single order.
type Store struct {
	mu   sync.Mutex
	dir  *Directory
	path string // with --data: where Save writes
	// extra wraps the directory into what the --data file holds (the CA and keys too).
	extra func(*Directory) any
}

// Do runs f with the lock held; f may change the directory. When the store persists to a file,
// the change is saved after f returns without error.
func (s *Store) Do(f func(d *Directory) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := f(s.dir); err != nil {
		return err
	}
	return s.saveLocked()
}

// View runs f with the lock held for reading.
func (s *Store) View(f func(d *Directory)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.dir)
}

func (s *Store) saveLocked() error {
	if s.path == "" {
		return nil
	}
	var v any = s.dir
	if s.extra != nil {
		v = s.extra(s.dir)
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, b)
}

// writeFileAtomic writes through a temp file and a rename, mode 0600: the file holds secrets.
func writeFileAtomic(path string, b []byte) error { return atomicfile.Write(path, b, 0o600) }

// Tenant finds a tenant by id (GUID), domain or subdomain, case-insensitively.
func (d *Directory) Tenant(key string) *Tenant {
	key = strings.ToLower(key)
	for _, t := range d.Tenants {
		if strings.ToLower(t.ID) == key || strings.ToLower(t.Domain) == key || strings.ToLower(t.Subdomain()) == key {
			return t
		}
	}
	return nil
}

// AppByAppID finds a live (not soft-deleted) application by appId.
func (t *Tenant) AppByAppID(appID string) *Application {
	for _, a := range t.Applications {
		if strings.EqualFold(a.AppID, appID) && !a.Deleted() {
			return a
		}
	}
	return nil
}

// SPByAppID finds a live service principal by appId.
func (t *Tenant) SPByAppID(appID string) *ServicePrincipal {
	for _, s := range t.ServicePrincipals {
		if strings.EqualFold(s.AppID, appID) && !s.Deleted() {
			return s
		}
	}
	return nil
}

// SPByID finds a live service principal by object id.
func (t *Tenant) SPByID(id string) *ServicePrincipal {
	for _, s := range t.ServicePrincipals {
		if strings.EqualFold(s.ID, id) && !s.Deleted() {
			return s
		}
	}
	return nil
}

// UserByName finds a user by UPN or mail, case-insensitively.
func (t *Tenant) UserByName(name string) *User {
	for _, u := range t.Users {
		if strings.EqualFold(u.UserPrincipalName, name) || (u.Mail != "" && strings.EqualFold(u.Mail, name)) {
			return u
		}
	}
	return nil
}

// UserByID finds a user by object id.
func (t *Tenant) UserByID(id string) *User {
	for _, u := range t.Users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	return nil
}

// FlowForApp returns the user flow an app is linked to, if any.
func (t *Tenant) FlowForApp(appID string) *UserFlow {
	for _, f := range t.UserFlows {
		for _, a := range f.AppIDs {
			if strings.EqualFold(a, appID) {
				return f
			}
		}
	}
	return nil
}
