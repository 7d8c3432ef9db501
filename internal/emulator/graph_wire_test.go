package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// What real Graph serves to clients other than ours: the /myorganization alias, the claims of
// its v1.0 access tokens, odata.metadata=none, and requests no route knows still logged and
// subject to faults (issue 19: the CLI for Microsoft 365 needs the first three).

func TestGraphMyOrganizationAlias(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	app := g.createApp(map[string]any{"displayName": "alias app"})
	id := app.str("id")
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		route              string
	}{
		{"list service principals", "GET", "/myorganization/servicePrincipals?$select=id,appId", nil, 200, "graph.servicePrincipals.list"},
		{"camel case", "GET", "/myOrganization/applications?$filter=appId eq '" + app.str("appId") + "'", nil, 200, "graph.applications.list"},
		{"create", "POST", "/myorganization/applications", map[string]any{"displayName": "made by alias"}, 201, "graph.applications.create"},
		{"update, as the Azure portal sends it", "PATCH", "/myorganization/applications/" + id, map[string]any{"notes": "x"}, 204, "graph.applications.update"},
		{"action", "POST", "/myorganization/applications/" + id + "/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "s"}}, 200, "graph.applications.addPassword"},
		{"organization", "GET", "/myorganization/organization", nil, 200, "graph.organization.list"},
		{"not the alias", "GET", "/myorganizations/applications", nil, 400, RouteGraphUnrecognised},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.t = t
			g.e.ResetRequests()
			r := g.must(g.call(tc.method, tc.path, tc.body), tc.status)
			recs := g.e.Requests()
			if len(recs) != 1 || recs[0].Route != tc.route || !strings.Contains(recs[0].Path, strings.SplitN(tc.path, "?", 2)[0][:8]) {
				t.Fatalf("request log %+v, want one %s", recs, tc.route)
			}
			if tc.status == 200 && tc.method == "GET" {
				plain := g.must(g.call(tc.method, strings.Replace(tc.path, "/myorganization", "", 1), nil), 200)
				if len(r.raw) == 0 || (tc.route == "graph.servicePrincipals.list" && len(r.body["value"].([]any)) != len(plain.body["value"].([]any))) {
					t.Fatalf("alias answered %s, the plain path %s", r.raw, plain.raw)
				}
			}
			if tc.method == "POST" && tc.status == 201 && !strings.HasPrefix(r.str("@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#applications") {
				t.Fatalf("@odata.context %q", r.str("@odata.context"))
			}
		})
	}
	// Batch items may use the alias too.
	g.t = t
	r := g.must(g.call("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/myorganization/applications/" + id + "?$select=id"},
	}}), 200)
	if st := r.body["responses"].([]any)[0].(map[string]any)["status"]; st != float64(200) {
		t.Fatalf("batch item: %s", r.raw)
	}
}

func TestGraphUnrecognisedRequestsAreLoggedAndFaulted(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	// Unknown segment and unknown method: Graph's answers, each logged under its route name.
	g.e.ResetRequests()
	if r := g.call("GET", "/nosuchthing", nil); r.status != 400 || r.message() != "Resource not found for the segment 'nosuchthing'." {
		t.Fatalf("unknown segment: %d %s", r.status, r.raw)
	}
	if r := g.call("PUT", "/applications", nil); r.status != 405 {
		t.Fatalf("unknown method: %d %s", r.status, r.raw)
	}
	resp, err := g.c.Get("https://login.microsoftonline.com/no/such/endpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("login unknown: %d", resp.StatusCode)
	}
	var got []string
	for _, r := range g.e.Requests() {
		got = append(got, r.Method+" "+r.Route)
	}
	want := []string{"GET " + RouteGraphUnrecognised, "PUT " + RouteGraphUnrecognised, "GET " + RouteLoginUnrecognised}
	if !slices.Equal(got, want) {
		t.Fatalf("request log %v, want %v", got, want)
	}
	if !slices.Contains(g.e.Routes(), RouteGraphUnrecognised) || !slices.Contains(g.e.Routes(), RouteLoginUnrecognised) {
		t.Fatalf("Routes() lacks the unrecognised routes: %v", g.e.Routes())
	}

	// Faults and latency reach them: "graph.*" latency and a status fault on every route.
	g.e.SetFaults(FaultConfig{Faults: []Fault{
		{Route: "graph.*", Kind: FaultLatency, Delay: Duration(1)},
		{Route: "*", Kind: FaultStatus, Status: 503, Times: 2},
	}})
	if r := g.call("GET", "/nosuchthing", nil); r.status != 503 || r.code() != "serviceNotAvailable" {
		t.Fatalf("faulted unknown Graph request: %d %s", r.status, r.raw)
	}
	resp, err = g.c.Get("https://login.microsoftonline.com/no/such/endpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("faulted unknown login request: %d", resp.StatusCode)
	}
	var kinds []string
	for _, ev := range g.e.FaultEvents() {
		kinds = append(kinds, ev.Route+" "+string(ev.Kind))
	}
	want = []string{RouteGraphUnrecognised + " latency", RouteGraphUnrecognised + " status", RouteLoginUnrecognised + " status"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("fault events %v, want %v", kinds, want)
	}
}

// jwtHeader decodes a JWT's header.
func jwtHeader(t testing.TB, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// Graph's access tokens are v1.0 tokens with the claims the access token claims reference lists
// for v1.0 (appid, appidacr, unique_name, upn, idp …) and the ones clients read to name the
// caller: app_displayname for an app, upn/name for a user.
func TestGraphAccessTokenClaims(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	var spName string
	var admin *User
	e.Store().View(func(*Directory) {
		if sp := wf.SPByAppID(wf.Automation.AppID); sp != nil {
			spName = sp.DisplayName
		}
		for _, u := range wf.Users {
			if u.IsGlobalAdmin() {
				admin = u
			}
		}
	})
	if spName == "" || admin == nil {
		t.Fatal("seed has no automation service principal or no admin")
	}
	status, body := tokenCall(t, e.Client(), "https://login.microsoftonline.com/"+wf.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {wf.Automation.AppID}, "client_secret": {wf.Automation.Secret},
		"scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 {
		t.Fatalf("token: %v", body)
	}
	appTok := body["access_token"].(string)
	userTok, _, err := e.graphAccessToken(GraphTokenRequest{Tenant: wf, AppID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", User: admin, Scopes: []string{"User.Read"}}, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	iss := "https://sts.windows.net/" + wf.ID + "/"
	for _, tc := range []struct {
		name    string
		tok     string
		want    map[string]any
		absent  []string
		present []string
	}{
		{"app-only, client secret", appTok, map[string]any{
			"ver": "1.0", "iss": iss, "idp": iss, "tid": wf.ID, "appid": wf.Automation.AppID, "appidacr": "1",
			"app_displayname": spName, "idtyp": "app",
		}, []string{"upn", "unique_name", "name", "scp", "azp", "azpacr", "preferred_username"}, []string{"oid", "sub", "roles", "uti", "aio", "rh", "iat", "nbf", "exp"}},
		{"delegated, public client", userTok, map[string]any{
			"ver": "1.0", "iss": iss, "tid": wf.ID, "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "appidacr": "0",
			"app_displayname": "Microsoft Azure CLI", "idtyp": "user", "upn": admin.UserPrincipalName,
			"unique_name": admin.UserPrincipalName, "name": admin.DisplayName, "oid": admin.ID, "scp": "User.Read", "acr": "1",
		}, []string{"roles", "azp", "idp"}, []string{"sub", "amr", "wids", "uti"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := claimsOf(t, tc.tok)
			for k, v := range tc.want {
				if cl[k] != v {
					t.Errorf("%s = %v, want %v", k, cl[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := cl[k]; ok {
					t.Errorf("%s present (%v); Graph's v1.0 tokens do not carry it here", k, cl[k])
				}
			}
			for _, k := range tc.present {
				if _, ok := cl[k]; !ok {
					t.Errorf("%s missing", k)
				}
			}
			if cl["idtyp"] == "user" {
				wids, _ := cl["wids"].([]any)
				if !slices.Contains(wids, any(RoleTemplateID(RoleGlobalAdmin))) || !slices.Contains(wids, any(defaultMemberRole)) {
					t.Errorf("wids %v: want the admin's role and the member role", wids)
				}
			}
			h := jwtHeader(t, tc.tok)
			if h["x5t"] == nil || h["x5t"] != h["kid"] || h["nonce"] == nil {
				t.Errorf("header %v: v1.0 tokens repeat kid as x5t, Graph's carry a nonce", h)
			}
			// The token still works on Graph.
			req, _ := http.NewRequest("GET", "https://graph.microsoft.com/v1.0/organization", nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			resp, err := e.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET /organization with the token: %d", resp.StatusCode)
			}
		})
	}
}

func TestGraphODataMetadataNone(t *testing.T) {
	g := newGraphEnv(t, Options{}, ExternalID)
	for i := 0; i < 3; i++ {
		g.createApp(map[string]any{"displayName": "meta app"})
	}
	app := g.createApp(map[string]any{"displayName": "meta app"})
	flow := g.must(g.call("POST", "/identity/authenticationEventsFlows", map[string]any{
		"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow", "displayName": "meta flow",
		"onInteractiveAuthFlowStart": map[string]any{"@odata.type": "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp", "isSignUpAllowed": true},
	}), 201)
	none := "Accept: application/json;odata.metadata=none"
	for _, tc := range []struct {
		name, path string
		headers    []string
		wantNone   bool
		keep       []string // control information metadata=none keeps
	}{
		{"collection with a next page", "/applications?$top=2&$count=true", []string{none, "ConsistencyLevel: eventual"}, true, []string{"@odata.nextLink", "@odata.count"}},
		{"entity", "/applications/" + app.str("id"), []string{none}, true, nil},
		{"entity with $select", "/applications/" + app.str("id") + "?$select=id,displayName", []string{none}, true, nil},
		{"nested annotations and types", "/identity/authenticationEventsFlows/" + flow.str("id"), []string{none}, true, nil},
		{"among other media ranges, spaced", "/applications/" + app.str("id"), []string{"Accept: text/plain, application/json; odata.metadata=none"}, true, nil},
		{"default is minimal", "/applications/" + app.str("id"), nil, false, nil},
		{"explicit minimal", "/applications/" + app.str("id"), []string{"Accept: application/json;odata.metadata=minimal"}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.t = t
			r := g.must(g.call("GET", tc.path, nil, tc.headers...), 200)
			ct := r.header.Get("Content-Type")
			if tc.wantNone {
				if !strings.Contains(ct, "odata.metadata=none") {
					t.Errorf("Content-Type %q", ct)
				}
				if strings.Contains(r.raw, "@odata.context") || strings.Contains(r.raw, "@odata.type") {
					t.Errorf("metadata=none answer keeps control information: %s", r.raw)
				}
				for _, k := range tc.keep {
					if _, ok := r.body[k]; !ok {
						t.Errorf("%s dropped; metadata=none keeps it: %s", k, r.raw)
					}
				}
				if r.body["id"] == nil && r.body["value"] == nil {
					t.Errorf("no data: %s", r.raw)
				}
				return
			}
			if !strings.Contains(ct, "odata.metadata=minimal") || r.str("@odata.context") == "" {
				t.Errorf("minimal metadata: Content-Type %q, body %s", ct, r.raw)
			}
		})
	}
	// Errors are unchanged by the header.
	g.t = t
	if r := g.call("GET", "/applications/00000000-0000-0000-0000-000000000001", nil, none); r.status != 404 || r.code() != "Request_ResourceNotFound" {
		t.Fatalf("error under metadata=none: %d %s", r.status, r.raw)
	}
}
