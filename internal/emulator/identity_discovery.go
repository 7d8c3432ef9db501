package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// writeJSON answers a JSON body the way the sign-in service does (no OData decorations).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// handleDiscovery serves {authority}/v2.0/.well-known/openid-configuration: the tenant document
// with absolute endpoints under the tenant GUID (facts/identity.md §1.2, §1.3), or the common /
// organizations document whose issuer is the literal {tenantid} template (§1.1).
func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request, ps params) {
	var doc map[string]any
	if e.withAuthority(w, r, ps, func(a authority) { doc = e.discoveryDoc(a) }) {
		writeMetadata(w, doc)
	}
}

// withAuthority runs f with the request's authority under the store lock. For an authority
// that does not resolve it answers invalid_tenant and returns false.
func (e *Emulator) withAuthority(w http.ResponseWriter, r *http.Request, ps params, f func(a authority)) bool {
	var fail *aadstsError
	e.store.View(func(d *Directory) {
		a, err := e.resolveAuthority(r, ps, d)
		if err != nil {
			fail = err
			return
		}
		f(a)
	})
	if fail != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", *fail)
		return false
	}
	return true
}

// writeMetadata answers a discovery document: public, and cacheable for a day.
func writeMetadata(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "max-age=86400, private")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, v)
}

// issuer is the issuer the authority's documents name: the tenant's, or for common and
// organizations the literal {tenantid} template.
func (a authority) issuer() string {
	if a.tenant != nil {
		return issuerFor(a.site, a.tenant)
	}
	return a.site.base + "/{tenantid}/v2.0"
}

func (e *Emulator) discoveryDoc(a authority) map[string]any {
	base := a.endpointBase()
	region := any(nil)
	if a.tenant != nil {
		region = "NA"
	}
	doc := map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                a.issuer(),
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     a.site.graphBase + "/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"kerberos_endpoint":     base + "/kerberos",
		"tenant_region_scope":   region,
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          strings.TrimPrefix(a.site.graphBase, "https://"),
		"rbac_url":              "https://pas.windows.net",
	}
	if a.site.kind == siteCIAM {
		// External ID has no Kerberos and no region scope in what samples read; keep the rest.
		delete(doc, "kerberos_endpoint")
	}
	return doc
}

// handleDiscoveryV1 serves the v1 document {authority}/.well-known/openid-configuration (no
// /v2.0), which the `identity` package reads for its sign-out (facts/endpoints.md §2.5, §2.6):
// endpoints under /oauth2/ without v2.0, the tenant GUID in them, issuer
// https://sts.windows.net/{tid}/ (the v1 tokens' issuer), and jwks_uri .../common/discovery/keys.
func (e *Emulator) handleDiscoveryV1(w http.ResponseWriter, r *http.Request, ps params) {
	var doc map[string]any
	if e.withAuthority(w, r, ps, func(a authority) { doc = e.discoveryDocV1(a) }) {
		writeMetadata(w, doc)
	}
}

// discoveryDocV1 is the v1 document: the fields of a captured common document (facts
// §2.6), with the tenant form's GUID endpoints. External ID's v1 document was never captured
// (unverified upstream): it takes the same shape on the {sub}.ciamlogin.com/{tid} endpoints.
func (e *Emulator) discoveryDocV1(a authority) map[string]any {
	base := a.endpointBase()
	issuer, region := "https://sts.windows.net/{tenantid}/", any(nil)
	if a.tenant != nil {
		issuer, region = "https://sts.windows.net/"+a.tenant.ID+"/", "NA"
	}
	jwks := a.site.base + "/common/discovery/keys"
	if a.site.kind == siteCIAM {
		jwks = base + "/discovery/keys"
	}
	doc := map[string]any{
		"token_endpoint":                        base + "/oauth2/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              jwks,
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"scopes_supported":                      []string{"openid"},
		"issuer":                                issuer,
		"microsoft_multi_refresh_token":         true,
		"authorization_endpoint":                base + "/oauth2/authorize",
		"device_authorization_endpoint":         base + "/oauth2/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"},
		"check_session_iframe":  base + "/oauth2/checksession",
		"userinfo_endpoint":     base + "/openid/userinfo",
		"kerberos_endpoint":     base + "/kerberos",
		"tenant_region_scope":   region,
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          strings.TrimPrefix(a.site.graphBase, "https://"),
		"rbac_url":              "https://pas.windows.net",
	}
	if a.site.kind == siteCIAM {
		delete(doc, "kerberos_endpoint")
	}
	return doc
}

// jwk is one key of the JWKS, in Entra's shape (kid == x5t, x5c, per-key issuer).
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer"`
}

// handleKeys serves {authority}/discovery/v2.0/keys from the published signing keys.
func (e *Emulator) handleKeys(w http.ResponseWriter, r *http.Request, ps params) {
	var issuer string
	if !e.withAuthority(w, r, ps, func(a authority) { issuer = a.issuer() }) {
		return
	}
	keys := []jwk{}
	for _, k := range e.keys.published() {
		pub := k.Key.PublicKey
		keys = append(keys, jwk{
			Kty: "RSA", Use: "sig", Kid: k.KID, X5t: k.KID,
			N:      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E:      base64.RawURLEncoding.EncodeToString(bigEndian(pub.E)),
			X5c:    []string{base64.StdEncoding.EncodeToString(k.DER)},
			Issuer: issuer,
		})
	}
	writeMetadata(w, map[string]any{"keys": keys})
}

func bigEndian(v int) []byte {
	var b []byte
	for v > 0 {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
	}
	return b
}

// cloudMetadata is instance discovery's metadata as Entra answers it, for every cloud, whatever
// host was asked about (facts/endpoints.md §1.2, a recorded answer).
var cloudMetadata = []map[string]any{
	{"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net", "aliases": knownAliases},
	{"preferred_network": "login.partner.microsoftonline.cn", "preferred_cache": "login.partner.microsoftonline.cn", "aliases": []string{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}},
	{"preferred_network": "login.microsoftonline.de", "preferred_cache": "login.microsoftonline.de", "aliases": []string{"login.microsoftonline.de"}},
	{"preferred_network": "login.microsoftonline.us", "preferred_cache": "login.microsoftonline.us", "aliases": []string{"login.microsoftonline.us", "login.usgovcloudapi.net"}},
	{"preferred_network": "login-us.microsoftonline.com", "preferred_cache": "login-us.microsoftonline.com", "aliases": []string{"login-us.microsoftonline.com"}},
}

// knownAliases are the public cloud's sign-in hosts.
var knownAliases = []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}

// handleInstanceDiscovery serves /common/discovery/instance (api-version 1.0 and 1.1) as Entra
// does: 200 with the clouds' metadata and the tenant discovery endpoint beside the asked
// authorization endpoint (the tenant segment echoed as given), or 400 invalid_instance
// (AADSTS50049) for a host that is not a sign-in host. The emulator's own hosts are sign-in
// hosts here: its local base (localhost:PORT or 127.0.0.1:PORT) and *.ciamlogin.com get an
// entry of their own, as a cloud's host does, so a client that looks its authority's host up in
// `aliases` (msal-node, the Node workforce sample's own call) finds it.
func (e *Emulator) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	ver := q.Get("api-version")
	if ver == "" {
		ver = "1.1"
	}
	ae := q.Get("authorization_endpoint")
	s := siteOf(r)
	if ae == "" {
		ae = s.loginBase + "/common/oauth2/v2.0/authorize"
	}
	unknown := func() {
		writeOAuthError(w, http.StatusBadRequest, "invalid_instance", aadsts(e.now(), 50049, "Unknown or invalid instance."))
	}
	u, err := url.Parse(ae)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		unknown()
		return
	}
	hostName := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(u.Host), ":443"), ".")
	known := false
	for _, m := range cloudMetadata {
		for _, a := range m["aliases"].([]string) {
			known = known || a == hostName
		}
	}
	own := e.isLocalHost(hostName) || (strings.HasSuffix(hostName, ".ciamlogin.com") && !strings.Contains(hostName, ":"))
	if !known && !own {
		unknown()
		return
	}
	// The tenant discovery endpoint sits beside the authorization endpoint: v1 or v2.0 as asked.
	p := u.Path
	tde := u.Scheme + "://" + u.Host + "/common/v2.0/.well-known/openid-configuration"
	if i := strings.Index(p, "/oauth2/"); i >= 0 {
		suffix := "/v2.0/.well-known/openid-configuration"
		if !strings.HasPrefix(p[i:], "/oauth2/v2.0/") {
			suffix = "/.well-known/openid-configuration"
		}
		tde = u.Scheme + "://" + u.Host + p[:i] + suffix
	}
	meta := append([]map[string]any(nil), cloudMetadata...)
	if own {
		meta = append(meta, map[string]any{"preferred_network": hostName, "preferred_cache": hostName, "aliases": []string{hostName}})
	}
	writeMetadata(w, map[string]any{
		"tenant_discovery_endpoint": tde,
		"api-version":               ver,
		"metadata":                  meta,
	})
}

// isLocalHost reports whether host[:port] is the emulator's local base.
func (e *Emulator) isLocalHost(hostPort string) bool {
	port := portOf(e.ln.Addr())
	return hostPort == strings.TrimPrefix(e.base, "https://") || hostPort == "localhost:"+port || hostPort == "127.0.0.1:"+port
}
