package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// graphEnv is an emulator with a token for one caller, talking raw HTTP to Graph under its
// real host name.
type graphEnv struct {
	t      testing.TB
	e      *Emulator
	tenant *Tenant
	c      *http.Client
	base   string
	token  string
}

func newGraphEnv(t testing.TB, opts Options, typ TenantType) *graphEnv {
	t.Helper()
	e := start(t, opts)
	g := &graphEnv{t: t, e: e, c: e.Client(), base: "https://graph.microsoft.com/v1.0"}
	e.Store().View(func(d *Directory) {
		for _, x := range d.Tenants {
			if x.Type == typ {
				g.tenant = x
			}
		}
	})
	g.token = g.appToken(AutomationRoles...)
	return g
}

// appToken is an app-only token of the tenant's automation client with these roles.
func (g *graphEnv) appToken(roles ...string) string {
	g.t.Helper()
	tok, _, err := g.e.graphAccessToken(GraphTokenRequest{Tenant: g.tenant, AppID: g.tenant.Automation.AppID, Roles: roles, SPObjectID: NewGUID()}, time.Hour)
	if err != nil {
		g.t.Fatal(err)
	}
	return tok
}

// userToken is a delegated token of a seeded user with these scopes.
func (g *graphEnv) userToken(upn string, scopes ...string) string {
	g.t.Helper()
	var u *User
	g.e.Store().View(func(*Directory) { u = g.tenant.UserByName(upn) })
	if u == nil {
		g.t.Fatalf("no user %s", upn)
	}
	tok, _, err := g.e.graphAccessToken(GraphTokenRequest{Tenant: g.tenant, AppID: "14d82eec-204b-4c2f-b7e8-296a70dab67e", User: u, Scopes: scopes}, time.Hour)
	if err != nil {
		g.t.Fatal(err)
	}
	return tok
}

// graphClient is e.Client() sending a token of the workforce automation client on every request.
func graphClient(t testing.TB, e *Emulator) *http.Client {
	t.Helper()
	var tenant *Tenant
	e.Store().View(func(d *Directory) { tenant = d.Tenants[0] })
	tok, _, err := e.graphAccessToken(GraphTokenRequest{Tenant: tenant, AppID: tenant.Automation.AppID, Roles: AutomationRoles}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Client()
	c.Transport = bearer{token: tok, next: c.Transport}
	return c
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

type graphResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r graphResp) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r graphResp) message() string {
	e, _ := r.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r graphResp) detailCode() string {
	e, _ := r.body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	if len(ds) == 0 {
		return ""
	}
	d, _ := ds[0].(map[string]any)
	c, _ := d["code"].(string)
	return c
}

func (r graphResp) str(k string) string { s, _ := r.body[k].(string); return s }

// call sends a request; body may be nil, a string (sent as is) or a value (JSON). Extra
// headers come as "Name: value".
func (g *graphEnv) call(method, path string, body any, headers ...string) graphResp {
	g.t.Helper()
	return g.callAs(g.token, method, path, body, headers...)
}

func (g *graphEnv) callAs(token, method, path string, body any, headers ...string) graphResp {
	g.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "https://") {
		url = g.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := g.c.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := graphResp{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, &out.body); err != nil {
			g.t.Fatalf("%s %s: body is not JSON: %s", method, path, b)
		}
	}
	return out
}

func (g *graphEnv) must(r graphResp, status int) graphResp {
	g.t.Helper()
	if r.status != status {
		g.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func (g *graphEnv) createApp(body map[string]any) graphResp {
	g.t.Helper()
	return g.must(g.call("POST", "/applications", body), 201)
}

func TestGraphHeadersAndErrorEnvelope(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	r := g.must(g.call("GET", "/organization", nil, "client-request-id: abc-123"), 200)
	for h, want := range map[string]string{
		"Content-Type": graphContentType, "client-request-id": "abc-123", "Cache-Control": "no-cache", "OData-Version": "4.0", "x-ms-resource-unit": "1",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if r.header.Get("request-id") == "" || r.header.Get("x-ms-ags-diagnostic") == "" {
		t.Errorf("request-id or x-ms-ags-diagnostic missing: %v", r.header)
	}
	if r.str("@odata.context") != "https://graph.microsoft.com/v1.0/$metadata#organization" {
		t.Errorf("context %q", r.str("@odata.context"))
	}
	orgs := r.body["value"].([]any)
	org := orgs[0].(map[string]any)
	doms := org["verifiedDomains"].([]any)
	d := doms[0].(map[string]any)
	if org["tenantType"] != "AAD" || org["id"] != g.tenant.ID || d["isInitial"] != true || d["isDefault"] != true || d["name"] != g.tenant.Domain {
		t.Errorf("organization = %v", org)
	}

	cases := []struct {
		name, token, method, path string
		status                    int
		code, msg                 string
	}{
		{"no token", "", "GET", "/applications", 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"bad token", "x.y.z", "GET", "/applications", 401, "InvalidAuthenticationToken", "Access token validation failure."},
		{"no scope", g.appToken("User.Read.All"), "GET", "/applications", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"read only writes", g.appToken("Application.Read.All"), "POST", "/applications", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"missing", g.token, "GET", "/applications/00000000-0000-0000-0000-000000000001", 404, "Request_ResourceNotFound", "Resource '00000000-0000-0000-0000-000000000001' does not exist or one of its queried reference-property objects are not present."},
		{"method", g.token, "PUT", "/applications", 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."},
		{"segment", g.token, "GET", "/nothing", 400, "BadRequest", "Resource not found for the segment 'nothing'."},
		{"me app-only", g.token, "GET", "/me", 400, "BadRequest", "/me request is only valid with delegated authentication flow."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.callAs(tc.token, tc.method, tc.path, nil)
			if r.status != tc.status || r.code() != tc.code || r.message() != tc.msg {
				t.Fatalf("got %d %s %q, want %d %s %q", r.status, r.code(), r.message(), tc.status, tc.code, tc.msg)
			}
			inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
			if len(inner["date"].(string)) != 19 || inner["request-id"] != r.header.Get("request-id") {
				t.Fatalf("innerError = %v", inner)
			}
		})
	}
}

func TestGraphMeForDelegatedCaller(t *testing.T) {
	g := newGraphEnv(t, Options{}, ExternalID)
	tok := g.userToken("ada@wingtiptoyscustomers.onmicrosoft.com", "User.Read")
	r := g.must(g.callAs(tok, "GET", "/me", nil), 200)
	if r.str("userPrincipalName") != "ada@wingtiptoyscustomers.onmicrosoft.com" || r.str("@odata.context") != "https://graph.microsoft.com/v1.0/$metadata#users/$entity" {
		t.Fatalf("me = %v", r.body)
	}
	// User.Read shows the organization without tenantType (TestOrganizationIsTrimmedForUserRead).
	r = g.must(g.callAs(tok, "GET", "/organization", nil), 200)
	if org := r.body["value"].([]any)[0].(map[string]any); org["tenantType"] != nil || org["id"] != g.tenant.ID {
		t.Fatalf("organization for User.Read = %v", org)
	}
}

func TestGraphApplicationValidation(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	web := func(w map[string]any) map[string]any { return map[string]any{"displayName": "x", "web": w} }
	cases := []struct {
		name string
		body any
		code string
		msg  string
	}{
		{"no displayName", map[string]any{"notes": "x"}, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'."},
		{"http redirect", web(map[string]any{"redirectUris": []string{"http://example.com/cb"}}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"ipv6 loopback", web(map[string]any{"redirectUris": []string{"http://[::1]:3000/cb"}}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"forbidden char", web(map[string]any{"redirectUris": []string{"https://localhost/a,b"}}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"quote", web(map[string]any{"redirectUris": []string{"https://localhost/it's"}}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"fragment", web(map[string]any{"redirectUris": []string{"https://localhost/cb#x"}}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"http logout", web(map[string]any{"logoutUrl": "http://localhost:3000/logout"}), "Request_BadRequest", "Invalid value specified for property 'web' of resource 'Application'."},
		{"tag space", map[string]any{"displayName": "x", "tags": []string{"has space"}}, "Request_BadRequest", "Invalid value specified for property 'tags' of resource 'Application'."},
		{"tag empty", map[string]any{"displayName": "x", "tags": []string{""}}, "Request_BadRequest", "Invalid value specified for property 'tags' of resource 'Application'."},
		{"tag dup", map[string]any{"displayName": "x", "tags": []string{"a", "A"}}, "Request_BadRequest", "Invalid value specified for property 'tags' of resource 'Application'."},
		{"tag long", map[string]any{"displayName": "x", "tags": []string{strings.Repeat("t", 257)}}, "Request_BadRequest", "Invalid value specified for property 'tags' of resource 'Application'."},
		{"audience", map[string]any{"displayName": "x", "signInAudience": "Everyone"}, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'."},
		{"unknown property", map[string]any{"displayName": "x", "redirectUris": []string{}}, "BadRequest", "The property 'redirectUris' does not exist on type 'microsoft.graph.application'. Make sure to only use property names that are defined by the type."},
		{"uniqueName empty", map[string]any{"displayName": "x", "uniqueName": ""}, "Request_BadRequest", "Invalid value specified for property 'uniqueName' of resource 'Application'."},
		{"bad json", "{", "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.call("POST", "/applications", tc.body)
			if r.status != 400 || r.code() != tc.code || r.message() != tc.msg {
				t.Fatalf("got %d %s %q", r.status, r.code(), r.message())
			}
		})
	}
	// What is allowed: http://localhost and 127.0.0.1 on any port, https anywhere, https logout.
	ok := g.createApp(map[string]any{"displayName": "ok", "tags": []string{"entra-quickstart", "sample:node"}, "web": map[string]any{
		"redirectUris": []string{"http://localhost:3000/auth/redirect", "http://127.0.0.1:5000/getAToken", "https://localhost:5001/signin-oidc"},
		"logoutUrl":    "https://localhost:5001/signout-callback-oidc",
	}})
	if ok.str("publisherDomain") != g.tenant.Domain || ok.str("signInAudience") != "AzureADMyOrg" || ok.body["uniqueName"] != nil {
		t.Fatalf("defaults: %v", ok.body)
	}
	if _, err := time.Parse(time.RFC3339, ok.str("createdDateTime")); err != nil {
		t.Fatalf("createdDateTime %q: %v", ok.str("createdDateTime"), err)
	}
	if ok.header.Get("Location") == "" || ok.str("@odata.context") != "https://graph.microsoft.com/v1.0/$metadata#applications/$entity" {
		t.Fatalf("201 without Location or context: %v", ok.header)
	}
	// PATCH never adds secrets.
	r := g.call("PATCH", "/applications/"+ok.str("id"), map[string]any{"passwordCredentials": []any{map[string]any{"displayName": "p"}}})
	if r.status != 400 || r.message() != "New password credentials must be generated using service actions." {
		t.Fatalf("PATCH passwordCredentials: %d %s", r.status, r.raw)
	}
}

func TestGraphPatchMergesComplexProperties(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	a := g.createApp(map[string]any{"displayName": "merge", "tags": []string{"a", "b"}, "web": map[string]any{
		"redirectUris": []string{"https://localhost:7274/signin-oidc"}, "logoutUrl": "https://localhost:7274/signout-callback-oidc",
		"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true},
	}})
	id := a.str("id")
	g.must(g.call("PATCH", "/applications/"+id, map[string]any{"tags": []string{"c"}, "web": map[string]any{"redirectUris": []string{"https://localhost:7274/b"}, "implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": true}}}), 204)
	r := g.must(g.call("GET", "/applications/"+id, nil), 200)
	web := r.body["web"].(map[string]any)
	ig := web["implicitGrantSettings"].(map[string]any)
	if fmt.Sprint(r.body["tags"]) != "[c]" || fmt.Sprint(web["redirectUris"]) != "[https://localhost:7274/b]" {
		t.Errorf("collections must be replaced: tags %v uris %v", r.body["tags"], web["redirectUris"])
	}
	if web["logoutUrl"] != "https://localhost:7274/signout-callback-oidc" || ig["enableIdTokenIssuance"] != true || ig["enableAccessTokenIssuance"] != true {
		t.Errorf("complex properties must merge: %v", web)
	}
	g.must(g.call("PATCH", "/applications/"+id, map[string]any{"web": map[string]any{"logoutUrl": nil}}), 204)
	r = g.must(g.call("GET", "/applications/"+id+"?$select=web", nil), 200)
	if w := r.body["web"].(map[string]any); w["logoutUrl"] != nil || len(w["redirectUris"].([]any)) != 1 {
		t.Errorf("null must clear only logoutUrl: %v", w)
	}
	if r.str("@odata.context") != "https://graph.microsoft.com/v1.0/$metadata#applications(web)/$entity" || len(r.body) != 2 {
		t.Errorf("$select: %v", r.body)
	}
}

func TestGraphUpsertByUniqueName(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	prefer := "Prefer: create-if-missing"
	// Raw, percent-encoded and OData-escaped forms of the same key.
	for _, path := range []string{"/applications(uniqueName='o''brien%20app%2F1')", "/applications(uniqueName='o%27brien%20app%2F1')", "/applications%28uniqueName=%27o%27%27brien%20app%2F1%27%29"} {
		t.Run(path, func(t *testing.T) {
			r := g.call("PATCH", path, map[string]any{"displayName": "U"}, prefer)
			if r.status != 201 && r.status != 204 {
				t.Fatalf("upsert: %d %s", r.status, r.raw)
			}
		})
	}
	r := g.must(g.call("GET", "/applications?$filter=displayName eq 'U'", nil), 200)
	if n := len(r.body["value"].([]any)); n != 1 {
		t.Fatalf("three forms of one key made %d apps", n)
	}
	if got := r.body["value"].([]any)[0].(map[string]any)["uniqueName"]; got != "o'brien app/1" {
		t.Fatalf("uniqueName = %v", got)
	}
	// Without the header a missing key is 404; create needs displayName.
	if r := g.call("PATCH", "/applications(uniqueName='nope')", map[string]any{"displayName": "x"}); r.status != 404 || r.code() != "Request_ResourceNotFound" {
		t.Fatalf("update of a missing key: %d %s", r.status, r.raw)
	}
	if r := g.call("PATCH", "/applications(uniqueName='nope')", map[string]any{"notes": "x"}, prefer); r.status != 400 {
		t.Fatalf("upsert-create without displayName: %d %s", r.status, r.raw)
	}
	// gzip bodies, as the Go SDK sends them.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(`{"@odata.type":"#microsoft.graph.application","displayName":"Zipped"}`))
	zw.Close()
	req, _ := http.NewRequest("PATCH", g.base+"/applications(uniqueName='zipped')", &zb)
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Prefer", "create-if-missing")
	resp, err := g.c.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("gzip upsert: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}

func TestGraphAddPasswordAndPolicy(t *testing.T) {
	g := newGraphEnv(t, Options{Faults: FaultConfig{MaxSecretLifetime: Duration(365 * 24 * time.Hour)}}, Workforce)
	a := g.createApp(map[string]any{"displayName": "pw"})
	end := time.Now().UTC().AddDate(0, 6, 0).Truncate(time.Second)
	r := g.must(g.call("POST", "/applications(appId='"+a.str("appId")+"')/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "wizard", "endDateTime": end}}), 200)
	secret := r.str("secretText")
	if len(secret) != 40 || secret[3:6] != "8Q~" || r.str("hint") != secret[:3] || r.str("@odata.context") != "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential" {
		t.Fatalf("addPassword = %v", r.body)
	}
	// The default lifetime (2 years) breaks the 1-year policy.
	r = g.call("POST", "/applications/"+a.str("id")+"/addPassword", map[string]any{})
	if r.status != 400 || r.code() != "CredentialInvalidLifetimeAsPerAppPolicy" || r.detailCode() != "InvalidKeyEndDate" || !strings.HasPrefix(r.message(), "Credential lifetime exceeds the max value allowed as per assigned policy '") {
		t.Fatalf("policy: %d %s", r.status, r.raw)
	}
	// Reads never show the secret.
	got := g.must(g.call("GET", "/applications/"+a.str("id"), nil), 200)
	pcs := got.body["passwordCredentials"].([]any)
	if len(pcs) != 1 || pcs[0].(map[string]any)["secretText"] != nil || pcs[0].(map[string]any)["hint"] != secret[:3] {
		t.Fatalf("read shows %v", pcs)
	}
	keyID := pcs[0].(map[string]any)["keyId"]
	g.must(g.call("POST", "/applications/"+a.str("id")+"/removePassword", map[string]any{"keyId": keyID}), 204)
	got = g.must(g.call("GET", "/applications/"+a.str("id")+"?$select=passwordCredentials", nil), 200)
	if len(got.body["passwordCredentials"].([]any)) != 0 {
		t.Fatalf("removePassword left %v", got.body)
	}
	// Secrets on create come back once.
	c := g.createApp(map[string]any{"displayName": "with pw", "passwordCredentials": []any{map[string]any{"displayName": "p", "endDateTime": end}}})
	if s := c.body["passwordCredentials"].([]any)[0].(map[string]any)["secretText"].(string); len(s) != 40 {
		t.Fatalf("create with password: %v", c.body["passwordCredentials"])
	}
}

func TestGraphReplicationLagAnswers(t *testing.T) {
	g := newGraphEnv(t, Options{Faults: FaultConfig{ReplicationLag: Duration(time.Hour)}}, Workforce)
	a := g.createApp(map[string]any{"displayName": "lag"}) // the creating call sees its own object
	id, appID := a.str("id"), a.str("appId")
	var graphSP string
	g.e.Store().View(func(*Directory) { graphSP = g.tenant.SPByAppID(GraphAppID).ID })
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, detail       string
	}{
		{"get app", "GET", "/applications/" + id, nil, 404, "Request_ResourceNotFound", ""},
		{"addPassword", "POST", "/applications/" + id + "/addPassword", map[string]any{}, 404, "Request_ResourceNotFound", ""},
		{"create SP", "POST", "/servicePrincipals", map[string]any{"appId": appID}, 400, "Request_BadRequest", "NoBackingApplicationObject"},
		{"upsert SP", "PATCH", "/servicePrincipals(appId='" + appID + "')", map[string]any{}, 400, "Request_BadRequest", "NoBackingApplicationObject"},
		{"grant", "POST", "/oauth2PermissionGrants", map[string]any{"clientId": NewGUID(), "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "User.Read"}, 404, "Request_ResourceNotFound", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{}
			if tc.method == "PATCH" {
				h = append(h, "Prefer: create-if-missing")
			}
			r := g.call(tc.method, tc.path, tc.body, h...)
			if r.status != tc.status || r.code() != tc.code || r.detailCode() != tc.detail {
				t.Fatalf("got %d %s %s: %s", r.status, r.code(), r.detailCode(), r.raw)
			}
		})
	}
	r := g.must(g.call("GET", "/applications?$filter=appId eq '"+appID+"'", nil), 200)
	if len(r.body["value"].([]any)) != 0 {
		t.Fatalf("a list shows an unreplicated app")
	}
	// Once replicated, everything works.
	g.e.SetReplicationLag(0)
	g.e.Store().Do(func(*Directory) error {
		for _, x := range g.tenant.Applications {
			x.VisibleAt = time.Time{}
		}
		return nil
	})
	g.must(g.call("POST", "/servicePrincipals", map[string]any{"appId": appID}), 201)
}

func TestGraphServicePrincipalAndGrants(t *testing.T) {
	for _, conflict := range []bool{false, true} {
		t.Run(fmt.Sprint("conflict=", conflict), func(t *testing.T) {
			g := newGraphEnv(t, Options{Faults: FaultConfig{DuplicateGrantConflict: conflict}}, Workforce)
			a := g.createApp(map[string]any{"displayName": "sp", "tags": []string{"entra-quickstart"}})
			sp := g.must(g.call("PATCH", "/servicePrincipals(appId='"+a.str("appId")+"')", map[string]any{}, "Prefer: create-if-missing"), 201)
			g.must(g.call("PATCH", "/servicePrincipals(appId='"+a.str("appId")+"')", map[string]any{}, "Prefer: create-if-missing"), 204)
			if fmt.Sprint(sp.body["servicePrincipalNames"]) != "["+a.str("appId")+"]" || fmt.Sprint(sp.body["tags"]) != "[entra-quickstart]" || sp.str("appDisplayName") != "sp" {
				t.Fatalf("SP = %v", sp.body)
			}
			if r := g.call("POST", "/servicePrincipals", map[string]any{"appId": a.str("appId")}); r.status != 409 || r.code() != "Request_MultipleObjectsWithSameKeyValue" {
				t.Fatalf("second SP: %d %s", r.status, r.raw)
			}
			gsp := g.must(g.call("GET", "/servicePrincipals(appId='"+GraphAppID+"')?$select=id,appId,oauth2PermissionScopes", nil), 200)
			grant := map[string]any{"clientId": sp.str("id"), "consentType": "AllPrincipals", "resourceId": gsp.str("id"), "scope": "openid offline_access User.Read"}
			gr := g.must(g.call("POST", "/oauth2PermissionGrants", grant), 201)
			if gr.str("id") != grantID(sp.str("id"), gsp.str("id"), nil) || gr.body["principalId"] != nil {
				t.Fatalf("grant = %v", gr.body)
			}
			dup := g.call("POST", "/oauth2PermissionGrants", grant)
			wantStatus, wantCode := 400, "Request_BadRequest"
			if conflict {
				wantStatus, wantCode = 409, "Request_MultipleObjectsWithSameKeyValue"
			}
			if dup.status != wantStatus || dup.code() != wantCode || dup.message() != "Permission entry already exists." {
				t.Fatalf("duplicate grant: %d %s", dup.status, dup.raw)
			}
			q := "/oauth2PermissionGrants?$filter=clientId eq '" + sp.str("id") + "' and resourceId eq '" + gsp.str("id") + "'"
			l := g.must(g.call("GET", q, nil), 200)
			if len(l.body["value"].([]any)) != 1 {
				t.Fatalf("filter grants: %v", l.body)
			}
			g.must(g.call("PATCH", "/oauth2PermissionGrants/"+gr.str("id"), map[string]any{"scope": "User.Read"}), 204)
			if got := g.must(g.call("GET", "/oauth2PermissionGrants/"+gr.str("id"), nil), 200); got.str("scope") != "User.Read" {
				t.Fatalf("scope not updated: %v", got.body)
			}
			// A non-admin user cannot consent for the tenant.
			tok := g.userToken("megan@contoso.onmicrosoft.com", "DelegatedPermissionGrant.ReadWrite.All")
			if r := g.callAs(tok, "DELETE", "/oauth2PermissionGrants/"+gr.str("id"), nil); r.status != 403 {
				t.Fatalf("non-admin delete grant: %d", r.status)
			}
			g.must(g.call("DELETE", "/oauth2PermissionGrants/"+gr.str("id"), nil), 204)
		})
	}
}

func TestGraphSoftDeletePurgeRestoreAndQuota(t *testing.T) {
	g := newGraphEnv(t, Options{Faults: FaultConfig{ObjectQuota: 2}}, Workforce)
	prefer := "Prefer: create-if-missing"
	a := g.must(g.call("PATCH", "/applications(uniqueName='del-me')", map[string]any{"displayName": "del"}, prefer), 201)
	g.must(g.call("POST", "/servicePrincipals", map[string]any{"appId": a.str("appId")}), 201)
	// Two objects made: the quota is full.
	if r := g.call("POST", "/applications", map[string]any{"displayName": "third"}); r.status != 403 || r.code() != "Directory_QuotaExceeded" {
		t.Fatalf("quota: %d %s", r.status, r.raw)
	}
	g.must(g.call("DELETE", "/applications(uniqueName='del-me')", nil), 204)
	g.must(g.call("GET", "/applications/"+a.str("id"), nil), 404)
	// Soft-deleted objects still count, and the uniqueName stays reserved.
	if r := g.call("POST", "/applications", map[string]any{"displayName": "third"}); r.code() != "Directory_QuotaExceeded" {
		t.Fatalf("soft-deleted objects must count: %d %s", r.status, r.raw)
	}
	if r := g.call("PATCH", "/applications(uniqueName='del-me')", map[string]any{"displayName": "again"}, prefer); r.status != 400 || r.detailCode() != "ObjectConflict" {
		t.Fatalf("uniqueName of a deleted app: %d %s", r.status, r.raw)
	}
	l := g.must(g.call("GET", "/directory/deletedItems/microsoft.graph.application", nil), 200)
	items := l.body["value"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["deletedDateTime"] == nil || items[0].(map[string]any)["@odata.type"] != "#microsoft.graph.application" {
		t.Fatalf("deleted apps = %v", l.body)
	}
	sps := g.must(g.call("GET", "/directory/deletedItems/microsoft.graph.servicePrincipal", nil), 200)
	if len(sps.body["value"].([]any)) != 1 {
		t.Fatalf("the app's SP was not soft-deleted with it: %v", sps.body)
	}
	g.must(g.call("GET", "/directory/deletedItems", nil), 400)
	// Restore, delete again, purge.
	g.must(g.call("POST", "/directory/deletedItems/"+a.str("id")+"/restore", nil), 200)
	g.must(g.call("GET", "/applications/"+a.str("id"), nil), 200)
	g.must(g.call("DELETE", "/applications/"+a.str("id"), nil), 204)
	g.must(g.call("DELETE", "/directory/deletedItems/"+a.str("id"), nil), 204)
	g.must(g.call("DELETE", "/directory/deletedItems/"+a.str("id"), nil), 404)
	sp := sps.body["value"].([]any)[0].(map[string]any)["id"].(string)
	g.must(g.call("DELETE", "/directory/deletedItems/"+sp, nil), 204)
	// Purged: the quota has room and the name is free.
	g.must(g.call("PATCH", "/applications(uniqueName='del-me')", map[string]any{"displayName": "again"}, prefer), 201)
	// Admin users are exempt.
	tok := g.userToken("adele@contoso.onmicrosoft.com", "Application.ReadWrite.All")
	g.must(g.callAs(tok, "POST", "/applications", map[string]any{"displayName": "admin's"}), 201)
}

func TestGraphPagingCountAndAdvancedQueries(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	for i := 0; i < 7; i++ {
		tags := []string{"entra-quickstart"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		g.createApp(map[string]any{"displayName": fmt.Sprintf("Page %d", i), "tags": tags})
	}
	// Paging with $top; nextLink built from the request's own base, here the local one.
	g.base = g.e.URL() + "/v1.0"
	url := "/applications?$filter=tags/any(t:t eq 'entra-quickstart')&$top=3&$select=id,displayName"
	var seen []string
	for pages := 0; url != ""; pages++ {
		r := g.must(g.call("GET", url, nil), 200)
		if pages == 0 && r.str("@odata.context") != g.e.URL()+"/v1.0/$metadata#applications(id,displayName)" {
			t.Fatalf("context %q", r.str("@odata.context"))
		}
		for _, v := range r.body["value"].([]any) {
			m := v.(map[string]any)
			if len(m) != 2 {
				t.Fatalf("$select leaked properties: %v", m)
			}
			seen = append(seen, m["displayName"].(string))
		}
		url = r.str("@odata.nextLink")
		if url != "" && !strings.HasPrefix(url, g.e.URL()+"/v1.0/applications?") {
			t.Fatalf("nextLink %q not on the request's base", url)
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 7 {
		t.Fatalf("paged through %d apps: %v", len(seen), seen)
	}
	g.base = "https://graph.microsoft.com/v1.0"
	cases := []struct {
		name, path string
		eventual   bool
		status     int
		code       string
		n          int
	}{
		{"startswith and any", "/applications?$filter=startswith(displayName,'Page') and tags/any(t:t eq 'even')", false, 200, "", 4},
		{"in", "/applications?$filter=displayName in ('Page 1','Page 2','none')", false, 200, "", 2},
		{"or", "/applications?$filter=displayName eq 'Page 1' or displayName eq 'page 3'", false, 200, "", 2},
		{"ne needs eventual", "/applications?$filter=displayName ne 'Page 1'", false, 400, "Request_UnsupportedQuery", 0},
		{"not needs eventual", "/applications?$filter=not(tags/any(t:t eq 'even'))", false, 400, "Request_UnsupportedQuery", 0},
		{"endswith needs eventual", "/applications?$filter=endswith(displayName,'1')", false, 400, "Request_UnsupportedQuery", 0},
		{"endswith with eventual", "/applications?$filter=endswith(displayName,' 1')&$count=true", true, 200, "", 1},
		{"not with eventual", "/applications?$filter=not(tags/any(t:t eq 'even')) and startswith(displayName,'Page')&$count=true", true, 200, "", 3},
		{"parse error", "/applications?$filter=displayName eq 'x", false, 400, "BadRequest", 0},
		{"unknown property", "/applications?$filter=colour eq 'red'", false, 400, "BadRequest", 0},
		{"unfilterable property", "/applications?$filter=notes eq 'x'", false, 400, "Request_UnsupportedQuery", 0},
		{"top too big", "/applications?$top=1000", false, 400, "Request_BadRequest", 0},
		{"bad select", "/applications?$select=colour", false, 400, "BadRequest", 0},
		{"search without eventual", "/applications?$search=\"displayName:Page\"", false, 400, "Request_UnsupportedQuery", 0},
		{"orderby with filter needs eventual", "/applications?$filter=startswith(displayName,'P')&$orderby=displayName", false, 400, "Request_UnsupportedQuery", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.eventual {
				h = append(h, "ConsistencyLevel: eventual")
			}
			r := g.call("GET", tc.path, nil, h...)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s: %s", r.status, r.code(), r.raw)
			}
			if tc.status == 200 {
				if n := len(r.body["value"].([]any)); n != tc.n {
					t.Fatalf("%d results, want %d", n, tc.n)
				}
				if tc.eventual && r.body["@odata.count"] != float64(tc.n) {
					t.Fatalf("@odata.count = %v", r.body["@odata.count"])
				}
			}
		})
	}
	// $count=true without the header is ignored; the /$count segment needs it.
	if r := g.must(g.call("GET", "/applications?$count=true", nil), 200); r.body["@odata.count"] != nil {
		t.Fatalf("$count without ConsistencyLevel must be ignored")
	}
	if r := g.call("GET", "/applications/$count", nil); r.status != 400 || r.message() != "$count is not currently supported." {
		t.Fatalf("/$count without header: %d %s", r.status, r.raw)
	}
	if r := g.must(g.call("GET", "/applications/$count", nil, "ConsistencyLevel: eventual"), 200); r.raw != "8" {
		t.Fatalf("/$count = %q (7 + the automation app)", r.raw)
	}
}

func TestGraphUserFlows(t *testing.T) {
	g := newGraphEnv(t, Options{}, ExternalID)
	flows := g.must(g.call("GET", "/identity/authenticationEventsFlows", nil), 200)
	f := flows.body["value"].([]any)[0].(map[string]any)
	if f["@odata.type"] != flowType || f["displayName"] != "SignUpSignIn" {
		t.Fatalf("flows = %v", flows.body)
	}
	flowID := f["id"].(string)
	a := g.createApp(map[string]any{"displayName": "ciam app"})
	link := "/identity/authenticationEventsFlows/" + flowID + "/conditions/applications/includeApplications"
	body := map[string]any{"@odata.type": "#microsoft.graph.authenticationConditionApplication", "appId": a.str("appId")}
	if r := g.call("POST", link, body); r.status != 404 {
		t.Fatalf("link without SP: %d %s", r.status, r.raw)
	}
	g.must(g.call("POST", "/servicePrincipals", map[string]any{"appId": a.str("appId")}), 201)
	r := g.must(g.call("POST", link, body), 201)
	if r.str("appId") != a.str("appId") || !strings.HasSuffix(r.str("@odata.context"), "/includeApplications/$entity") {
		t.Fatalf("link = %v", r.body)
	}
	// onAttributeCollection without its attributeCollectionPage ("Required." in the v1.0
	// resource) is refused; with the page of the reference's example it is created.
	coll := map[string]any{"@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp", "attributes": []any{map[string]any{"id": "email"}, map[string]any{"id": "displayName"}}}
	if r := g.call("POST", "/identity/authenticationEventsFlows", map[string]any{"@odata.type": flowType, "displayName": "Second flow", "onAttributeCollection": coll}); r.status != 400 {
		t.Fatalf("a flow without attributeCollectionPage: %d %s", r.status, r.raw)
	}
	coll["attributeCollectionPage"] = map[string]any{"views": []any{map[string]any{"inputs": []any{
		map[string]any{"attribute": "email", "label": "Email Address", "inputType": "Text", "hidden": true, "editable": false, "writeToDirectory": true, "required": true},
		map[string]any{"attribute": "displayName", "label": "Display Name", "inputType": "text", "hidden": false, "editable": true, "writeToDirectory": true, "required": false},
	}}}}
	created := g.must(g.call("POST", "/identity/authenticationEventsFlows", map[string]any{
		"@odata.type": flowType, "displayName": "Second flow", "onAttributeCollection": coll,
	}), 201)
	other := "/identity/authenticationEventsFlows/" + created.str("id") + "/conditions/applications/includeApplications"
	if r := g.call("POST", other, body); r.status != 400 {
		t.Fatalf("second flow for one app: %d %s", r.status, r.raw)
	}
	l := g.must(g.call("GET", link, nil), 200)
	if len(l.body["value"].([]any)) != 1 {
		t.Fatalf("includeApplications = %v", l.body)
	}
	g.must(g.call("DELETE", link+"/"+a.str("appId"), nil), 204)
	g.must(g.call("POST", other, body), 201)
	// Workforce tenants have none; the permission is checked.
	w := newGraphEnv(t, Options{}, Workforce)
	if r := w.call("GET", "/identity/authenticationEventsFlows", nil); r.status != 400 {
		t.Fatalf("workforce user flows: %d", r.status)
	}
	if r := g.callAs(g.appToken("Application.ReadWrite.All"), "GET", "/identity/authenticationEventsFlows", nil); r.status != 403 {
		t.Fatalf("without EventListener permission: %d", r.status)
	}
}

func TestGraphBatch(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	reqs := []map[string]any{
		{"id": "1", "method": "POST", "url": "/applications", "headers": map[string]string{"content-type": "application/json"}, "body": map[string]any{"displayName": "b1"}, "dependsOn": []string{}},
		{"id": "2", "method": "GET", "url": "/organization", "body": nil, "dependsOn": []string{}},
		{"id": "3", "method": "GET", "url": "/applications/00000000-0000-0000-0000-000000000009", "dependsOn": []string{}},
	}
	r := g.must(g.call("POST", "/$batch", map[string]any{"requests": reqs}), 200)
	got := map[string]map[string]any{}
	for _, x := range r.body["responses"].([]any) {
		m := x.(map[string]any)
		got[m["id"].(string)] = m
	}
	if got["1"]["status"] != float64(201) || got["2"]["status"] != float64(200) || got["3"]["status"] != float64(404) {
		t.Fatalf("batch = %s", r.raw)
	}
	if h := got["1"]["headers"].(map[string]any); h["Content-Type"] != graphContentType {
		t.Fatalf("item headers = %v", h)
	}
	// Sequential with a failing dependency: 424.
	seq := []map[string]any{
		{"id": "a", "method": "GET", "url": "/applications/00000000-0000-0000-0000-000000000009"},
		{"id": "b", "method": "GET", "url": "/organization", "dependsOn": []string{"a"}},
	}
	r = g.must(g.call("POST", "/$batch", map[string]any{"requests": seq}), 200)
	if b := r.body["responses"].([]any)[1].(map[string]any); b["status"] != float64(424) {
		t.Fatalf("dependent of a failed item: %v", b)
	}
	// Faults and the request log apply per item.
	g.e.AddFault(Fault{Route: "graph.organization.list", Kind: FaultStatus, Status: 503, Times: 1})
	g.e.ResetRequests()
	r = g.must(g.call("POST", "/$batch", map[string]any{"requests": reqs[1:2]}), 200)
	if item := r.body["responses"].([]any)[0].(map[string]any); item["status"] != float64(503) {
		t.Fatalf("fault on an item: %v", item)
	}
	routes := map[string]bool{}
	for _, rec := range g.e.Requests() {
		routes[rec.Route] = true
	}
	if !routes["graph.batch"] || !routes["graph.organization.list"] {
		t.Fatalf("request log: %v", routes)
	}
	// Throttling is charged per item: with 3 RU left after the batch's own unit, one of three
	// parallel 1-RU reads is refused with its own Retry-After.
	g.e.SetFaults(FaultConfig{Throttle: &Throttle{ResourceUnits: 3, Window: Duration(time.Hour), Writes: 100, WriteWindow: Duration(time.Hour)}})
	three := []map[string]any{
		{"id": "1", "method": "GET", "url": "/organization"}, {"id": "2", "method": "GET", "url": "/organization"}, {"id": "3", "method": "GET", "url": "/organization"},
	}
	r = g.must(g.call("POST", "/$batch", map[string]any{"requests": three}), 200)
	throttled := 0
	for _, x := range r.body["responses"].([]any) {
		item := x.(map[string]any)
		if item["status"] == float64(429) {
			throttled++
			if item["headers"].(map[string]any)["Retry-After"] == nil {
				t.Fatalf("429 item without Retry-After: %v", item)
			}
		}
	}
	if throttled != 1 {
		t.Fatalf("%d items throttled, want 1: %s", throttled, r.raw)
	}
	g.e.SetFaults(FaultConfig{})
	// Malformed batches are 400.
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/organization"}
	}
	bad := []struct {
		name string
		reqs []map[string]any
	}{
		{"too many", many},
		{"duplicate id", []map[string]any{{"id": "x", "method": "GET", "url": "/me"}, {"id": "X", "method": "GET", "url": "/me"}}},
		{"later dependency", []map[string]any{{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"2"}}, {"id": "2", "method": "GET", "url": "/me"}}},
		{"mixed", []map[string]any{{"id": "1", "method": "GET", "url": "/me"}, {"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"1"}}, {"id": "3", "method": "GET", "url": "/me"}}},
		{"body without content type", []map[string]any{{"id": "1", "method": "POST", "url": "/applications", "body": map[string]any{"displayName": "x"}}}},
		{"absolute url", []map[string]any{{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if r := g.call("POST", "/$batch", map[string]any{"requests": tc.reqs}); r.status != 400 {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
}

func TestGraphGrantIDFormat(t *testing.T) {
	// The documented example (facts/graph.md §4).
	got := grantID("ef969797-201d-4f6b-960c-e9ed5f31dab5", "943603e4-e787-4fe9-93d1-e30f749aae39", nil)
	if got != "l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk" {
		t.Fatalf("grant id = %s", got)
	}
}

func TestGraphCertificateUpload(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nb := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "aspnet-workforce"}, NotBefore: nb, NotAfter: nb.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	thumb := sha1.Sum(der)
	a := g.createApp(map[string]any{"displayName": "cert", "keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(der), "displayName": "CN=aspnet-workforce",
	}}})
	kc := a.body["keyCredentials"].([]any)[0].(map[string]any)
	if kc["key"] != nil || kc["customKeyIdentifier"] != base64.StdEncoding.EncodeToString(thumb[:]) || kc["endDateTime"] != graphTime(nb.AddDate(1, 0, 0)) {
		t.Fatalf("keyCredential = %v", kc)
	}
	one := g.must(g.call("GET", "/applications/"+a.str("id")+"?$select=id,keyCredentials", nil), 200)
	if got := one.body["keyCredentials"].([]any)[0].(map[string]any)["key"]; got != base64.StdEncoding.EncodeToString(der) {
		t.Fatalf("$select=keyCredentials must return the DER: %v", got)
	}
	// PATCH keeps a listed keyId without its key; a broken certificate is refused.
	g.must(g.call("PATCH", "/applications/"+a.str("id"), map[string]any{"keyCredentials": []any{map[string]any{"keyId": kc["keyId"]}}}), 204)
	if r := g.call("PATCH", "/applications/"+a.str("id"), map[string]any{"keyCredentials": []any{map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}}}); r.status != 400 {
		t.Fatalf("broken certificate: %d %s", r.status, r.raw)
	}
	var stored []KeyCredential
	g.e.Store().View(func(*Directory) { stored = g.tenant.AppByAppID(a.str("appId")).KeyCredentials })
	if len(stored) != 1 || !bytes.Equal(stored[0].Key, der) {
		t.Fatalf("stored key credentials: %+v", stored)
	}
}

// uniqueName may be set by POST and by PATCH (once), and stays unique, a soft-deleted app's
// included, until it is purged.
func TestGraphUniqueNameSetByPostAndPatch(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	a := g.createApp(map[string]any{"displayName": "by post", "uniqueName": "set-by-post"})
	if a.body["uniqueName"] != "set-by-post" {
		t.Fatalf("POST uniqueName: %v", a.body["uniqueName"])
	}
	g.must(g.call("GET", "/applications(uniqueName='set-by-post')", nil), 200)
	if r := g.call("POST", "/applications", map[string]any{"displayName": "dup", "uniqueName": "SET-BY-POST"}); r.status != 400 || r.code() != "Request_BadRequest" ||
		r.message() != "Another object with the same value for property uniqueName already exists." {
		t.Fatalf("taken uniqueName on POST: %d %s", r.status, r.raw)
	}
	b := g.createApp(map[string]any{"displayName": "by patch"})
	g.must(g.call("PATCH", "/applications/"+b.str("id"), map[string]any{"uniqueName": "set-by-patch"}), 204)
	if r := g.must(g.call("GET", "/applications(uniqueName='set-by-patch')", nil), 200); r.str("id") != b.str("id") {
		t.Fatalf("PATCH uniqueName: %v", r.body)
	}
	g.must(g.call("PATCH", "/applications/"+b.str("id"), map[string]any{"uniqueName": "set-by-patch", "notes": "same name again"}), 204)
	if r := g.call("PATCH", "/applications/"+b.str("id"), map[string]any{"uniqueName": "another"}); r.status != 400 {
		t.Fatalf("changing a set uniqueName: %d %s", r.status, r.raw)
	}
	if r := g.call("PATCH", "/applications/"+b.str("id"), map[string]any{"uniqueName": "set-by-post"}); r.status != 400 {
		t.Fatalf("another app's uniqueName: %d %s", r.status, r.raw)
	}
	// Soft-deleted: still taken.
	g.must(g.call("DELETE", "/applications/"+a.str("id"), nil), 204)
	if r := g.call("POST", "/applications", map[string]any{"displayName": "after delete", "uniqueName": "set-by-post"}); r.status != 400 {
		t.Fatalf("a soft-deleted app's uniqueName: %d %s", r.status, r.raw)
	}
}

// $select=keyCredentials brings each key's bytes, on lists as on one object, and such reads
// are limited to 150 a minute per tenant: the 151st is a 429 with Retry-After; reads without
// keyCredentials go on.
func TestGraphKeyCredentialsSelectLimit(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	_, cert := newTestCert(t)
	now := time.Now().UTC()
	a := g.createApp(map[string]any{"displayName": "with a key", "keyCredentials": []any{map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify",
		"key": cert.Raw, "displayName": "CN=test", "startDateTime": now.Format(time.RFC3339), "endDateTime": now.Add(24 * time.Hour).Format(time.RFC3339)}}})
	keyOf := func(r graphResp, list bool) any {
		obj := r.body
		if list {
			obj = r.body["value"].([]any)[0].(map[string]any)
		}
		return obj["keyCredentials"].([]any)[0].(map[string]any)["key"]
	}
	filter := "$filter=" + url.QueryEscape("appId eq '"+a.str("appId")+"'")
	if k := keyOf(g.must(g.call("GET", "/applications?"+filter, nil), 200), true); k != nil {
		t.Fatalf("list without $select: key %v", k)
	}
	if k := keyOf(g.must(g.call("GET", "/applications?"+filter+"&$select=id,keyCredentials", nil), 200), true); k == nil {
		t.Fatalf("list with $select=keyCredentials: no key")
	}
	if k := keyOf(g.must(g.call("GET", "/applications/"+a.str("id")+"?$select=keyCredentials", nil), 200), false); k == nil {
		t.Fatalf("one object with $select=keyCredentials: no key")
	}
	for i := 2; i < DocumentedKeyCredentialReads; i++ {
		g.must(g.call("GET", "/applications/"+a.str("id")+"?$select=id,keyCredentials", nil), 200)
	}
	r := g.call("GET", "/applications?"+filter+"&$select=keyCredentials", nil)
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || r.code() != "TooManyRequests" || err != nil || ra < 1 || ra > 60 {
		t.Fatalf("read %d: %d Retry-After %q %s", DocumentedKeyCredentialReads+1, r.status, r.header.Get("Retry-After"), r.raw)
	}
	g.must(g.call("GET", "/applications/"+a.str("id")+"?$select=id,displayName", nil), 200)
}
