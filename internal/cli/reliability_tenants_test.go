package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// tenantCase is a shared-tenant condition the end-to-end matrix runs init under (facts/
// tenants.md): a person of the tenant, the tenant's settings and policies, what the first run
// must do (its exit code and what its output names), and what the admin it was handed to does
// before the re-run, which must converge.
type tenantCase struct {
	Name, Sample, Person string
	Args                 []string // more init flags
	Settings             func(*emulator.Settings)
	// Prime runs a clean init in another folder first (a second folder's run then changes the
	// app's credentials right after the first's).
	Prime    bool
	WantCode int
	Want     string // the first run's output says it
	// Lift is what someone who may does before the re-run: a setting changed, or what was
	// handed off done (appID is the person's app, "" when none was made).
	Lift func(e *emulatortest.Emulator, tenantID, appID string)
	// AdminConsent: the role may grant tenant-wide consent (else none may be found unless Lift
	// granted it).
	AdminConsent bool
}

func tenantCases() []tenantCase {
	set := func(f func(*emulator.Settings)) func(e *emulatortest.Emulator, tenantID, _ string) {
		return func(e *emulatortest.Emulator, tenantID, _ string) {
			s := emulator.DefaultSettings()
			s.ToolConsentGranted = true
			f(&s)
			if err := e.SetSettings(tenantID, s); err != nil {
				panic(err)
			}
		}
	}
	nothing := func(*emulatortest.Emulator, string, string) {}
	return []tenantCase{
		{Name: "App Developer: admin consent handed off", Sample: "node-workforce", Person: "lee", Want: "handed off: your role may not grant tenant-wide consent", Lift: nothing},
		{Name: "member: app registration off", Sample: "node-workforce", Person: "megan", Settings: func(s *emulator.Settings) { s.AllowedToCreateApps = false },
			WantCode: ExitError, Want: "may not register applications", Lift: set(func(*emulator.Settings) {})},
		{Name: "member: the tool's sign-in not consented", Sample: "node-workforce", Person: "megan", Settings: func(s *emulator.Settings) { s.ToolConsentGranted = false },
			WantCode: ExitError, Want: "AADSTS90094", Lift: set(func(*emulator.Settings) {})},
		{Name: "secrets blocked, secret-only sample", Sample: "node-workforce", Person: "adele", AdminConsent: true,
			Settings: func(s *emulator.Settings) { s.AppManagementPolicy.BlockPasswordAddition = true },
			WantCode: ExitError, Want: "restriction passwordAddition", Lift: set(func(*emulator.Settings) {})},
		{Name: "secrets blocked, the sample accepts a certificate", Sample: "aspnet-workforce", Person: "adele", AdminConsent: true, Args: []string{"--credential", "secret"},
			Settings: func(s *emulator.Settings) { s.AppManagementPolicy.BlockPasswordAddition = true },
			Want:     "using a certificate instead", Lift: nothing},
		{Name: "secret lifetime over the policy", Sample: "node-workforce", Person: "adele", AdminConsent: true,
			Settings: func(s *emulator.Settings) {
				s.AppManagementPolicy.MaxPasswordLifetime = emulator.Duration(10 * 24 * time.Hour)
			},
			Want: "trying 7 days", Lift: nothing},
		{Name: "409 on credential changes", Sample: "node-workforce", Person: "adele", AdminConsent: true, Prime: true,
			Settings: func(s *emulator.Settings) { s.CredentialConcurrencyWindow = emulator.Duration(5 * time.Second) },
			Want:     "concurrent change", Lift: nothing},
		{Name: "App Administrator: user-flow link handed off", Sample: "node-external", Person: "appadmin", AdminConsent: true,
			Want: "handed off: your role may not read or link user flows", Lift: linkToFlow},
		{Name: "User Flow Administrator: admin consent handed off", Sample: "node-external", Person: "userflowadmin",
			WantCode: ExitError, Want: "AADSTS90094", Lift: grantAdminConsent},
	}
}

// linkToFlow does what a User Flow Administrator does with a link handed off: adds the app to
// the tenant's user flow.
func linkToFlow(e *emulatortest.Emulator, tenantID, appID string) {
	_ = e.Store().Do(func(d *emulator.Directory) error {
		if t := d.Tenant(tenantID); t != nil && len(t.UserFlows) > 0 && appID != "" {
			t.UserFlows[0].AppIDs = append(t.UserFlows[0].AppIDs, strings.ToLower(appID))
		}
		return nil
	})
}

// grantAdminConsent does what an admin does at a handed-off admin-consent URL: a tenant-wide
// grant of the sample's Graph scopes to the app.
func grantAdminConsent(e *emulatortest.Emulator, tenantID, appID string) {
	_ = e.Store().Do(func(d *emulator.Directory) error {
		t := d.Tenant(tenantID)
		if t == nil {
			return nil
		}
		var client, graphSP string
		for _, sp := range t.ServicePrincipals {
			switch {
			case strings.EqualFold(sp.AppID, appID):
				client = sp.ID
			case sp.AppID == "00000003-0000-0000-c000-000000000000":
				graphSP = sp.ID
			}
		}
		if client != "" && graphSP != "" {
			t.Grants = append(t.Grants, &emulator.Grant{ID: uuid.NewString(), ClientID: client, ConsentType: "AllPrincipals", ResourceID: graphSP, Scope: "openid profile offline_access User.Read"})
		}
		return nil
	})
}

// tenantOutcome is what one shared-tenant case did.
type tenantOutcome struct {
	Case      tenantCase
	Code      int
	Error     string
	HandOffs  []string
	Conflicts int // 409 answers
	Converged bool
	Problem   string
}

// runTenantCase runs one shared-tenant case on its own emulator, checkout and home: the first
// run as the person must exit as the case says and say so, write no Graph object when it stops
// (but for what the policy refused after the app was made), leave the files untouched or whole,
// print no secret; once the condition is lifted the same command converges: exit 0, one app of
// the person's with the folder's client id and secret, no admin consent the role could not give.
func runTenantCase(tb testing.TB, bin, seed string, c tenantCase) (tenantOutcome, error) {
	o := tenantOutcome{Case: c}
	e, err := emulatortest.Start(tb, emulatortest.FromSeed(seed))
	if err != nil {
		return o, err
	}
	m, err := samples.Lookup(c.Sample)
	if err != nil {
		return o, err
	}
	ti, _ := e.Info().Tenant(emulator.TenantType(m.TenantType))
	s := emulator.DefaultSettings()
	s.ToolConsentGranted = true
	if err := e.SetSettings(ti.ID, s); err != nil {
		return o, err
	}
	dir, err := checkout(tb, m)
	if err != nil {
		return o, err
	}
	before, err := readTree(dir)
	if err != nil {
		return o, err
	}
	home := tb.TempDir()
	upn := c.Person + "@" + ti.Domain
	args := append(append(initArgs(e, c.Sample, dir), "--emulator-user", upn), c.Args...)
	problem := func(f string, a ...any) (tenantOutcome, error) {
		o.Problem = fmt.Sprintf(f, a...)
		return o, nil
	}
	if c.Prime {
		other, err := runBinary(bin, home, nil, append(append(initArgs(e, c.Sample, tb.TempDir()), "--emulator-user", upn, "--no-verify"), c.Args...)...)
		if err != nil {
			return o, err
		}
		if other.code != 0 {
			return problem("the priming run failed (exit %d): %s", other.code, errorLine(other.stderr))
		}
	}
	if c.Settings != nil {
		c.Settings(&s)
		if err := e.SetSettings(ti.ID, s); err != nil {
			return o, err
		}
	}
	e.ResetRequests()
	first, err := runBinary(bin, home, nil, args...)
	if err != nil {
		return o, err
	}
	o.Code, o.Error = first.code, errorLine(first.stderr)
	var res InitResult
	if json.Unmarshal([]byte(first.stdout), &res) == nil {
		for _, h := range res.HandOffs {
			o.HandOffs = append(o.HandOffs, h.Step)
		}
	}
	wrote := false
	for _, r := range e.Requests() {
		if r.Status == 409 {
			o.Conflicts++
		}
		if r.Host == "graph.microsoft.com" && r.Method != "GET" {
			wrote = true
		}
	}
	switch {
	case first.code != c.WantCode:
		return problem("exit %d, want %d: %s", first.code, c.WantCode, o.Error)
	case !strings.Contains(first.stdout+first.stderr, c.Want):
		return problem("the output does not say %q", c.Want)
	case strings.Contains(first.stderr, "panic:"):
		return problem("panicked")
	case first.code != 0 && o.Error == "":
		return problem("failed without an error message")
	case first.code != 0 && wrote && !strings.Contains(c.Name, "blocked") && !strings.Contains(c.Name, "handed off"):
		return problem("stopped after writing to Graph")
	}
	fs, err := fileState(m, dir, before)
	if err != nil {
		return problem("%s", err)
	}
	if first.code != 0 && fs != "untouched" && !strings.Contains(c.Name, "handed off") {
		return problem("stopped, and the files are %s", fs)
	}

	var me string
	e.Store().View(func(d *emulator.Directory) {
		if t := d.Tenant(ti.ID); t != nil {
			for _, u := range t.Users {
				if strings.EqualFold(u.UserPrincipalName, upn) {
					me = u.ID
				}
			}
		}
	})
	appID := ""
	if a := appOf(e, ti.ID, me); a != nil {
		appID = a.AppID
	}
	c.Lift(e, ti.ID, appID)
	second, err := runBinary(bin, home, nil, args...)
	if err != nil {
		return o, err
	}
	if second.code != 0 {
		return problem("the re-run failed (exit %d): %s", second.code, errorLine(second.stderr))
	}
	live, deleted := tagged(e, ti.ID)
	app := appOf(e, ti.ID, me)
	if app == nil || len(live) != 1 || len(deleted) != 0 {
		return problem("after the re-run: want one app, the person's: %s", describeApps(live, deleted))
	}
	cfg, err := templates.Read(m, dir)
	if err != nil {
		return problem("after the re-run: %s", err)
	}
	if !strings.EqualFold(cfg.ClientID, app.AppID) {
		return problem("after the re-run the folder holds client id %s, the app is %s", cfg.ClientID, app.AppID)
	}
	if cfg.ClientSecret != "" && !slices.ContainsFunc(app.PasswordCredentials, func(p emulator.PasswordCredential) bool { return p.SecretText == cfg.ClientSecret }) {
		return problem("after the re-run the folder's secret is not on the app")
	}
	if grants := adminGrants(e, ti.ID, app.AppID); c.AdminConsent && grants != 1 {
		return problem("%d admin consents, want 1", grants)
	} else if !c.AdminConsent && grants > 1 {
		return problem("%d admin consents: more than the one handed off", grants)
	} else if !c.AdminConsent && grants == 1 && !strings.Contains(c.Name, "consent handed off") {
		return problem("an admin consent the role could not give")
	}
	if s := leaked(secretsOf(e), first.stdout, first.stderr, second.stdout, second.stderr); s != "" {
		return problem("a secret reached the terminal: %s", s)
	}
	o.Converged = true
	return o, nil
}

// tenantTable renders the shared-tenant outcomes for RELIABILITY.md.
func tenantTable(results []tenantOutcome) string {
	var b strings.Builder
	ok := 0
	for _, r := range results {
		if r.Problem == "" {
			ok++
		}
	}
	fmt.Fprintf(&b, "%d shared-tenant cases run by `TestFaultMatrixEndToEnd` (the built binary as that person, `--emulator-user`, one emulator each): %d kept every promise, %d broke one.\n\n", len(results), ok, len(results)-ok)
	b.WriteString("| sample | case | person | first run | handed off (--json) | 409s answered | re-run |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		first := fmt.Sprintf("exit %d, says `%s`", r.Code, r.Case.Want)
		re := "converged"
		if r.Problem != "" {
			re = "✗ " + r.Problem
		}
		ho := strings.Join(r.HandOffs, ", ")
		if ho == "" {
			ho = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s |\n", r.Case.Sample, r.Case.Name, r.Case.Person, first, ho, r.Conflicts, re)
	}
	return b.String()
}

// runTenantCases runs the shared-tenant cases FAULT_CASES picks (all when unset) in parallel,
// reports each as a subtest, and returns them all (nil when some were left out).
func runTenantCases(t *testing.T, bin, seed string) []tenantOutcome {
	cases := tenantCases()
	all := true
	if re := os.Getenv("FAULT_CASES"); re != "" {
		pick := regexp.MustCompile(re)
		cases = slices.DeleteFunc(cases, func(c tenantCase) bool { return !pick.MatchString("shared-tenant/" + c.Sample + "/" + c.Name) })
		all = len(cases) == len(tenantCases())
	}
	results := make([]tenantOutcome, len(cases))
	done := make(chan struct{})
	for i, c := range cases {
		go func() {
			defer func() { done <- struct{}{} }()
			o, err := runTenantCase(t, bin, seed, c)
			if err != nil {
				o.Problem = "the harness failed: " + err.Error()
			}
			results[i] = o
		}()
	}
	for range cases {
		<-done
	}
	for i, c := range cases {
		o := results[i]
		t.Run("shared-tenant/"+c.Sample+"/"+c.Name, func(t *testing.T) {
			t.Logf("exit %d handed off %v 409s %d converged=%v error=%q", o.Code, o.HandOffs, o.Conflicts, o.Converged, o.Error)
			if o.Problem != "" {
				t.Errorf("%s (exit %d, error %q)", o.Problem, o.Code, o.Error)
			}
		})
	}
	if !all {
		return nil
	}
	return results
}
