package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// setEnvLine replaces the value of one key in a dotenv file (the whole KEY=... line).
func setEnvLine(t *testing.T, path, key, value string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=.*$`)
	if !re.Match(b) {
		t.Fatalf("%s has no %s line:\n%s", path, key, b)
	}
	out := re.ReplaceAllLiteral(b, []byte(key+"="+value))
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// removeRedirectURI takes a web redirect URI off every tagged app in the in-process emulator's
// data (the emulator of the config folder h, not running between commands).
func removeRedirectURI(t *testing.T, h, uri string) {
	t.Helper()
	e := emulatortest.New(t, emulatortest.WithDataFile(filepath.Join(h, "emulator", "state.json")), emulatortest.WithDir(filepath.Join(h, "emulator")))
	defer e.Close() // now: the next command's emulator runs on the same data file
	err := e.Store().Do(func(d *emulator.Directory) error {
		for _, tn := range d.Tenants {
			for _, a := range tn.Applications {
				if hasTag(a.Tags, "entra-quickstart") {
					a.Web.RedirectURIs = slices.DeleteFunc(a.Web.RedirectURIs, func(u string) bool { return u == uri })
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// configured gives the test its own config folder (home) and a folder init configured for the
// sample against the in-process emulator, with no sign-in check; it returns both.
func configured(t *testing.T, sample string) (h string, m *samples.Manifest, dir string) {
	t.Helper()
	h = home(t)
	m, err := samples.Lookup(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if code, _, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", m.ID, "--dir", dir, "--no-verify"); code != ExitOK {
		t.Fatalf("init: %s", errOut)
	}
	return h, m, dir
}

// TestDoctorChecksTheFolderRedirectURIs edits the redirect URIs a configured node-workforce
// folder sends and lets doctor compare them with the app's registered web redirect URIs by
// Entra's rule (the port of localhost ignored, the path's case and a trailing slash not).
func TestDoctorChecksTheFolderRedirectURIs(t *testing.T) {
	_, m, dir := configured(t, "node-workforce")
	env := filepath.Join(dir, ".env")
	orig, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, value string
		wantOK           bool
	}{
		{"unregistered path", "REDIRECT_URI", "http://localhost:3000/auth/callback", false},
		{"path differs in case", "REDIRECT_URI", "http://localhost:3000/Auth/redirect", false},
		{"trailing slash added", "REDIRECT_URI", "http://localhost:3000/auth/redirect/", false},
		{"127.0.0.1 is not localhost", "REDIRECT_URI", "http://127.0.0.1:3000/auth/redirect", false},
		{"another localhost port", "REDIRECT_URI", "http://localhost:4000/auth/redirect", true},
		{"host in upper case", "REDIRECT_URI", "http://LOCALHOST:3000/auth/redirect", true},
		{"post-logout unregistered", "POST_LOGOUT_REDIRECT_URI", "http://localhost:3000/signed-out", false},
		{"post-logout with a slash for no path", "POST_LOGOUT_REDIRECT_URI", "http://localhost:3000/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(env, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			setEnvLine(t, env, tc.key, tc.value)
			code, bad := doctorFindings(t, dir)
			if tc.wantOK {
				if code != ExitOK || len(bad) != 0 {
					t.Fatalf("%s=%s is registered by Entra's rule; doctor: exit %d, findings %+v", tc.key, tc.value, code, bad)
				}
				return
			}
			if code != ExitError || len(bad) != 1 {
				t.Fatalf("%s=%s: exit %d, findings %+v; want exit 1 and one finding", tc.key, tc.value, code, bad)
			}
			f := bad[0]
			for _, want := range []string{tc.value, tc.key, ".env"} {
				if !strings.Contains(f.Problem, want) {
					t.Errorf("the problem does not name %q: %s", want, f.Problem)
				}
			}
			// The fix names the command that writes the sample's value back, and the value.
			wantURI := m.RedirectURI
			if tc.key == "POST_LOGOUT_REDIRECT_URI" {
				wantURI = m.PostLogoutRedirectURI
			}
			for _, want := range []string{"entra-quickstart init --sample node-workforce --dir " + shellQuote(dir) + " --emulator", wantURI} {
				if !strings.Contains(f.Fix, want) {
					t.Errorf("the fix does not say %q: %s", want, f.Fix)
				}
			}
			// The human output shows the same.
			_, human, _ := run(t, "doctor", "--emulator", "--dir", dir)
			if !strings.Contains(human, tc.value) || !strings.Contains(human, "fix: run 'entra-quickstart init") {
				t.Errorf("doctor's output does not name %s and its fix:\n%s", tc.value, human)
			}
		})
	}

	// --fix writes the sample's value back, and doctor then finds nothing.
	if err := os.WriteFile(env, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	setEnvLine(t, env, "REDIRECT_URI", "http://localhost:3000/auth/callback")
	if code, out, errOut := run(t, "doctor", "--emulator", "--dir", dir, "--fix"); code != ExitOK {
		t.Fatalf("doctor --fix: exit %d\n%s\n%s", code, out, errOut)
	}
	cfg, err := templates.Read(m, dir)
	if err != nil || cfg.RedirectURI != m.RedirectURI {
		t.Fatalf("after --fix the folder sends %q (%v), want %s", cfg.RedirectURI, err, m.RedirectURI)
	}
}

// TestDoctorFindsARedirectURIMissingFromTheApp removes the sample's own redirect URI from the
// app registration: the folder is right, so the fix is init registering it again.
func TestDoctorFindsARedirectURIMissingFromTheApp(t *testing.T) {
	h, m, dir := configured(t, "node-workforce")
	removeRedirectURI(t, h, m.PostLogoutRedirectURI)
	code, bad := doctorFindings(t, dir)
	if code != ExitError || len(bad) != 1 || !strings.Contains(bad[0].Check, "post-logout") ||
		!strings.Contains(bad[0].Problem, m.PostLogoutRedirectURI) || !strings.Contains(bad[0].Fix, "registers "+m.PostLogoutRedirectURI) {
		t.Fatalf("doctor with the post-logout URI gone from the app: exit %d, findings %+v", code, bad)
	}
	if code, out, errOut := run(t, "doctor", "--emulator", "--dir", dir, "--fix"); code != ExitOK {
		t.Fatalf("doctor --fix: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestDoctorFixForAKeyInitDoesNotWrite edits the ASP.NET sample's CallbackPath, a value init
// leaves to the sample's own appsettings.json: the fix is an edit of that file, not init.
func TestDoctorFixForAKeyInitDoesNotWrite(t *testing.T) {
	_, _, dir := configured(t, "aspnet-workforce")
	p := filepath.Join(dir, "appsettings.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"/signin-oidc"`) {
		t.Fatalf("appsettings.json has no CallbackPath /signin-oidc:\n%s", b)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), `"/signin-oidc"`, `"/signin-elsewhere"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, bad := doctorFindings(t, dir)
	if code != ExitError || len(bad) != 1 || !strings.Contains(bad[0].Problem, "https://localhost:5001/signin-elsewhere") ||
		!strings.HasPrefix(bad[0].Fix, "edit AzureAd:CallbackPath in appsettings.json so that it gives https://localhost:5001/signin-oidc") {
		t.Fatalf("doctor after a CallbackPath edit: exit %d, findings %+v", code, bad)
	}
}

// doctorFindings runs doctor --json against the in-process emulator on dir and returns its exit
// code and the findings that are not OK.
func doctorFindings(t *testing.T, dir string) (int, []Finding) {
	t.Helper()
	code, out, errOut := run(t, "doctor", "--emulator", "--dir", dir, "--json")
	var r DoctorResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out, errOut)
	}
	var bad []Finding
	for _, f := range r.Findings {
		if !f.OK {
			bad = append(bad, f)
		}
	}
	return code, bad
}

// TestDoctorRefusesAClientIDThatIsNotAGUID: a client id edited into an OData clause must not
// make doctor report on another app; it is a finding, and no filter is ever built from it.
func TestDoctorRefusesAClientIDThatIsNotAGUID(t *testing.T) {
	_, _, dir := configured(t, "node-workforce")
	env := filepath.Join(dir, ".env")
	setEnvLine(t, env, "CLIENT_ID", "00000000-0000-0000-0000-000000000000' or displayName eq 'HR-prod")
	code, bad := doctorFindings(t, dir)
	if code != ExitError || len(bad) != 1 || bad[0].Check != "the client id is a GUID" || !strings.Contains(bad[0].Problem, "HR-prod") {
		t.Fatalf("doctor on an injected client id: exit %d, findings %+v", code, bad)
	}
}
