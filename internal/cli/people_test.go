package cli

import (
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
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
	args := append([]string{"init", "--no-input", "--sample", "node-workforce", "--dir", t.TempDir(), "--no-verify", "--emulator-user", "lee@" + ti.Domain}, remote...)
	code, _, errOut := run(t, args...)
	live, _ := tagged(e, ti.ID)
	if len(live) != 1 || !hasTag(live[0].Owners, lee) {
		t.Fatalf("init as lee: exit %d, tagged apps %s; want one owned by lee (%s)\n%s", code, describeApps(live, nil), lee, errOut)
	}
	if !strings.Contains(errOut, "lee@"+ti.Domain) {
		t.Errorf("init does not say it signs in as lee:\n%s", errOut)
	}
}
