package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Settings are a tenant's settings and policies that change what its people may do
// (shared/facts/tenants.md §3, §4, §5). They live in the directory (and the --data file) because
// one of them is a consent grant. Options.Settings sets them at start, GET/PUT
// /_emulator/settings at any time.
type Settings struct {
	// AllowedToCreateApps is authorizationPolicy.defaultUserRolePermissions.allowedToCreateApps,
	// "Users can register applications" (default on). Off, people without an app role get 403
	// on POST /applications.
	AllowedToCreateApps bool `json:"allowedToCreateApps"`
	// UserConsent is a ForSelf entry in permissionGrantPoliciesAssigned: the Legacy policy
	// (microsoft-user-default-legacy), under which anyone may consent for themselves to
	// openid, profile, offline_access, email and User.Read (default on). Off, a person who cannot
	// consent for the organization gets "Need admin approval" (AADSTS90094) on the consent page.
	UserConsent bool `json:"userConsent"`
	// ToolConsentGranted is an admin's earlier tenant-wide consent to the wizard's sign-in client
	// (Microsoft Graph Command Line Tools) for toolConsentScopes (default off). On, an
	// AllPrincipals grant exists, so a person without an admin role can sign in to it; off, such a
	// person asking for admin-only scopes gets AADSTS90094 (tenants.md §3.3).
	ToolConsentGranted bool `json:"toolConsentGranted"`
	// AppManagementPolicy is the tenant default app management policy (§4).
	AppManagementPolicy AppManagementPolicy `json:"appManagementPolicy"`
	// CredentialConcurrencyWindow makes a credential change (addPassword, removePassword,
	// keyCredentials PATCH) to an app whose credentials changed less than this long ago answer
	// 409 Directory_ConcurrencyViolation, as Entra does for writes "within a short time frame"
	// (§5); 0 (the default) is off. The real window is undocumented: "500ms" is a fair choice.
	CredentialConcurrencyWindow Duration `json:"credentialConcurrencyWindow,omitempty"`
}

// AppManagementPolicy is the part of defaultAppManagementPolicy.applicationRestrictions
// .passwordCredentials the emulator enforces on addPassword and on secrets in POST /applications.
type AppManagementPolicy struct {
	// BlockPasswordAddition is restrictionType passwordAddition: any new secret gets 400
	// CredentialTypeNotAllowedAsPerAppPolicy.
	BlockPasswordAddition bool `json:"blockPasswordAddition,omitempty"`
	// MaxPasswordLifetime is restrictionType passwordLifetime (maxLifetime): a longer secret gets
	// 400 CredentialInvalidLifetimeAsPerAppPolicy; 0 is no limit.
	MaxPasswordLifetime Duration `json:"maxPasswordLifetime,omitempty"`
}

// DefaultSettings are a new tenant's: users may register apps and consent for themselves, no
// policy, no earlier consent to the wizard's client.
func DefaultSettings() Settings {
	return Settings{AllowedToCreateApps: true, UserConsent: true}
}

// defaultAppManagementPolicyID is the id of the tenant default app management policy (§4).
const defaultAppManagementPolicyID = "00000000-0000-0000-0000-000000000000"

// toolClientID is the wizard's sign-in client, Microsoft Graph Command Line Tools.
const toolClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// toolConsentScopes are what ToolConsentGranted consents to: the OpenID scopes and the Graph
// permissions the wizard asks for in either kind of tenant.
var toolConsentScopes = []string{"openid", "profile", "offline_access", "User.Read", "Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "EventListener.ReadWrite.All",
	"Application.Read.All", "DelegatedPermissionGrant.Read.All", "EventListener.Read.All"}

// settings are the tenant's settings, defaults filled in.
func (t *Tenant) settings() Settings {
	if t.Settings == nil {
		return DefaultSettings()
	}
	return *t.Settings
}

// Settings returns every tenant's settings, by domain.
func (e *Emulator) Settings() map[string]Settings {
	out := map[string]Settings{}
	e.store.View(func(d *Directory) {
		for _, t := range d.Tenants {
			out[t.Domain] = t.settings()
		}
	})
	return out
}

// SetSettings replaces the settings of one tenant (by id, domain or subdomain) or, with tenant
// "", of every tenant.
func (e *Emulator) SetSettings(tenant string, s Settings) error {
	return e.updateSettings(tenant, func(*Settings) error { return nil }, &s)
}

// patchSettings applies a JSON settings document over the current settings of one tenant or
// every tenant: properties it leaves out keep their values.
func (e *Emulator) patchSettings(tenant string, doc []byte) error {
	return e.updateSettings(tenant, func(s *Settings) error {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(s); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		return nil
	}, nil)
}

func (e *Emulator) updateSettings(tenant string, change func(*Settings) error, replace *Settings) error {
	return e.store.Do(func(d *Directory) error {
		var targets []*Tenant
		if tenant == "" {
			targets = d.Tenants
		} else if t := d.Tenant(tenant); t != nil {
			targets = []*Tenant{t}
		} else {
			return fmt.Errorf("settings: no tenant %q (use its id, domain or subdomain)", tenant)
		}
		for _, t := range targets {
			s := t.settings()
			if replace != nil {
				s = *replace
			}
			if err := change(&s); err != nil {
				return err
			}
			if s.AppManagementPolicy.MaxPasswordLifetime < 0 || s.CredentialConcurrencyWindow < 0 {
				return fmt.Errorf("settings: durations must not be negative")
			}
			t.Settings = &s
			e.applyToolConsent(t, s.ToolConsentGranted)
		}
		return nil
	})
}

// applyToolConsent makes the tenant-wide grant to the wizard's client exist or not. d must be
// locked.
func (e *Emulator) applyToolConsent(t *Tenant, on bool) {
	c, _ := firstPartyClient(toolClientID)
	graph := t.SPByAppID(GraphAppID)
	if graph == nil {
		return
	}
	if !on {
		sp := t.SPByAppID(toolClientID)
		if sp == nil {
			return
		}
		var keep []*Grant
		for _, g := range t.Grants {
			if !(strings.EqualFold(g.ClientID, sp.ID) && g.ConsentType == "AllPrincipals") {
				keep = append(keep, g)
			}
		}
		t.Grants = keep
		return
	}
	sp := e.ensureServicePrincipal(t, c)
	for _, g := range t.Grants {
		if strings.EqualFold(g.ClientID, sp.ID) && strings.EqualFold(g.ResourceID, graph.ID) && g.ConsentType == "AllPrincipals" {
			g.Scope = mergeScopes(g.Scope, toolConsentScopes)
			return
		}
	}
	t.Grants = append(t.Grants, &Grant{
		ID: grantID(sp.ID, graph.ID, nil), ClientID: sp.ID, ConsentType: "AllPrincipals",
		ResourceID: graph.ID, Scope: strings.Join(toolConsentScopes, " "),
	})
}

// mergeScopes adds scopes to a space-separated list, case-insensitively once each.
func mergeScopes(have string, add []string) string {
	out := strings.Fields(have)
	for _, a := range add {
		dup := false
		for _, h := range out {
			dup = dup || strings.EqualFold(h, a)
		}
		if !dup {
			out = append(out, a)
		}
	}
	return strings.Join(out, " ")
}
