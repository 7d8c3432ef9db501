package emulator

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// toolScopes are the delegated scopes the wizard asks for (auth.Permissions(true)).
var toolScopes = []string{"User.Read", "Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "EventListener.ReadWrite.All"}

// seededPeople are the people each seeded tenant must have, by UPN, with their roles.
var seededPeople = map[TenantType]map[string][]string{
	Workforce: {
		"adele@contoso.onmicrosoft.com": {RoleGlobalAdmin},
		"megan@contoso.onmicrosoft.com": nil,
		"alex@contoso.onmicrosoft.com":  {RoleAppAdmin},
		"diego@contoso.onmicrosoft.com": {RoleCloudAppAdmin},
		"lee@contoso.onmicrosoft.com":   {RoleAppDeveloper},
	},
	ExternalID: {
		"admin@wingtiptoyscustomers.onmicrosoft.com":         {RoleGlobalAdmin},
		"ada@wingtiptoyscustomers.onmicrosoft.com":           nil,
		"appadmin@wingtiptoyscustomers.onmicrosoft.com":      {RoleAppAdmin},
		"cloudappadmin@wingtiptoyscustomers.onmicrosoft.com": {RoleCloudAppAdmin},
		"developer@wingtiptoyscustomers.onmicrosoft.com":     {RoleAppDeveloper},
		"userflowadmin@wingtiptoyscustomers.onmicrosoft.com": {RoleUserFlowAdmin},
	},
}

// personWith is the seeded UPN holding exactly this role ("" for the member without one).
func personWith(kind TenantType, role string) string {
	for upn, roles := range seededPeople[kind] {
		if (role == "" && len(roles) == 0) || (len(roles) == 1 && roles[0] == role) {
			return upn
		}
	}
	return ""
}

func TestSeededPeopleAndTheirRolesAreInInfo(t *testing.T) {
	e := start(t, Options{})
	b, err := json.Marshal(e.Info())
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Tenants []struct {
			Type  TenantType `json:"type"`
			Users []struct {
				Username string    `json:"username"`
				Password string    `json:"password"`
				Roles    *[]string `json:"roles"`
				Admin    bool      `json:"admin"`
			} `json:"users"`
		} `json:"tenants"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	for _, ti := range in.Tenants {
		want := seededPeople[ti.Type]
		got := map[string]bool{}
		for i, u := range ti.Users {
			got[u.Username] = true
			roles, ok := want[u.Username]
			if !ok || u.Roles == nil || u.Password == "" {
				t.Errorf("%s: user %s (roles %v) is not a seeded person, or has no roles list or password", ti.Type, u.Username, u.Roles)
				continue
			}
			if strings.Join(*u.Roles, ",") != strings.Join(roles, ",") {
				t.Errorf("%s: %s has roles %v, want %v", ti.Type, u.Username, *u.Roles, roles)
			}
			if u.Admin != (len(roles) == 1 && roles[0] == RoleGlobalAdmin) {
				t.Errorf("%s: %s admin = %v; admin marks the Global Administrator only", ti.Type, u.Username, u.Admin)
			}
			// Callers pick "the admin" first and "a non-admin" second, as before roles.
			if (i == 0) != u.Admin || (i == 1 && len(*u.Roles) != 0) {
				t.Errorf("%s: user %d is %s %v; the Global Administrator comes first, a member second", ti.Type, i, u.Username, *u.Roles)
			}
		}
		for upn := range want {
			if !got[upn] {
				t.Errorf("%s: %s is missing", ti.Type, upn)
			}
		}
	}
}

// roleFixture is what one operation of the role matrix works on, made fresh by the automation
// client: an app the person owns, another's app with a service principal, another's app
// without one, and a soft-deleted app.
type roleFixture struct {
	g                 *graphEnv
	tok, userID       string
	own, other, bare  graphResp
	otherSP, graphSP  string
	deletedID, flowID string
}

func newRoleFixture(g *graphEnv, upn string) *roleFixture {
	g.t.Helper()
	f := &roleFixture{g: g, tok: g.userToken(upn, toolScopes...), flowID: stableGUID("wingtiptoyscustomers/flow/SignUpSignIn")}
	g.e.Store().View(func(*Directory) {
		f.userID = g.tenant.UserByName(upn).ID
		f.graphSP = g.tenant.SPByAppID(GraphAppID).ID
	})
	f.own = g.createApp(map[string]any{"displayName": "own"})
	g.must(g.call("POST", "/applications/"+f.own.str("id")+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + f.userID}), 204)
	f.other = g.createApp(map[string]any{"displayName": "other"})
	f.otherSP = g.must(g.call("POST", "/servicePrincipals", map[string]any{"appId": f.other.str("appId")}), 201).str("id")
	f.bare = g.createApp(map[string]any{"displayName": "bare"})
	d := g.createApp(map[string]any{"displayName": "deleted"})
	g.must(g.call("DELETE", "/applications/"+d.str("id"), nil), 204)
	f.deletedID = d.str("id")
	return f
}

func (f *roleFixture) as(method, path string, body any) graphResp {
	return f.g.callAs(f.tok, method, path, body)
}

// TestRoleMatrix: each seeded person, with the wizard's scopes, against each step of the
// journey (tenants.md §1.3): what they may do succeeds, the rest gets 403
// Authorization_RequestDenied "Insufficient privileges to complete the operation.".
func TestRoleMatrix(t *testing.T) {
	soon := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	// statuses lists the expected status per role, in the order of roles below.
	roles := []string{RoleGlobalAdmin, RoleAppAdmin, RoleCloudAppAdmin, RoleAppDeveloper, "", RoleUserFlowAdmin}
	ops := []struct {
		name         string
		externalOnly bool
		do           func(f *roleFixture) graphResp
		statuses     []int // GA, App Admin, Cloud App Admin, App Developer, member, User Flow Admin
	}{
		{"create app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/applications", map[string]any{"displayName": "mine"})
		}, []int{201, 201, 201, 201, 201, 201}},
		{"add secret to own app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/applications/"+f.own.str("id")+"/addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": soon}})
		}, []int{200, 200, 200, 200, 200, 200}},
		{"add secret to another's app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/applications/"+f.other.str("id")+"/addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": soon}})
		}, []int{200, 200, 200, 403, 403, 403}},
		{"update another's app", false, func(f *roleFixture) graphResp {
			return f.as("PATCH", "/applications/"+f.other.str("id"), map[string]any{"displayName": "renamed"})
		}, []int{204, 204, 204, 403, 403, 403}},
		{"update own app", false, func(f *roleFixture) graphResp {
			return f.as("PATCH", "/applications/"+f.own.str("id"), map[string]any{"displayName": "renamed"})
		}, []int{204, 204, 204, 204, 204, 204}},
		{"create service principal of own app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/servicePrincipals", map[string]any{"appId": f.own.str("appId")})
		}, []int{201, 201, 201, 201, 201, 201}},
		{"create service principal of another's app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/servicePrincipals", map[string]any{"appId": f.bare.str("appId")})
		}, []int{201, 201, 201, 201, 403, 403}},
		{"tenant-wide consent", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/oauth2PermissionGrants", map[string]any{"clientId": f.otherSP, "consentType": "AllPrincipals", "resourceId": f.graphSP, "scope": "User.Read"})
		}, []int{201, 201, 201, 403, 403, 403}},
		{"add owner to own app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/applications/"+f.own.str("id")+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + f.otherSP})
		}, []int{204, 204, 204, 204, 204, 204}},
		{"add owner to another's app", false, func(f *roleFixture) graphResp {
			return f.as("POST", "/applications/"+f.other.str("id")+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + f.userID})
		}, []int{204, 204, 204, 403, 403, 403}},
		{"delete own app", false, func(f *roleFixture) graphResp {
			return f.as("DELETE", "/applications/"+f.own.str("id"), nil)
		}, []int{204, 204, 204, 204, 204, 204}},
		{"delete another's app", false, func(f *roleFixture) graphResp {
			return f.as("DELETE", "/applications/"+f.other.str("id"), nil)
		}, []int{204, 204, 204, 403, 403, 403}},
		{"purge a deleted app", false, func(f *roleFixture) graphResp {
			return f.as("DELETE", "/directory/deletedItems/"+f.deletedID, nil)
		}, []int{204, 204, 204, 403, 403, 403}},
		{"read apps", false, func(f *roleFixture) graphResp {
			return f.as("GET", "/applications/"+f.other.str("id"), nil)
		}, []int{200, 200, 200, 200, 200, 200}},
		{"list user flows", true, func(f *roleFixture) graphResp {
			return f.as("GET", "/identity/authenticationEventsFlows", nil)
		}, []int{200, 403, 403, 403, 403, 200}},
		{"create user flow", true, func(f *roleFixture) graphResp {
			return f.as("POST", "/identity/authenticationEventsFlows", map[string]any{"@odata.type": flowType, "displayName": "Flow " + NewGUID()[:8]})
		}, []int{201, 403, 403, 403, 403, 201}},
		{"link app to user flow", true, func(f *roleFixture) graphResp {
			return f.as("POST", "/identity/authenticationEventsFlows/"+f.flowID+"/conditions/applications/includeApplications", map[string]any{"appId": f.other.str("appId")})
		}, []int{201, 403, 403, 403, 403, 201}},
	}
	for _, kind := range []TenantType{Workforce, ExternalID} {
		g := newGraphEnv(t, Options{}, kind)
		for _, op := range ops {
			if op.externalOnly && kind != ExternalID {
				continue
			}
			for i, role := range roles {
				upn := personWith(kind, role)
				if upn == "" {
					continue // no User Flow Administrator in the workforce tenant
				}
				t.Run(fmt.Sprintf("%s/%s/%s", kind, op.name, upn), func(t *testing.T) {
					g.t = t
					r := op.do(newRoleFixture(g, upn))
					if r.status != op.statuses[i] {
						t.Fatalf("status %d, want %d: %s", r.status, op.statuses[i], r.raw)
					}
					if r.status == 403 && (r.code() != "Authorization_RequestDenied" || r.message() != "Insufficient privileges to complete the operation.") {
						t.Fatalf("refusal %s %q, want Authorization_RequestDenied", r.code(), r.message())
					}
				})
			}
		}
	}
}

// ownerIDs lists GET /applications{key}/owners as "type:id"; key is "/{id}" or an alternate key.
func ownerIDs(g *graphEnv, tok, key string) []string {
	g.t.Helper()
	r := g.must(g.callAs(tok, "GET", "/applications"+key+"/owners", nil), 200)
	var out []string
	for _, v := range r.body["value"].([]any) {
		o := v.(map[string]any)
		out = append(out, fmt.Sprintf("%s:%s", o["@odata.type"], o["id"]))
	}
	sort.Strings(out)
	return out
}

// TestCreatorsBecomeOwners: people without an app-admin role own what they create (apps and
// service principals) and it counts toward their quota; admins are not made owners; an app
// creating by itself owns what it creates (tenants.md §1.3, §2).
func TestCreatorsBecomeOwners(t *testing.T) {
	g := newGraphEnv(t, Options{Faults: FaultConfig{ObjectQuota: 2}}, Workforce)
	var autoSP string
	ids := map[string]string{}
	g.e.Store().View(func(*Directory) {
		autoSP = g.tenant.SPByAppID(g.tenant.Automation.AppID).ID
		for _, u := range g.tenant.Users {
			ids[u.UserPrincipalName] = u.ID
		}
	})
	cases := []struct {
		upn       string // "" is the automation client, app-only
		wantOwner string
	}{
		{"adele@contoso.onmicrosoft.com", ""},
		{"alex@contoso.onmicrosoft.com", ""},
		{"diego@contoso.onmicrosoft.com", ""},
		{"lee@contoso.onmicrosoft.com", "#microsoft.graph.user:" + ids["lee@contoso.onmicrosoft.com"]},
		{"megan@contoso.onmicrosoft.com", "#microsoft.graph.user:" + ids["megan@contoso.onmicrosoft.com"]},
		{"", "#microsoft.graph.servicePrincipal:" + autoSP},
	}
	for _, c := range cases {
		t.Run(c.upn, func(t *testing.T) {
			g.t = t
			tok := g.token
			if c.upn != "" {
				tok = g.userToken(c.upn, toolScopes...)
			}
			a := g.must(g.callAs(tok, "POST", "/applications", map[string]any{"displayName": "by " + c.upn}), 201)
			sp := g.must(g.callAs(tok, "POST", "/servicePrincipals", map[string]any{"appId": a.str("appId")}), 201)
			got := strings.Join(ownerIDs(g, tok, "/"+a.str("id")), ",")
			if got != c.wantOwner {
				t.Fatalf("owners %q, want %q", got, c.wantOwner)
			}
			// By alternate key too.
			if alt := strings.Join(ownerIDs(g, tok, "(appId='"+a.str("appId")+"')"), ","); alt != got {
				t.Fatalf("owners by appId %q, want %q", alt, got)
			}
			var spOwners []string
			g.e.Store().View(func(*Directory) { spOwners = g.tenant.SPByID(sp.str("id")).Owners })
			if _, id, _ := strings.Cut(c.wantOwner, ":"); strings.Join(spOwners, ",") != id {
				t.Fatalf("service principal owners %v, want %q", spOwners, id)
			}
			// Two objects made: the non-admin quota (2 here) is full for owners, not for admins.
			r := g.callAs(tok, "POST", "/applications", map[string]any{"displayName": "third"})
			if admin := c.wantOwner == ""; admin != (r.status == 201) {
				t.Fatalf("third object: %d %s (quota applies to non-admins and apps)", r.status, r.raw)
			}
			if r.status != 201 && r.code() != "Directory_QuotaExceeded" {
				t.Fatalf("quota refusal %s", r.raw)
			}
		})
	}
}

func TestOwnersRefErrors(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	a := g.createApp(map[string]any{"displayName": "owned"})
	megan := g.tenant.UserByName("megan@contoso.onmicrosoft.com").ID
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
	}
	path := "/applications/" + a.str("id") + "/owners/$ref"
	cases := []struct {
		name   string
		tok    string
		body   any
		status int
		code   string
	}{
		{"OwnedBy is not enough to add an owner", g.appToken("Application.ReadWrite.OwnedBy"), ref(megan), 403, "Authorization_RequestDenied"},
		{"a malformed reference", g.token, map[string]any{"@odata.id": "megan"}, 400, "Request_BadRequest"},
		{"an object that does not exist", g.token, ref(NewGUID()), 404, "Request_ResourceNotFound"},
		{"added", g.token, ref(megan), 204, ""},
		{"added twice", g.token, ref(megan), 400, "Request_BadRequest"},
	}
	for _, c := range cases {
		r := g.callAs(c.tok, "POST", path, c.body)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.code(), c.status, c.code)
		}
	}
	// Megan now owns it, so she may manage it.
	tok := g.userToken("megan@contoso.onmicrosoft.com", toolScopes...)
	g.must(g.callAs(tok, "PATCH", "/applications/"+a.str("id"), map[string]any{"displayName": "hers now"}), 204)
}

// TestMeMemberOf: each person's directory roles with their template ids, with User.Read only;
// an app-only token gets 400 as on /me.
func TestMeMemberOf(t *testing.T) {
	for _, kind := range []TenantType{Workforce, ExternalID} {
		g := newGraphEnv(t, Options{}, kind)
		for upn, roles := range seededPeople[kind] {
			r := g.must(g.callAs(g.userToken(upn, "User.Read"), "GET", "/me/memberOf", nil), 200)
			var got, want []string
			for _, v := range r.body["value"].([]any) {
				o := v.(map[string]any)
				if o["@odata.type"] != "#microsoft.graph.directoryRole" || o["id"] == o["roleTemplateId"] {
					t.Errorf("%s: item %v", upn, o)
				}
				got = append(got, fmt.Sprintf("%s=%s", o["displayName"], o["roleTemplateId"]))
			}
			for _, role := range roles {
				want = append(want, role+"="+RoleTemplateID(role))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: memberOf %v, want %v", upn, got, want)
			}
		}
		if r := g.call("GET", "/me/memberOf", nil); r.status != 400 {
			t.Errorf("app-only /me/memberOf: %d", r.status)
		}
	}
}

// TestOlderDataFilesGainRoles: a data file written before roles ("admin": true) reads as a Global
// Administrator, and Options.B2CTenant adds the B2C tenant to it once.
func TestOlderDataFilesGainRoles(t *testing.T) {
	var d Directory
	old := `{"tenants":[{"id":"t1","type":"workforce","domain":"old.onmicrosoft.com","users":[
		{"id":"u1","userPrincipalName":"boss@old.onmicrosoft.com","admin":true},
		{"id":"u2","userPrincipalName":"staff@old.onmicrosoft.com"}]}]}`
	if err := json.Unmarshal([]byte(old), &d); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		upgradeDirectory(&d, time.Now(), true)
	}
	users := d.Tenants[0].Users
	cases := []struct {
		got, want string
	}{
		{strings.Join(users[0].Roles, ","), RoleGlobalAdmin},
		{strings.Join(users[1].Roles, ","), ""},
		{fmt.Sprint(len(d.Tenants)), "2"},
		{string(d.Tenants[len(d.Tenants)-1].Type), string(B2C)},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
	if b, _ := json.Marshal(users[0]); strings.Contains(string(b), `"admin"`) {
		t.Errorf("the legacy flag is written back: %s", b)
	}
}
