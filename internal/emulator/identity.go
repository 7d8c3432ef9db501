package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// identityState is the in-memory state of the sign-in service: pending sign-ins, browser
// sessions (the SSO cookie), authorization codes, refresh tokens and device codes. It is not
// persisted: a restart signs everyone out, as a new browser would.
type identityState struct {
	mu       sync.Mutex
	flows    map[string]*authFlow       // pending interactive sign-ins, by id
	browsers map[string]*browserSession // by SSO cookie value
	codes    map[string]*authCode       // by code
	refresh  map[string]*refreshGrant   // by refresh token
	devices  map[string]*deviceGrant    // by device_code
	userCode map[string]string          // user_code -> device_code
}

func newIdentityState() *identityState {
	return &identityState{
		flows:    map[string]*authFlow{},
		browsers: map[string]*browserSession{},
		codes:    map[string]*authCode{},
		refresh:  map[string]*refreshGrant{},
		devices:  map[string]*deviceGrant{},
		userCode: map[string]string{},
	}
}

// Lifetimes, as Entra's defaults.
const (
	codeLifetime    = 10 * time.Minute
	flowLifetime    = 30 * time.Minute
	tokenLifetime   = time.Hour
	refreshLifetime = 90 * 24 * time.Hour
	deviceLifetime  = 15 * time.Minute
	devicePollEvery = 5 // seconds, the interval the devicecode answer asks for
)

// sweepLocked drops expired entries; called with mu held whenever something is added, so the
// maps stay bounded without a background goroutine.
func (s *identityState) sweepLocked(now time.Time) {
	for k, f := range s.flows {
		if now.After(f.Expires) {
			delete(s.flows, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.Expires.Add(codeLifetime)) { // kept a while after expiry to tell "reused" from "unknown"
			delete(s.codes, k)
		}
	}
	for k, g := range s.refresh {
		if now.After(g.Expires) {
			delete(s.refresh, k)
		}
	}
	for k, g := range s.devices {
		if now.After(g.Expires.Add(deviceLifetime)) {
			delete(s.devices, k)
			delete(s.userCode, g.UserCode)
		}
	}
}

// randomToken is an opaque, URL-safe random string with a prefix (Entra's codes start "0.A",
// refresh tokens "1.A").
func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// tenantSeg is the optional tenant path segment of identity routes: External ID hosts also
// answer host-only paths (https://contoso.ciamlogin.com/oauth2/v2.0/logout).
const tenantSeg = `(?:/(?P<tenant>[^/]+))?`

// identityRoutes are the routes of login.microsoftonline.com and <label>.ciamlogin.com. Order
// matters: the first match wins, and the tenant segment would otherwise swallow "common".
func (e *Emulator) identityRoutes() []route {
	return []route{
		rt("login.ping", http.MethodGet, `/_ping`, func(w http.ResponseWriter, r *http.Request, _ params) {
			_, _ = w.Write([]byte("ok"))
		}),
		rt("login.instance", http.MethodGet, `/common/discovery/instance`, e.handleInstanceDiscovery),
		rt("login.discovery", http.MethodGet, tenantSeg+`/v2\.0/\.well-known/openid-configuration`, e.handleDiscovery),
		rt("login.discovery.v1", http.MethodGet, tenantSeg+`/\.well-known/openid-configuration`, e.handleDiscoveryV1),
		rt("login.keys", http.MethodGet, tenantSeg+`/discovery(?:/v2\.0)?/keys`, e.handleKeys),
		rt("login.authorize", "", tenantSeg+`/oauth2/v2\.0/authorize`, e.handleAuthorize),
		rt("login.credentials", "", tenantSeg+`/login`, e.handleLoginPost),
		rt("login.consent", http.MethodPost, tenantSeg+`/consent`, e.handleConsentPost),
		rt("login.signup", "", tenantSeg+`/signup`, e.handleSignUp),
		rt("login.token", http.MethodPost, tenantSeg+`/oauth2/v2\.0/token`, e.handleToken),
		rt("login.devicecode", http.MethodPost, tenantSeg+`/oauth2/v2\.0/devicecode`, e.handleDeviceCode),
		rt("login.deviceauth", "", tenantSeg+`/oauth2/deviceauth`, e.handleDeviceAuth),
		rt("login.logout", "", tenantSeg+`/oauth2/v2\.0/logout`, e.handleLogout),
		rt("login.logout.v1", "", tenantSeg+`/oauth2/logout`, e.handleLogoutV1),
	}
}

// ---- authorities: which tenant an identity request is for ----

// authority is the tenant an identity request addresses, resolved from the host and the path.
type authority struct {
	site   site
	seg    string  // the tenant path segment as asked ("" for host-only External ID paths)
	tenant *Tenant // nil for common / organizations
	multi  string  // "common" or "organizations"
}

// multiTenant reports whether the request came through /common or /organizations.
func (a authority) multiTenant() bool { return a.multi != "" }

// endpointBase is where the tenant's endpoints live as this client reaches them: the tenant id
// (workforce and External ID alike; discovery answers with the GUID even when asked by domain).
func (a authority) endpointBase() string {
	if a.tenant == nil {
		return a.site.base + "/" + a.multi
	}
	return a.site.base + "/" + a.tenant.ID
}

// pageBase is where the sign-in pages post their forms: the path the client used, so the SSO
// cookie and the pages stay on one host.
func (a authority) pageBase() string {
	if a.seg == "" {
		return a.site.base
	}
	return a.site.base + "/" + a.seg
}

// issuer is the issuer of a tenant's tokens as reached through a site: the GUID host for
// External ID (https://{tid}.ciamlogin.com/{tid}/v2.0), login.microsoftonline.com/{tid}/v2.0
// otherwise.
func issuerFor(s site, t *Tenant) string {
	if s.kind == siteCIAM {
		return s.CIAMBase(t.ID) + "/" + t.ID + "/v2.0"
	}
	return s.base + "/" + t.ID + "/v2.0"
}

// tenantByIDOrDomain finds a tenant by its GUID or its onmicrosoft.com domain (not by a bare
// subdomain: login.microsoftonline.com/contoso is not a tenant).
func tenantByIDOrDomain(d *Directory, key string) *Tenant {
	for _, t := range d.Tenants {
		if strings.EqualFold(t.ID, key) || strings.EqualFold(t.Domain, key) {
			return t
		}
	}
	return nil
}

func tenantNotFound(e *Emulator, name string) *aadstsError {
	a := aadsts(e.now(), 90002, "Tenant '"+name+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.")
	return &a
}

// resolveAuthority maps a request's site and tenant segment to a tenant. d must be locked.
func (e *Emulator) resolveAuthority(r *http.Request, ps params, d *Directory) (authority, *aadstsError) {
	a := authority{site: siteOf(r), seg: ps["tenant"]}
	switch a.site.kind {
	case siteCIAM:
		var host *Tenant
		for _, t := range d.Tenants {
			if t.Type == ExternalID && (strings.EqualFold(t.Subdomain(), a.site.label) || strings.EqualFold(t.ID, a.site.label)) {
				host = t
			}
		}
		if host == nil {
			return a, tenantNotFound(e, a.site.label+".ciamlogin.com")
		}
		if a.seg != "" && tenantByIDOrDomain(d, a.seg) != host {
			return a, tenantNotFound(e, a.seg)
		}
		a.tenant = host
	default:
		switch strings.ToLower(a.seg) {
		case "":
			return a, tenantNotFound(e, "")
		case "common", "organizations":
			a.multi = strings.ToLower(a.seg)
			return a, nil
		}
		if a.tenant = tenantByIDOrDomain(d, a.seg); a.tenant == nil {
			return a, tenantNotFound(e, a.seg)
		}
	}
	return a, nil
}
