package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// personID is the object id of a person of the emulator's tenant by UPN.
func personID(t *testing.T, e *emulatortest.Emulator, tenantID, upn string) string {
	t.Helper()
	var id string
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			for _, u := range tn.Users {
				if strings.EqualFold(u.UserPrincipalName, upn) {
					id = u.ID
				}
			}
		}
	})
	if id == "" {
		t.Fatalf("the emulator has no %s in tenant %s", upn, tenantID)
	}
	return id
}

// --emulator-user signs the tool in to Graph as that person, through the device code a real
// person would enter; a wrong name or a missing emulator is a usage error that says what to do.
func TestEmulatorUserFlag(t *testing.T) {
	home(t)
	e, remote := remoteEmulator(t)
	ti := e.Tenant(t, emulator.Workforce)
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"unknown person", append([]string{"list", "--emulator-user", "nobody@contoso.onmicrosoft.com"}, remote...), ExitUsage,
			[]string{"no such person", "adele@", "Global Administrator", "lee@", "Application Developer"}},
		{"no emulator", []string{"list", "--tenant", ti.ID, "--emulator-user", "adele"}, ExitUsage, []string{"--emulator or --emulator-url"}},
		// Before any admin consented to the tool's client, a member meets "Need admin approval".
		{"member before admin consent", append([]string{"list", "--emulator-user", "megan"}, remote...), ExitError, []string{"megan@", "AADSTS90094", "toolConsentGranted"}},
		{"another sign-in method", append([]string{"list", "--emulator-user", "adele", "--auth", "browser"}, remote...), ExitUsage, []string{"device code"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
		})
	}

	// Signed in as lee (Application Developer), the app init creates is lee's: Graph made her
	// its owner because she, not the automation client, created it.
	s := emulator.DefaultSettings()
	s.ToolConsentGranted = true
	if err := e.SetSettings(ti.ID, s); err != nil {
		t.Fatal(err)
	}
	lee := personID(t, e, ti.ID, "lee@"+ti.Domain)
	args := append([]string{"init", "--no-input", "--yes", "--sample", "node-workforce", "--dir", t.TempDir(), "--no-verify", "--emulator-user", "lee@" + ti.Domain}, remote...)
	code, _, errOut := run(t, args...)
	live, _ := tagged(e, ti.ID)
	if len(live) != 1 || !hasTag(live[0].Owners, lee) {
		t.Fatalf("init as lee: exit %d, tagged apps %s; want one owned by lee (%s)\n%s", code, describeApps(live, nil), lee, errOut)
	}
	if !strings.Contains(errOut, "lee@"+ti.Domain) {
		t.Errorf("init does not say it signs in as lee:\n%s", errOut)
	}
}

// asPerson runs the command as one person of the emulator on their own machine (home).
func asPerson(t *testing.T, home, upn string, remote []string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("ENTRA_QUICKSTART_HOME", home)
	return run(t, append(append(args, "--emulator-user", upn), remote...)...)
}

// sharedTenant starts an emulator where an admin consented to the tool's sign-in once, so every
// person may sign in to it.
func sharedTenant(t *testing.T) (*emulatortest.Emulator, emuclient.TenantInfo, []string) {
	t.Helper()
	e, remote := remoteEmulator(t)
	ti := e.Tenant(t, emulator.Workforce)
	s := emulator.DefaultSettings()
	s.ToolConsentGranted = true
	if err := e.SetSettings(ti.ID, s); err != nil {
		t.Fatal(err)
	}
	return e, ti, remote
}

// appOf is the live tagged app a person owns; nil when none.
func appOf(e *emulatortest.Emulator, tenantID, ownerID string) *emulator.Application {
	live, _ := tagged(e, tenantID)
	for i := range live {
		if hasTag(live[i].Owners, ownerID) {
			return &live[i]
		}
	}
	return nil
}

func keyIDs(a *emulator.Application) []string {
	var out []string
	for _, p := range a.PasswordCredentials {
		out = append(out, p.KeyID)
	}
	return out
}

// Two people configure the same sample under the default name in one tenant, each on their own
// machine: two apps, each owned by its person (an admin is made owner by the tool); neither run
// touches the other's app or secret, and each reset removes only its own.
func TestTwoPeopleSameSampleGetTwoApps(t *testing.T) {
	e, ti, remote := sharedTenant(t)
	people := []string{"adele@" + ti.Domain, "lee@" + ti.Domain}
	homes := []string{t.TempDir(), t.TempDir()}
	ids := []string{personID(t, e, ti.ID, people[0]), personID(t, e, ti.ID, people[1])}
	for i, p := range people {
		if code, _, errOut := asPerson(t, homes[i], p, remote, "init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", t.TempDir()); code != ExitOK {
			t.Fatalf("init as %s: exit %d\n%s", p, code, errOut)
		}
	}
	a, b := appOf(e, ti.ID, ids[0]), appOf(e, ti.ID, ids[1])
	live, _ := tagged(e, ti.ID)
	if len(live) != 2 || a == nil || b == nil || a.ID == b.ID || *a.UniqueName == *b.UniqueName {
		t.Fatalf("want two apps, one owned by each person; got %s", describeApps(live, nil))
	}
	if hasTag(a.Owners, ids[1]) || hasTag(b.Owners, ids[0]) {
		t.Fatalf("an app is owned by both: %v / %v", a.Owners, b.Owners)
	}
	aKeys := keyIDs(a)

	// Lee runs again from another folder: her app only.
	if code, _, errOut := asPerson(t, homes[1], people[1], remote, "init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", t.TempDir()); code != ExitOK {
		t.Fatalf("init again as lee: exit %d\n%s", code, errOut)
	}
	if got := keyIDs(appOf(e, ti.ID, ids[0])); !slices.Equal(got, aKeys) {
		t.Fatalf("lee's run changed adele's secrets: %v -> %v", aKeys, got)
	}

	// Each reset removes only its own.
	for i, p := range people {
		code, _, errOut := asPerson(t, homes[i], p, remote, "reset", "--no-input", "--yes")
		if code != ExitOK {
			t.Fatalf("reset as %s: exit %d\n%s", p, code, errOut)
		}
		if appOf(e, ti.ID, ids[i]) != nil {
			t.Fatalf("reset as %s kept their app", p)
		}
		if i == 0 && appOf(e, ti.ID, ids[1]) == nil {
			t.Fatalf("reset as %s removed lee's app too\n%s", p, errOut)
		}
	}
}

// An app someone else put under the person's uniqueName (untagged, or tagged but owned by
// another person) stops init before any write, naming the app, its owners and what would
// change; --adopt proceeds and the plan shows the foreign secret and redirect URI.
func TestForeignAppUnderTheUniqueName(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags []string
	}{
		{"untagged", nil},
		{"tagged, another owner", []string{provision.Tag, provision.TagSamplePrefix + "node-workforce", provision.TagNamePrefix + wizard.DefaultName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ti, remote := sharedTenant(t)
			adele, megan := personID(t, e, ti.ID, "adele@"+ti.Domain), personID(t, e, ti.ID, "megan@"+ti.Domain)
			un := provision.PersonalUniqueName("node-workforce", wizard.DefaultName, adele)
			id := uuid.NewString()
			name := "planted secret"
			err := e.Store().Do(func(d *emulator.Directory) error {
				for _, tn := range d.Tenants {
					if tn.ID == ti.ID {
						tn.Applications = append(tn.Applications, &emulator.Application{ID: id, AppID: uuid.NewString(), UniqueName: &un,
							DisplayName: "megan's app", SignInAudience: "AzureADMyOrg", Tags: tc.tags, Owners: []string{megan},
							Spa:                 emulator.RedirectSettings{RedirectURIs: []string{"https://megan.example/callback"}},
							PasswordCredentials: []emulator.PasswordCredential{{KeyID: uuid.NewString(), DisplayName: &name, Hint: "abc", SecretText: "abc" + uuid.NewString(), EndDateTime: time.Now().Add(24 * time.Hour)}},
							CreatedDateTime:     time.Now().Add(-time.Hour)})
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			h := t.TempDir()
			e.ResetRequests()
			code, _, errOut := asPerson(t, h, "adele@"+ti.Domain, remote, "init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", t.TempDir())
			if code != ExitUsage {
				t.Fatalf("init over megan's app: exit %d, want %d\n%s", code, ExitUsage, errOut)
			}
			for _, w := range []string{"megan's app", "megan@", "not yours", "--adopt", "Nothing was changed"} {
				if !strings.Contains(errOut, w) {
					t.Errorf("the stop does not say %q:\n%s", w, errOut)
				}
			}
			for _, r := range e.Requests() {
				if r.Host == "graph.microsoft.com" && r.Method != "GET" {
					t.Errorf("init wrote before stopping: %s %s", r.Method, r.Path)
				}
			}
			code, _, errOut = asPerson(t, h, "adele@"+ti.Domain, remote, "init", "--no-input", "--yes", "--no-verify", "--adopt", "--sample", "node-workforce", "--dir", t.TempDir())
			if code != ExitOK {
				t.Fatalf("init --adopt: exit %d\n%s", code, errOut)
			}
			for _, w := range []string{"planted secret", "https://megan.example/callback", "owner megan@"} {
				if !strings.Contains(errOut, w) {
					t.Errorf("the plan does not show %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// adminGrants counts the tenant-wide consents to an app.
func adminGrants(e *emulatortest.Emulator, tenantID, appID string) int {
	n := 0
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			for _, sp := range tn.ServicePrincipals {
				if !strings.EqualFold(sp.AppID, appID) {
					continue
				}
				for _, g := range tn.Grants {
					if g.ClientID == sp.ID && g.ConsentType == "AllPrincipals" {
						n++
					}
				}
			}
		}
	})
	return n
}

// persona is one row of the persona matrix: a seeded person of the sample's tenant and what
// the furthest path the tenant allows gives them.
type persona struct {
	person       string
	roles        string // the person's roles, for the subtest's name
	noRegister   bool   // "Users can register applications" off
	wantCode     int
	wantConsent  bool     // the tool granted admin consent
	wantLinked   bool     // External ID: the app is in the user flow
	wantHandOffs []string // init's handed-off steps, in any order
	wantPurge    bool     // reset purges (else hands the purge off)
	wantErr      string
}

// personas are the seeded people of each kind of tenant (emulator seed: tenants.md §7) and what
// each may do there (§1.3): admins finish everything; an Application Developer and a member get
// the app, its credential and service principal, with the admin consent handed off; in External
// ID only the Global Administrator and the User Flow Administrator may read and link user flows.
func personas(tenant string) []persona {
	if tenant == "external" {
		return []persona{
			{person: "admin", roles: "Global Administrator", wantConsent: true, wantLinked: true, wantPurge: true},
			{person: "appadmin", roles: "Application Administrator", wantConsent: true, wantHandOffs: []string{"user-flow link"}, wantPurge: true},
			{person: "cloudappadmin", roles: "Cloud Application Administrator", wantConsent: true, wantHandOffs: []string{"user-flow link"}, wantPurge: true},
			{person: "developer", roles: "Application Developer", wantHandOffs: []string{"admin consent", "user-flow link"}},
			{person: "ada", roles: "member", wantHandOffs: []string{"admin consent", "user-flow link"}},
			{person: "userflowadmin", roles: "User Flow Administrator", wantLinked: true, wantHandOffs: []string{"admin consent"}},
			{person: "ada", roles: "member, registration off", noRegister: true, wantCode: ExitError, wantErr: "may not register applications"},
		}
	}
	return []persona{
		{person: "adele", roles: "Global Administrator", wantConsent: true, wantPurge: true},
		{person: "alex", roles: "Application Administrator", wantConsent: true, wantPurge: true},
		{person: "diego", roles: "Cloud Application Administrator", wantConsent: true, wantPurge: true},
		{person: "lee", roles: "Application Developer", wantHandOffs: []string{"admin consent"}},
		{person: "megan", roles: "member", wantHandOffs: []string{"admin consent"}},
		{person: "megan", roles: "member, registration off", noRegister: true, wantCode: ExitError, wantErr: "may not register applications"},
	}
}

// appSP counts the live service principals of an app, and whether the app is in a user flow.
func appSP(e *emulatortest.Emulator, tenantID, appID string) (sps int, linked bool) {
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			for _, sp := range tn.ServicePrincipals {
				if strings.EqualFold(sp.AppID, appID) && sp.DeletedDateTime == nil {
					sps++
				}
			}
			for _, f := range tn.UserFlows {
				if slices.ContainsFunc(f.AppIDs, func(a string) bool { return strings.EqualFold(a, appID) }) {
					linked = true
				}
			}
		}
	})
	return sps, linked
}

// TestPersonaMatrix: each seeded role x {node-workforce, aspnet-workforce, node-external} runs
// init and then reset through the built binary, signed in as that person (--emulator-user), and
// gets the furthest path the tenant allows: what is created (the app, owned by the person, with
// the sample's credential and a service principal), what is handed off (named on stderr and in
// --json with to whom and what), the exit code, and the tenant afterwards: no grant or link the
// role could not make, and after reset no live app or service principal left (a purge the role
// may not make is handed off once, its deleted app the only thing left). With app registration
// off a member stops before any write. The rows run in parallel, each on its own emulator.
func TestPersonaMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary for each role and sample")
	}
	bin := buildBinary(t)
	seed := emulatortest.Seed(t)
	for _, sample := range []string{"node-workforce", "aspnet-workforce", "node-external"} {
		m, err := samples.Lookup(sample)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range personas(string(m.TenantType)) {
			t.Run(sample+"/"+tc.person+" ("+tc.roles+")", func(t *testing.T) {
				t.Parallel()
				e := emulatortest.New(t, emulatortest.FromSeed(seed))
				ti := e.Tenant(t, emulator.TenantType(m.TenantType))
				s := emulator.DefaultSettings()
				s.ToolConsentGranted, s.AllowedToCreateApps = true, !tc.noRegister
				if err := e.SetSettings(ti.ID, s); err != nil {
					t.Fatal(err)
				}
				upn := tc.person + "@" + ti.Domain
				me := personID(t, e, ti.ID, upn)
				h := t.TempDir()
				remote := []string{"--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--emulator-user", upn}
				e.ResetRequests()
				r, err := runBinary(bin, h, nil, append([]string{"init", "--no-input", "--yes", "--no-verify", "--json", "--sample", sample, "--dir", t.TempDir()}, remote...)...)
				if err != nil {
					t.Fatal(err)
				}
				if s := leaked(secretsOf(e), r.stdout, r.stderr); s != "" {
					t.Errorf("a secret reached the terminal: %s", s)
				}
				if r.code != tc.wantCode {
					t.Fatalf("init as %s: exit %d, want %d\n%s", upn, r.code, tc.wantCode, r.stderr)
				}
				if tc.wantErr != "" {
					if !strings.Contains(r.stderr, tc.wantErr) {
						t.Errorf("init as %s does not say %q:\n%s", upn, tc.wantErr, r.stderr)
					}
					for _, rq := range e.Requests() {
						if rq.Host == "graph.microsoft.com" && rq.Method != "GET" {
							t.Errorf("init as %s wrote before stopping: %s %s", upn, rq.Method, rq.Path)
						}
					}
					return
				}
				var res InitResult
				if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
					t.Fatalf("init --json: %v\n%s", err, r.stdout)
				}
				app := appOf(e, ti.ID, me)
				if app == nil || app.AppID != res.ClientID {
					live, _ := tagged(e, ti.ID)
					t.Fatalf("init as %s: no app of theirs with the client id %s (tagged apps %s)\n%s", upn, res.ClientID, describeApps(live, nil), r.stderr)
				}
				creds := len(app.PasswordCredentials)
				if m.DefaultCredential() == samples.Certificate {
					creds = len(app.KeyCredentials)
				}
				if creds != 1 {
					t.Errorf("init as %s: the app holds %d %s credentials, want 1", upn, creds, m.DefaultCredential())
				}
				sps, linked := appSP(e, ti.ID, app.AppID)
				if sps != 1 {
					t.Errorf("init as %s: %d service principals, want 1", upn, sps)
				}
				if m.TenantType == samples.External && linked != tc.wantLinked {
					t.Errorf("init as %s: linked to the user flow %v, want %v", upn, linked, tc.wantLinked)
				}
				var steps []string
				for _, h := range res.HandOffs {
					steps = append(steps, h.Step)
					if h.Step == "admin consent" && !strings.HasSuffix(h.URL, "/"+ti.ID+"/adminconsent?client_id="+app.AppID) {
						t.Errorf("the consent hand-off's URL is %q", h.URL)
					}
					if h.To == "" || h.What == "" {
						t.Errorf("hand-off %+v does not say to whom or what", h)
					}
				}
				slices.Sort(steps)
				want := slices.Sorted(slices.Values(tc.wantHandOffs))
				if !slices.Equal(steps, want) {
					t.Errorf("init as %s handed off %v, want %v", upn, steps, want)
				}
				if strings.Count(r.stderr, "handed off") != len(want) {
					t.Errorf("init as %s: stderr names %d hand-offs, want %d:\n%s", upn, strings.Count(r.stderr, "handed off"), len(want), r.stderr)
				}
				if got := adminGrants(e, ti.ID, app.AppID); got != map[bool]int{true: 1, false: 0}[tc.wantConsent] {
					t.Errorf("init as %s: %d admin consents, want consent %v", upn, got, tc.wantConsent)
				}

				r, err = runBinary(bin, h, nil, append([]string{"reset", "--no-input", "--yes", "--json"}, remote...)...)
				if err != nil {
					t.Fatal(err)
				}
				if r.code != ExitOK {
					t.Fatalf("reset as %s: exit %d\n%s", upn, r.code, r.stderr)
				}
				var rr ResetResult
				if err := json.Unmarshal([]byte(r.stdout), &rr); err != nil {
					t.Fatalf("reset --json: %v\n%s", err, r.stdout)
				}
				purgeHandedOff := len(rr.HandOffs) == 1 && rr.HandOffs[0].Step == "purge" && strings.Contains(rr.HandOffs[0].What, "250")
				if len(rr.Deleted) != 1 || (len(rr.Purged) == 1) != tc.wantPurge || purgeHandedOff == tc.wantPurge {
					t.Errorf("reset as %s: deleted %d, purged %d, hand-offs %+v; want purge %v or its hand-off", upn, len(rr.Deleted), len(rr.Purged), rr.HandOffs, tc.wantPurge)
				}
				if !tc.wantPurge && strings.Count(r.stderr, "Not purged") != 1 {
					t.Errorf("reset as %s does not say once that it could not purge:\n%s", upn, r.stderr)
				}
				live, deleted := tagged(e, ti.ID)
				if len(live) != 0 || len(deleted) != map[bool]int{true: 0, false: 1}[tc.wantPurge] {
					t.Errorf("after reset as %s: tagged apps %s", upn, describeApps(live, deleted))
				}
				if sps, linked := appSP(e, ti.ID, app.AppID); sps != 0 || linked {
					t.Errorf("after reset as %s: %d service principals left, still in a user flow: %v", upn, sps, linked)
				}
			})
		}
	}
}

// toolConsent is the scope an admin consented to for the tool's own sign-in client, for the
// whole organisation.
func toolConsent(e *emulatortest.Emulator, tenantID string) string {
	var scope string
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			for _, sp := range tn.ServicePrincipals {
				if sp.AppID != auth.GraphCommandLineToolsClientID {
					continue
				}
				for _, g := range tn.Grants {
					if g.ClientID == sp.ID && g.ConsentType == "AllPrincipals" {
						scope += " " + g.Scope
					}
				}
			}
		}
	})
	return strings.TrimSpace(scope)
}

// Each command asks the least it needs: the first sign-in of the tenant's admin to list consents
// only read scopes for the organisation; init adds the write scope (a dry run too), and the
// consent-granting one only when its plan's grant is made.
func TestLeastPrivilegeScopes(t *testing.T) {
	e, remote := remoteEmulator(t)
	ti := e.Tenant(t, emulator.Workforce)
	h := t.TempDir()
	has := func(scope, p string) bool { return slices.Contains(strings.Fields(scope), p) }
	for _, step := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"list", "--tenant", ti.ID}, []string{"User.Read", "Application.Read.All", "DelegatedPermissionGrant.Read.All"},
			[]string{"Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"}},
		// A plan that is not applied grants nothing: no consent-granting permission yet.
		{[]string{"init", "--no-input", "--dry-run", "--sample", "node-workforce", "--dir", t.TempDir()},
			[]string{"Application.ReadWrite.All"}, []string{"DelegatedPermissionGrant.ReadWrite.All"}},
		{[]string{"init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", t.TempDir()},
			[]string{"Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"}, nil},
	} {
		code, _, errOut := asPerson(t, h, "adele@"+ti.Domain, remote, step.args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", step.args, code, errOut)
		}
		scope := toolConsent(e, ti.ID)
		for _, p := range step.want {
			if !has(scope, p) {
				t.Errorf("after %s the tool's consented scopes %q lack %s", step.args[0], scope, p)
			}
		}
		for _, p := range step.not {
			if has(scope, p) {
				t.Errorf("after %s the tool's consented scopes %q hold %s", step.args[0], scope, p)
			}
		}
	}
}

// With the admin consent handed off, the sign-in check of an Application Developer's sample
// goes through the consent page where the tenant allows user consent and passes; where it does
// not, the check fails with "Need admin approval" and the result still names the hand-off and
// its admin-consent URL.
func TestHandedOffConsentAtFirstSignIn(t *testing.T) {
	for _, tc := range []struct {
		name        string
		userConsent bool
		wantCode    int
		wantCheck   string
	}{
		{"user consent allowed", true, ExitOK, "passed"},
		{"user consent off", false, ExitError, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ti, remote := sharedTenant(t)
			s := emulator.DefaultSettings()
			s.ToolConsentGranted, s.UserConsent = true, tc.userConsent
			if err := e.SetSettings(ti.ID, s); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := asPerson(t, t.TempDir(), "lee@"+ti.Domain, remote, "init", "--no-input", "--yes", "--auto-sign-in", "--json", "--sample", "node-workforce", "--dir", t.TempDir())
			var res InitResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("exit %d, init --json: %v\n%s\n%s", code, err, out, errOut)
			}
			if code != tc.wantCode || res.SignInCheck != tc.wantCheck {
				t.Fatalf("exit %d, sign-in check %q; want %d, %q\n%s", code, res.SignInCheck, tc.wantCode, tc.wantCheck, errOut)
			}
			if len(res.HandOffs) != 1 || res.HandOffs[0].Step != "admin consent" || !strings.Contains(res.HandOffs[0].URL, "/adminconsent?client_id="+res.ClientID) {
				t.Fatalf("hand-offs %+v; want the admin consent with its URL", res.HandOffs)
			}
			if !tc.userConsent && !strings.Contains(errOut, "AADSTS90094") {
				t.Errorf("the failed check does not say admin approval is needed:\n%s", errOut)
			}
		})
	}
}

// A re-run for a third folder would retire the secret the first folder still holds (the
// second's is kept as the grace): the plan says so, and without --yes a run that may not ask
// refuses before any write; with --yes it goes on, says which folder loses its secret, and
// removes it once the new one works.
func TestSecretAnotherFolderUses(t *testing.T) {
	e, ti, remote := sharedTenant(t)
	h := t.TempDir()
	lee := "lee@" + ti.Domain
	me := personID(t, e, ti.ID, lee)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	initIn := func(dir string, extra ...string) (int, string) {
		code, _, errOut := asPerson(t, h, lee, remote, append([]string{"init", "--no-input", "--no-verify", "--sample", "node-workforce", "--dir", dir}, extra...)...)
		return code, errOut
	}
	for _, d := range dirs[:2] {
		if code, errOut := initIn(d, "--yes"); code != ExitOK {
			t.Fatalf("init in %s: exit %d\n%s", d, code, errOut)
		}
	}
	first := keyIDs(appOf(e, ti.ID, me))
	if len(first) != 2 {
		t.Fatalf("after two folders the app holds secrets %v, want two (the first kept as the grace)", first)
	}

	// The plan says which folder still uses the secret this run would retire; without --yes a
	// run with --no-input refuses before any write (as every run that changes the tenant does).
	e.ResetRequests()
	code, errOut := initIn(dirs[2], "--dry-run")
	if code != ExitOK {
		t.Fatalf("init --dry-run in a third folder: exit %d\n%s", code, errOut)
	}
	for _, w := range []string{first[0], dirs[0], "still uses"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("the plan does not say %q:\n%s", w, errOut)
		}
	}
	code, errOut = initIn(dirs[2])
	if code != ExitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("init in a third folder without --yes: exit %d, want %d naming --yes\n%s", code, ExitUsage, errOut)
	}
	for _, r := range e.Requests() {
		if r.Host == "graph.microsoft.com" && r.Method != "GET" {
			t.Errorf("init wrote before refusing: %s %s", r.Method, r.Path)
		}
	}
	if got := keyIDs(appOf(e, ti.ID, me)); !slices.Equal(got, first) {
		t.Fatalf("the refused run changed the secrets: %v -> %v", first, got)
	}

	code, errOut = initIn(dirs[2], "--yes")
	if code != ExitOK {
		t.Fatalf("init in a third folder with --yes: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "removing the client secret "+first[0]) || !strings.Contains(errOut, dirs[0]) {
		t.Errorf("init --yes does not say it removes the secret %s that %s uses:\n%s", first[0], dirs[0], errOut)
	}
	got := keyIDs(appOf(e, ti.ID, me))
	if slices.Contains(got, first[0]) || !slices.Contains(got, first[1]) || len(got) != 2 {
		t.Errorf("after the confirmed run the app holds %v; want the second folder's %s and a new one, not %s", got, first[1], first[0])
	}
}

// Each tenant policy with the path the tool takes: a secret lifetime over the policy's maximum
// steps down and says so; one no step fits, or secrets blocked for a sample that takes only
// secrets, is a clear stop naming the policy's restriction and who may change it, with the app
// made so far on the record so reset removes it; secrets blocked for a sample that accepts a
// certificate switch to one and say so; the tool's sign-in client not consented stops before
// any write with the alternatives. (User consent off: TestHandedOffConsentAtFirstSignIn; app
// registration off: TestPersonaMatrix.)
func TestAppManagementPolicies(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		policy   emulator.AppManagementPolicy
		noTool   bool // the tool's sign-in client not consented
		args     []string
		wantCode int
		want     []string
		check    func(t *testing.T, app *emulator.Application, res InitResult)
	}{
		{name: "lifetime too long", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(10 * day)}, args: []string{"--sample", "node-workforce"},
			want: []string{"refused a secret valid for 30 days; trying 7 days", "the tenant's app management policy refused 30 days"},
			check: func(t *testing.T, app *emulator.Application, res InitResult) {
				if len(app.PasswordCredentials) != 1 || time.Until(app.PasswordCredentials[0].EndDateTime) > 7*day {
					t.Errorf("the app's secrets %+v; want one valid for 7 days at most", app.PasswordCredentials)
				}
				if res.SecretExpires == nil || time.Until(*res.SecretExpires) > 7*day || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "valid for 7 days") {
					t.Errorf("--json: expires %v, warnings %q; want 7 days, said", res.SecretExpires, res.Warnings)
				}
			}},
		{name: "lifetime under a day", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(12 * time.Hour)}, args: []string{"--sample", "node-workforce"},
			wantCode: ExitError, want: []string{"1 days (restriction passwordLifetime)", "00000000-0000-0000-0000-000000000000", "Security Administrator", "app registration is in place"}},
		{name: "passwords blocked, secret-only sample", policy: emulator.AppManagementPolicy{BlockPasswordAddition: true}, args: []string{"--sample", "node-workforce"},
			wantCode: ExitError, want: []string{"does not allow client secrets (restriction passwordAddition)", "Security Administrator", "exempt this app"}},
		{name: "passwords blocked, the sample accepts a certificate", policy: emulator.AppManagementPolicy{BlockPasswordAddition: true}, args: []string{"--sample", "aspnet-workforce", "--credential", "secret"},
			want: []string{"using a certificate instead"},
			check: func(t *testing.T, app *emulator.Application, res InitResult) {
				if len(app.PasswordCredentials) != 0 || len(app.KeyCredentials) != 1 || res.Thumbprint == "" {
					t.Errorf("the app holds %d secrets and %d certificates (json thumbprint %q); want one certificate", len(app.PasswordCredentials), len(app.KeyCredentials), res.Thumbprint)
				}
			}},
		{name: "tool client not consented", noTool: true, args: []string{"--sample", "node-workforce"},
			wantCode: ExitError, want: []string{"AADSTS90094", "nothing was changed", "--auth azure-cli", "Application Administrator to run entra-quickstart once"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ti, remote := sharedTenant(t)
			s := emulator.DefaultSettings()
			s.ToolConsentGranted, s.AppManagementPolicy = !tc.noTool, tc.policy
			if err := e.SetSettings(ti.ID, s); err != nil {
				t.Fatal(err)
			}
			lee := "lee@" + ti.Domain
			h := t.TempDir()
			e.ResetRequests()
			code, out, errOut := asPerson(t, h, lee, remote, append([]string{"init", "--no-input", "--yes", "--no-verify", "--json", "--dir", t.TempDir()}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("the output does not say %q:\n%s", w, errOut)
				}
			}
			app := appOf(e, ti.ID, personID(t, e, ti.ID, lee))
			if tc.noTool {
				for _, r := range e.Requests() {
					if r.Host == "graph.microsoft.com" && r.Method != "GET" {
						t.Errorf("init wrote before stopping: %s %s", r.Method, r.Path)
					}
				}
				return
			}
			if app == nil {
				t.Fatalf("no app of lee's\n%s", errOut)
			}
			if tc.check != nil {
				var res InitResult
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("init --json: %v\n%s", err, out)
				}
				tc.check(t, app, res)
			}
			// Whatever the outcome, the app made is on the record: reset removes it.
			if code, _, errOut := asPerson(t, h, lee, remote, "reset", "--no-input", "--yes"); code != ExitOK {
				t.Fatalf("reset: exit %d\n%s", code, errOut)
			}
			if live, _ := tagged(e, ti.ID); len(live) != 0 {
				t.Errorf("reset left %s", describeApps(live, nil))
			}
		})
	}
}

// Credential changes too close together answer 409 Directory_ConcurrencyViolation (the
// emulator's credentialConcurrencyWindow, here longer than a run): a person's second init, in
// another folder right after the first, meets it on its new secret (and on retiring the older
// one), retries with backoff, says so, and converges: exit 0, the folder's secret on the app,
// one older secret kept as the grace.
func TestConcurrencyViolationConvergesThroughInit(t *testing.T) {
	e, ti, remote := sharedTenant(t)
	s := emulator.DefaultSettings()
	s.ToolConsentGranted, s.CredentialConcurrencyWindow = true, emulator.Duration(3*time.Second)
	if err := e.SetSettings(ti.ID, s); err != nil {
		t.Fatal(err)
	}
	h, adele := t.TempDir(), "adele@"+ti.Domain
	m, _ := samples.Lookup("node-workforce")
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, d := range dirs {
		code, _, errOut := asPerson(t, h, adele, remote, "init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", d)
		if code != ExitOK {
			t.Fatalf("init %d: exit %d\n%s", i+1, code, errOut)
		}
		if i == 1 && !strings.Contains(errOut, "concurrent change") {
			t.Errorf("the second init does not say it waited for a concurrent change:\n%s", errOut)
		}
	}
	conflicts := 0
	for _, r := range e.Requests() {
		if r.Status == 409 {
			conflicts++
		}
	}
	if conflicts == 0 {
		t.Fatal("no 409 Directory_ConcurrencyViolation was answered: the case tests nothing")
	}
	app := appOf(e, ti.ID, personID(t, e, ti.ID, adele))
	cfg, err := templates.Read(m, dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	held := slices.ContainsFunc(app.PasswordCredentials, func(p emulator.PasswordCredential) bool { return p.SecretText == cfg.ClientSecret })
	if !held || len(app.PasswordCredentials) != 2 {
		t.Errorf("after %d conflicts: the folder's secret on the app %v, %d secrets (want it and one grace)", conflicts, held, len(app.PasswordCredentials))
	}
}
