package emulator

import (
	"strings"
	"testing"
)

// examplePath turns a table entry's call into a request that reaches its route.
func examplePath(call string) (method, path string) {
	method, path, _ = strings.Cut(call, " ")
	path, _, _ = strings.Cut(path, " ")
	r := strings.NewReplacer("{id}", "0b1c2d3e-0000-4000-8000-000000000001", "{appId}", "0b1c2d3e-0000-4000-8000-000000000002", "…", "x")
	return method, r.Replace(path)
}

// every permission any route names, plus User.Read: a token with all but a route's list.
func permissionUniverse() []string {
	seen := map[string]bool{"User.Read": true}
	out := []string{"User.Read"}
	for _, p := range graphPermissions {
		for _, x := range append(append([]string{}, p.Delegated...), p.Application...) {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

func without(all, drop []string) []string {
	var out []string
	for _, a := range all {
		keep := true
		for _, d := range drop {
			keep = keep && !strings.EqualFold(a, d)
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

// TestEveryRouteRefusesATokenWithoutItsPermission: for each route, a token holding every other
// permission gets Graph's 403, and one holding only the least privileged permission gets past
// the check, delegated and app-only alike. The request log proves the request met that route.
func TestEveryRouteRefusesATokenWithoutItsPermission(t *testing.T) {
	for _, kind := range []TenantType{Workforce, ExternalID} {
		g := newGraphEnv(t, Options{}, kind)
		admin := ""
		g.e.Store().View(func(*Directory) {
			for _, u := range g.tenant.Users {
				if u.IsGlobalAdmin() {
					admin = u.UserPrincipalName
				}
			}
		})
		universe := permissionUniverse()
		for _, p := range graphPermissions {
			method, path := examplePath(p.Call)
			check := func(who, token string, wantDenied bool) {
				t.Helper()
				g.e.ResetRequests()
				r := g.callAs(token, method, path, map[string]any{})
				if denied := r.status == 403 && r.code() == "Authorization_RequestDenied"; denied != wantDenied {
					t.Errorf("%s %s %s as %s: status %d %s, want denied=%v", kind, method, path, who, r.status, r.code(), wantDenied)
				}
				var routes []string
				for _, rec := range g.e.Requests() {
					routes = append(routes, rec.Route)
				}
				if len(routes) != 1 || routes[0] != p.Route {
					t.Errorf("%s %s reached %v, want %s", method, path, routes, p.Route)
				}
			}
			check("user without "+strings.Join(p.Delegated, "|"), g.userToken(admin, without(universe, p.Delegated)...), true)
			check("user with "+p.Delegated[0], g.userToken(admin, p.Delegated[0]), false)
			if len(p.Application) == 0 {
				if r := g.callAs(g.appToken(universe...), method, path, nil); r.status != 400 {
					t.Errorf("%s %s app-only: status %d, want 400", method, path, r.status)
				}
				continue
			}
			check("app without "+strings.Join(p.Application, "|"), g.appToken(without(universe, p.Application)...), true)
			check("app with "+p.Application[0], g.appToken(p.Application[0]), false)
		}
	}
}

// TestEveryGraphRouteHasPermissions: a route added without a row in the table would be open to
// every token.
func TestEveryGraphRouteHasPermissions(t *testing.T) {
	e := start(t, Options{})
	for _, r := range e.graphAPIRoutes() {
		if r.name == "graph.batch" {
			continue // its items go through the routes below
		}
		p, ok := permissionsOf(r.name)
		if !ok || len(p.Delegated) == 0 || p.Page == "" {
			t.Errorf("route %s has no permissions from its reference page", r.name)
		}
	}
}

// TestOrganizationIsTrimmedForUserRead: with User.Read alone Graph shows id, displayName and
// verifiedDomains and nulls the rest, tenantType included (v1.0 organization-get); a full-read
// permission shows tenantType; an app-only token needs Organization.Read.All.
func TestOrganizationIsTrimmedForUserRead(t *testing.T) {
	g := newGraphEnv(t, Options{}, ExternalID)
	upn := g.tenant.Users[0].UserPrincipalName
	org := func(tok string) map[string]any {
		r := g.must(g.callAs(tok, "GET", "/organization", nil), 200)
		return r.body["value"].([]any)[0].(map[string]any)
	}
	limited := org(g.userToken(upn, "User.Read", "Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "EventListener.ReadWrite.All"))
	if limited["id"] != g.tenant.ID || limited["displayName"] == nil || limited["verifiedDomains"] == nil {
		t.Fatalf("User.Read lost what it may see: %v", limited)
	}
	for k, v := range limited {
		if k != "id" && k != "displayName" && k != "verifiedDomains" && !strings.HasPrefix(k, "@odata.") && v != nil {
			t.Errorf("User.Read sees %s = %v; Graph returns null", k, v)
		}
	}
	if _, ok := limited["tenantType"]; !ok {
		t.Error("tenantType is missing; Graph returns it as null")
	}
	for _, full := range [][]string{{"User.Read", "Organization.Read.All"}, {"Directory.AccessAsUser.All"}} {
		if got := org(g.userToken(upn, full...)); got["tenantType"] != "CIAM" {
			t.Errorf("%v: tenantType = %v, want CIAM", full, got["tenantType"])
		}
	}
	r := g.must(g.callAs(g.userToken(upn, "User.Read"), "GET", "/organization/"+g.tenant.ID+"?$select=id,tenantType", nil), 200)
	if r.body["tenantType"] != nil || r.body["id"] != g.tenant.ID {
		t.Errorf("$select with User.Read: %v", r.body)
	}
	if got := org(g.appToken("Organization.Read.All")); got["tenantType"] != "CIAM" {
		t.Errorf("app-only Organization.Read.All: tenantType = %v", got["tenantType"])
	}
	if r := g.callAs(g.appToken("Application.ReadWrite.All"), "GET", "/organization", nil); r.status != 403 || r.code() != "Authorization_RequestDenied" {
		t.Errorf("app-only without Organization.Read.All: %d %s", r.status, r.code())
	}
}
