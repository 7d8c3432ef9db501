package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// GraphAppID is the appId of Microsoft Graph, the same in every tenant.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Microsoft Graph's delegated permission (scope) ids, the same in every tenant.
var graphScopes = []PermissionScope{
	{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Value: "User.Read", Type: "User"},
	{ID: "37f7f235-527c-4136-accd-4a02d197296e", Value: "openid", Type: "User"},
	{ID: "14dad69e-099b-42c9-810b-d002981feec1", Value: "profile", Type: "User"},
	{ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", Value: "offline_access", Type: "User"},
	{ID: "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", Value: "email", Type: "User"},
	{ID: "bdfbf15f-ee85-4955-8675-146e8e5296b5", Value: "Application.ReadWrite.All", Type: "Admin"},
	{ID: "41ce6ca6-6826-4807-84f1-1c82854f7ee5", Value: "DelegatedPermissionGrant.ReadWrite.All", Type: "Admin"},
	{ID: "0edf5e9e-4ce8-468a-8432-d08631d18c43", Value: "EventListener.ReadWrite.All", Type: "Admin"},
	{ID: "06da0dbc-49e2-44d2-8312-53f166ab848a", Value: "Directory.Read.All", Type: "Admin"},
	// The read scopes the wizard's read-only commands ask for (ids unverified: only the values
	// are checked).
	{ID: "c79f8feb-a9db-4090-85f9-90d820caa0eb", Value: "Application.Read.All", Type: "Admin"},
	{ID: "a197cdc4-a8e7-4d49-9d35-4ca7c83887b4", Value: "DelegatedPermissionGrant.Read.All", Type: "Admin"},
	{ID: "f7dd3bed-5eec-48da-bc73-1c0ef50bc9a1", Value: "EventListener.Read.All", Type: "Admin"},
}

// Microsoft Graph's application permission (app role) ids. Unverified ids are marked; only the
// values are checked by the emulator, the ids are shown by Graph reads.
var graphAppRoles = []AppRole{
	{ID: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", Value: "Application.ReadWrite.All"},
	{ID: "8e8e4742-1d95-4f68-9d56-6ee75648c72a", Value: "DelegatedPermissionGrant.ReadWrite.All"},
	{ID: "498476ce-e0fe-48b0-b801-37ba7e2685c6", Value: "Organization.Read.All"},
	{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Value: "Directory.Read.All"},
	{ID: "df021288-bdef-4463-88db-98f22de89214", Value: "User.Read.All"},
	{ID: "2f3e6f8c-093b-4c57-a58b-ba5ce494a169", Value: "EventListener.ReadWrite.All"},
}

// AutomationRoles are the application permissions the seeded automation client holds: what the
// wizard needs to provision, consent, link user flows and reset.
var AutomationRoles = []string{
	"Application.ReadWrite.All",
	"DelegatedPermissionGrant.ReadWrite.All",
	"Organization.Read.All",
	"EventListener.ReadWrite.All",
}

// DemoPassword is the password of every seeded user: the emulator is for local testing only.
const DemoPassword = "Passw0rd!demo"

// stableGUID derives a GUID-shaped id from a name, so seeded tenants and users have the same ids
// on every start (handouts and docs can name them).
func stableGUID(name string) string {
	h := sha256.Sum256([]byte("entra-quickstart-emulator:" + name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// NewGUID returns a random version-4 GUID in Graph's lower-case form.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// NewSecretText returns a client secret of Entra's shape: 40 characters from the alphabet
// [A-Za-z0-9~._-] with "8Q~" at positions 3-5.
func NewSecretText() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	copy(b[3:6], "8Q~")
	return string(b)
}

// seedDirectory makes the directory the emulator starts with: a workforce tenant and an External
// ID tenant (and an Azure AD B2C one when asked), each with users, an automation client,
// Microsoft Graph's service principal, and for External ID a sign-up/sign-in user flow.
//
// Each tenant is shared by several people with different directory roles (tenants.md §7): the
// first user is the Global Administrator and the second a member without a role, as before
// roles existed, so callers that pick "the admin" or "a non-admin" keep working.
func seedDirectory(now time.Time, b2c bool) *Directory {
	wf := seedTenant(now, Workforce, "contoso", "Contoso", []User{
		{DisplayName: "Adele Vance", UserPrincipalName: "adele@contoso.onmicrosoft.com", GivenName: "Adele", Surname: "Vance", Roles: []string{RoleGlobalAdmin}},
		{DisplayName: "Megan Bowen", UserPrincipalName: "megan@contoso.onmicrosoft.com", GivenName: "Megan", Surname: "Bowen"},
		{DisplayName: "Alex Wilber", UserPrincipalName: "alex@contoso.onmicrosoft.com", GivenName: "Alex", Surname: "Wilber", Roles: []string{RoleAppAdmin}},
		{DisplayName: "Diego Siciliani", UserPrincipalName: "diego@contoso.onmicrosoft.com", GivenName: "Diego", Surname: "Siciliani", Roles: []string{RoleCloudAppAdmin}},
		{DisplayName: "Lee Gu", UserPrincipalName: "lee@contoso.onmicrosoft.com", GivenName: "Lee", Surname: "Gu", Roles: []string{RoleAppDeveloper}},
	})
	ex := seedTenant(now, ExternalID, "wingtiptoyscustomers", "Wingtip Toys customers", []User{
		{DisplayName: "Admin", UserPrincipalName: "admin@wingtiptoyscustomers.onmicrosoft.com", Roles: []string{RoleGlobalAdmin}},
		{DisplayName: "Ada Customer", UserPrincipalName: "ada@wingtiptoyscustomers.onmicrosoft.com", Mail: "ada@example.com", GivenName: "Ada", Surname: "Customer"},
		{DisplayName: "App Admin", UserPrincipalName: "appadmin@wingtiptoyscustomers.onmicrosoft.com", Roles: []string{RoleAppAdmin}},
		{DisplayName: "Cloud App Admin", UserPrincipalName: "cloudappadmin@wingtiptoyscustomers.onmicrosoft.com", Roles: []string{RoleCloudAppAdmin}},
		{DisplayName: "App Developer", UserPrincipalName: "developer@wingtiptoyscustomers.onmicrosoft.com", Roles: []string{RoleAppDeveloper}},
		{DisplayName: "User Flow Admin", UserPrincipalName: "userflowadmin@wingtiptoyscustomers.onmicrosoft.com", Roles: []string{RoleUserFlowAdmin}},
	})
	desc := "Sign up or sign in with email and password"
	ex.UserFlows = append(ex.UserFlows, &UserFlow{
		ID:          stableGUID("wingtiptoyscustomers/flow/SignUpSignIn"),
		DisplayName: "SignUpSignIn",
		Description: &desc,
		Attributes:  []string{"email", "displayName"},
	})
	d := &Directory{Tenants: []*Tenant{wf, ex}}
	if b2c {
		d.Tenants = append(d.Tenants, seedB2C(now))
	}
	return d
}

// seedB2C is the Azure AD B2C tenant Options.B2CTenant adds.
func seedB2C(now time.Time) *Tenant {
	return seedTenant(now, B2C, "fabrikamb2c", "Fabrikam B2C", []User{
		{DisplayName: "Admin", UserPrincipalName: "admin@fabrikamb2c.onmicrosoft.com", Roles: []string{RoleGlobalAdmin}},
		{DisplayName: "Bo Member", UserPrincipalName: "bo@fabrikamb2c.onmicrosoft.com", GivenName: "Bo", Surname: "Member"},
	})
}

func seedTenant(now time.Time, typ TenantType, sub, name string, users []User) *Tenant {
	t := &Tenant{
		ID:          stableGUID(sub),
		DisplayName: name,
		Type:        typ,
		Domain:      sub + ".onmicrosoft.com",
	}
	for i := range users {
		u := users[i]
		u.ID = stableGUID(sub + "/user/" + u.UserPrincipalName)
		u.Password = DemoPassword
		t.Users = append(t.Users, &u)
	}
	t.ServicePrincipals = append(t.ServicePrincipals, &ServicePrincipal{
		ID:                     stableGUID(sub + "/sp/graph"),
		AppID:                  GraphAppID,
		DisplayName:            "Microsoft Graph",
		AppOwnerOrganizationID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
		ServicePrincipalNames:  []string{GraphAppID, "https://graph.microsoft.com", "https://graph.microsoft.com/"},
		ServicePrincipalType:   "Application",
		AccountEnabled:         true,
		CreatedDateTime:        now,
		OAuth2PermissionScopes: graphScopes,
		AppRoles:               graphAppRoles,
	})
	// The automation client: an app registration with a secret whose service principal holds
	// the application permissions in AutomationRoles.
	auto := &Application{
		ID:              stableGUID(sub + "/app/automation"),
		AppID:           stableGUID(sub + "/appid/automation"),
		DisplayName:     "entra-quickstart automation",
		SignInAudience:  "AzureADMyOrg",
		PublisherDomain: t.Domain,
		CreatedDateTime: now,
		Tags:            []string{},
		PasswordCredentials: []PasswordCredential{{
			KeyID:         stableGUID(sub + "/secret/automation"),
			StartDateTime: now,
			EndDateTime:   now.AddDate(2, 0, 0),
		}},
	}
	secret := NewSecretText()
	auto.PasswordCredentials[0].SecretText = secret
	auto.PasswordCredentials[0].Hint = secret[:3]
	t.Applications = append(t.Applications, auto)
	t.ServicePrincipals = append(t.ServicePrincipals, &ServicePrincipal{
		ID:                     stableGUID(sub + "/sp/automation"),
		AppID:                  auto.AppID,
		DisplayName:            auto.DisplayName,
		AppOwnerOrganizationID: t.ID,
		ServicePrincipalNames:  []string{auto.AppID},
		ServicePrincipalType:   "Application",
		AccountEnabled:         true,
		CreatedDateTime:        now,
		AppRoleAssignments:     append([]string(nil), AutomationRoles...),
	})
	t.Automation = AutomationClient{AppID: auto.AppID, Secret: secret, Roles: AutomationRoles, ObjectID: auto.ID}
	return t
}

// String shows a tenant without secrets, for logs.
func (t *Tenant) String() string {
	return fmt.Sprintf("%s tenant %s (%s)", t.Type, t.Domain, t.ID)
}

// upgradeDirectory brings a directory read from an older data file up to date: the "admin" flag
// becomes the Global Administrator role, and a B2C tenant is added when asked for.
func upgradeDirectory(d *Directory, now time.Time, b2c bool) {
	hasB2C := false
	for _, t := range d.Tenants {
		hasB2C = hasB2C || t.Type == B2C
		for _, u := range t.Users {
			if u.LegacyAdmin && len(u.Roles) == 0 {
				u.Roles = []string{RoleGlobalAdmin}
			}
			u.LegacyAdmin = false
		}
	}
	if b2c && !hasB2C {
		d.Tenants = append(d.Tenants, seedB2C(now))
	}
}
