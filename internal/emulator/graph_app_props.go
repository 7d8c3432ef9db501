package emulator

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PATCH semantics (our reading of Graph, which follows OData v4 §11.4.3): properties absent
// from the body are left alone; primitive and collection properties present in the body
// replace the stored value (so redirectUris, tags, requiredResourceAccess and keyCredentials
// are whole lists, not appends); complex properties (web, web.implicitGrantSettings, spa,
// publicClient) are merged recursively, so PATCH {"web":{"redirectUris":[…]}} keeps
// web.logoutUrl and web.implicitGrantSettings. An explicit null resets a complex property to
// its default. The whole body is validated before anything is stored.

// appWritable are the application properties a client may set that the emulator keeps
// verbatim (rendered back as given); the typed ones are handled below.
var appWritable = map[string]bool{
	"addIns": true, "api": true, "appRoles": true, "authenticationBehaviors": true, "defaultRedirectUri": true,
	"groupMembershipClaims": true, "info": true, "isDeviceOnlyAuthSupported": true, "isFallbackPublicClient": true,
	"logo": true, "nativeAuthenticationApisEnabled": true, "optionalClaims": true, "parentalControlSettings": true,
	"requestSignatureVerification": true, "samlMetadataUrl": true, "serviceManagementReference": true,
	"servicePrincipalLockConfiguration": true, "tokenEncryptionKeyId": true, "windows": true,
}

// appReadOnly are accepted in a body and ignored, as clients echo objects they read.
var appReadOnly = map[string]bool{
	"id": true, "appId": true, "createdDateTime": true, "deletedDateTime": true, "publisherDomain": true,
	"applicationTemplateId": true, "disabledByMicrosoftStatus": true, "verifiedPublisher": true, "certification": true,
}

var signInAudiences = map[string]bool{"AzureADMyOrg": true, "AzureADMultipleOrgs": true, "AzureADandPersonalMicrosoftAccount": true, "PersonalMicrosoftAccount": true}

// applyAppProps applies a create or PATCH body to a (a copy the caller commits on success).
// On failure it has answered with Graph's error.
func (g *gcall) applyAppProps(a *Application, m map[string]json.RawMessage) bool {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := m[k]
		switch {
		case k == "displayName":
			var s string
			if json.Unmarshal(raw, &s) != nil || strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > 256 {
				return g.invalidValue("displayName", "Application")
			}
			a.DisplayName = s
		case k == "description" || k == "notes":
			var s *string
			if json.Unmarshal(raw, &s) != nil || k == "description" && s != nil && utf8.RuneCountInString(*s) > 1024 {
				return g.invalidValue(k, "Application")
			}
			if k == "description" {
				a.Description = s
			} else {
				a.Notes = s
			}
		case k == "signInAudience":
			var s string
			if json.Unmarshal(raw, &s) != nil || !signInAudiences[s] {
				return g.invalidValue("signInAudience", "Application")
			}
			a.SignInAudience = s
		case k == "tags":
			tags, ok := decodeStrings(raw)
			if !ok || !validTags(tags) {
				return g.invalidValue("tags", "Application")
			}
			a.Tags = tags
		case k == "identifierUris":
			uris, ok := decodeStrings(raw)
			if !ok {
				return g.invalidValue("identifierUris", "Application")
			}
			for _, u := range uris {
				if other := g.identifierURIOwner(u); other != nil && other.ID != a.ID {
					msg := "Another object with the same value for property identifierUris already exists."
					return g.fail(http.StatusBadRequest, "Request_BadRequest", msg, GraphErrorDetail{Code: "ObjectConflict", Message: msg, Target: "identifierUris"})
				}
			}
			a.IdentifierURIs = uris
		case k == "web":
			if !g.mergeWeb(a, raw) {
				return false
			}
		case k == "spa" || k == "publicClient":
			rs, ok := g.redirectSettings(k, raw)
			if !ok {
				return false
			}
			if k == "spa" {
				a.Spa = rs
			} else {
				a.PublicClient = rs
			}
		case k == "requiredResourceAccess":
			var rra []RequiredResourceAccess
			if json.Unmarshal(raw, &rra) != nil || !validResourceAccess(rra) {
				return g.invalidValue("requiredResourceAccess", "Application")
			}
			a.RequiredResourceAccess = rra
		case k == "keyCredentials":
			kc, ok := g.keyCredentials(a, raw)
			if !ok {
				return false
			}
			a.KeyCredentials = kc
		case appWritable[k]:
			a.Extra = withExtra(a.Extra, k, raw)
		case appReadOnly[k], k == "passwordCredentials", k == "uniqueName":
			// read-only here; the callers handle passwordCredentials and uniqueName
		default:
			return g.unknownProperty(k, "microsoft.graph.application")
		}
	}
	return true
}

// mergeWeb merges a web object into a.Web (see the PATCH semantics above).
func (g *gcall) mergeWeb(a *Application, raw json.RawMessage) bool {
	if string(raw) == "null" {
		a.Web = WebSettings{}
		return true
	}
	var wm map[string]json.RawMessage
	if json.Unmarshal(raw, &wm) != nil || wm == nil {
		return g.invalidValue("web", "Application")
	}
	web := a.Web
	for k, v := range wm {
		switch k {
		case "redirectUris":
			uris, ok := decodeStrings(v)
			if !ok || len(uris) > 256 {
				return g.invalidValue("web", "Application")
			}
			for _, u := range uris {
				if !validRedirectURI(u, true) {
					return g.invalidValue("web", "Application")
				}
			}
			web.RedirectURIs = uris
		case "logoutUrl":
			var s *string
			if json.Unmarshal(v, &s) != nil || s != nil && !validLogoutURL(*s) {
				return g.invalidValue("web", "Application")
			}
			web.LogoutURL = s
		case "homePageUrl":
			var s *string
			if json.Unmarshal(v, &s) != nil || s != nil && !validAbsoluteURL(*s) {
				return g.invalidValue("web", "Application")
			}
			web.HomePageURL = s
		case "implicitGrantSettings":
			if string(v) == "null" {
				web.ImplicitGrantSettings = ImplicitGrantSettings{}
				continue
			}
			var ig map[string]*bool
			if json.Unmarshal(v, &ig) != nil {
				return g.invalidValue("web", "Application")
			}
			for n, b := range ig {
				val := b != nil && *b
				switch n {
				case "enableIdTokenIssuance":
					web.ImplicitGrantSettings.EnableIDTokenIssuance = val
				case "enableAccessTokenIssuance":
					web.ImplicitGrantSettings.EnableAccessTokenIssuance = val
				default:
					if !strings.Contains(n, "@") {
						return g.unknownProperty(n, "microsoft.graph.implicitGrantSettings")
					}
				}
			}
		case "redirectUriSettings":
			// derived from redirectUris when read; accepted and ignored
		default:
			if !strings.Contains(k, "@") {
				return g.unknownProperty(k, "microsoft.graph.webApplication")
			}
		}
	}
	a.Web = web
	return true
}

// withExtra is a copy of extra (properties kept as sent) with k set to raw, or removed when
// raw is null.
func withExtra(extra map[string]json.RawMessage, k string, raw json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(extra)+1)
	for n, v := range extra {
		out[n] = v
	}
	if string(raw) == "null" {
		delete(out, k)
	} else {
		out[k] = raw
	}
	return out
}

func (g *gcall) unknownProperty(name, typ string) bool {
	return g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", name, typ))
}

// redirectSettings reads spa or publicClient. SPA URIs follow the web rules; public clients
// may use custom schemes (msal…://auth) and http://localhost.
func (g *gcall) redirectSettings(prop string, raw json.RawMessage) (RedirectSettings, bool) {
	if string(raw) == "null" {
		return RedirectSettings{}, true
	}
	var rs struct {
		RedirectURIs []string `json:"redirectUris"`
	}
	if json.Unmarshal(raw, &rs) != nil {
		return RedirectSettings{}, g.invalidValue(prop, "Application")
	}
	for _, u := range rs.RedirectURIs {
		ok := validRedirectURI(u, true)
		if prop == "publicClient" {
			pu, err := url.Parse(u)
			ok = err == nil && pu.Scheme != "" && len(u) <= 256 && !strings.Contains(u, "#")
		}
		if !ok {
			return RedirectSettings{}, g.invalidValue(prop, "Application")
		}
	}
	return RedirectSettings{RedirectURIs: rs.RedirectURIs}, true
}

// validRedirectURI applies Entra's reply URL rules (reply-url.md): absolute, https except
// http://localhost and http://127.0.0.1 (any port), at most 256 characters, no fragment, no
// wildcard, none of ! $ ' ( ) , ; and no IPv6 loopback.
func validRedirectURI(u string, allowLocalHTTP bool) bool {
	if u == "" || len(u) > 256 || strings.ContainsAny(u, "!$'(),;*#") || strings.ContainsFunc(u, unicode.IsSpace) {
		return false
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" || strings.HasPrefix(pu.Host, "[") {
		return false
	}
	switch strings.ToLower(pu.Scheme) {
	case "https":
		return true
	case "http":
		h := strings.ToLower(pu.Hostname())
		return allowLocalHTTP && (h == "localhost" || h == "127.0.0.1")
	}
	return false
}

// validLogoutURL: front-channel logout URLs must be https (https://localhost included).
func validLogoutURL(u string) bool {
	if len(u) > 255 {
		return false
	}
	pu, err := url.Parse(u)
	return err == nil && strings.EqualFold(pu.Scheme, "https") && pu.Host != "" && !strings.Contains(u, "#")
}

func validAbsoluteURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && pu.Host != ""
}

// validTags: each tag 1–256 characters, no whitespace, no duplicates (case-insensitive).
func validTags(tags []string) bool {
	seen := map[string]bool{}
	for _, t := range tags {
		n := utf8.RuneCountInString(t)
		if n < 1 || n > 256 || strings.ContainsFunc(t, unicode.IsSpace) || seen[strings.ToLower(t)] {
			return false
		}
		seen[strings.ToLower(t)] = true
	}
	return true
}

func validResourceAccess(rra []RequiredResourceAccess) bool {
	for _, r := range rra {
		if !guidRE.MatchString(r.ResourceAppID) || len(r.ResourceAppID) != 36 {
			return false
		}
		for _, x := range r.ResourceAccess {
			if len(x.ID) != 36 || !guidRE.MatchString(x.ID) || (x.Type != "Scope" && x.Type != "Role") {
				return false
			}
		}
	}
	return true
}

func decodeStrings(raw json.RawMessage) ([]string, bool) {
	if string(raw) == "null" {
		return []string{}, true
	}
	var s []string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	if s == nil {
		s = []string{}
	}
	return s, true
}

func (g *gcall) identifierURIOwner(u string) *Application {
	for _, a := range g.t.Applications {
		for _, x := range a.IdentifierURIs {
			if strings.EqualFold(x, u) {
				return a
			}
		}
	}
	return nil
}

// keyCredentialIn is a keyCredential in a request body.
type keyCredentialIn struct {
	CustomKeyIdentifier []byte     `json:"customKeyIdentifier"`
	DisplayName         *string    `json:"displayName"`
	EndDateTime         *time.Time `json:"endDateTime"`
	Key                 []byte     `json:"key"`
	KeyID               string     `json:"keyId"`
	StartDateTime       *time.Time `json:"startDateTime"`
	Type                string     `json:"type"`
	Usage               string     `json:"usage"`
}

// keyCredentials reads a keyCredentials list (certificate upload on create or PATCH). The list
// replaces the stored one; an entry naming an existing keyId without a key keeps that key.
// Certificates are stored as DER; customKeyIdentifier defaults to the SHA-1 thumbprint and the
// dates to the certificate's validity.
func (g *gcall) keyCredentials(a *Application, raw json.RawMessage) ([]KeyCredential, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	var in []keyCredentialIn
	if json.Unmarshal(raw, &in) != nil {
		return nil, g.invalidValue("keyCredentials", "Application")
	}
	out := make([]KeyCredential, 0, len(in))
	for _, k := range in {
		if len(k.Key) == 0 && k.KeyID != "" {
			found := false
			for _, x := range a.KeyCredentials {
				if strings.EqualFold(x.KeyID, k.KeyID) {
					out = append(out, x)
					found = true
				}
			}
			if found {
				continue
			}
		}
		if len(k.Key) == 0 || (k.Usage != "Verify" && k.Usage != "Sign") {
			return nil, g.invalidValue("keyCredentials", "Application")
		}
		kc := KeyCredential{KeyID: k.KeyID, DisplayName: k.DisplayName, Type: k.Type, Usage: k.Usage, Key: k.Key, CustomKeyIdentifier: k.CustomKeyIdentifier}
		switch k.Type {
		case "AsymmetricX509Cert", "X509CertAndPassword":
			cert, err := x509.ParseCertificate(k.Key)
			if err != nil {
				return nil, g.invalidValue("keyCredentials", "Application")
			}
			if len(kc.CustomKeyIdentifier) == 0 {
				sum := sha1.Sum(cert.Raw)
				kc.CustomKeyIdentifier = sum[:]
			}
			kc.StartDateTime, kc.EndDateTime = cert.NotBefore.UTC(), cert.NotAfter.UTC()
		case "Symmetric":
			kc.StartDateTime, kc.EndDateTime = g.e.now().UTC(), g.e.now().UTC().AddDate(1, 0, 0)
		default:
			return nil, g.invalidValue("keyCredentials", "Application")
		}
		if k.StartDateTime != nil {
			kc.StartDateTime = k.StartDateTime.UTC()
		}
		if k.EndDateTime != nil {
			kc.EndDateTime = k.EndDateTime.UTC()
		}
		if kc.KeyID == "" {
			kc.KeyID = NewGUID()
		}
		out = append(out, kc)
	}
	return out, true
}
