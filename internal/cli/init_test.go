package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// run runs the command line in process with captured streams.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s, out, errOut := ui.Test("")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = Main(ctx, args, s)
	scanForSecrets(t, args, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// home gives the test its own config folder (the emulator's state and the local record).
func home(t *testing.T) string {
	t.Helper()
	h := t.TempDir()
	t.Setenv("ENTRA_QUICKSTART_HOME", h)
	return h
}

// remoteEmulator starts an emulator in process, closed at the test's end, and returns it with
// the flags that reach it as a standalone one (--emulator-url, --ca-file).
func remoteEmulator(t *testing.T) (*emulatortest.Emulator, []string) {
	t.Helper()
	e := emulatortest.New(t)
	return e, []string{"--emulator-url", e.URL(), "--ca-file", e.CAFile()}
}

// secretsIn returns the client secrets and other secret values written into a sample folder,
// read back the way the sample reads them.
func secretsIn(t *testing.T, m *samples.Manifest, dir string) []string {
	t.Helper()
	cfg, err := templates.Read(m, dir)
	if err != nil {
		t.Fatalf("read back %s: %v", dir, err)
	}
	var s []string
	if cfg.ClientSecret != "" {
		s = append(s, cfg.ClientSecret)
	}
	if cfg.Certificate != nil && cfg.Certificate.Password != "" {
		s = append(s, cfg.Certificate.Password)
	}
	return s
}

// TestInitEverySampleAgainstTheEmulator is the product's main promise, for each of the seven
// samples: one command ends with a configured folder and a passed sign-in check; a re-run
// changes nothing; reset leaves nothing tagged and puts the files back. No secret reaches the
// terminal.
func TestInitEverySampleAgainstTheEmulator(t *testing.T) {
	all, err := samples.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		t.Run(m.ID, func(t *testing.T) {
			home(t)
			dir := t.TempDir()
			code, out, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", m.ID, "--dir", dir, "--auto-sign-in", "--timeout", "45s", "--json")
			if code != ExitOK {
				t.Fatalf("init exit %d\nstderr:\n%s\nstdout:\n%s", code, errOut, out)
			}
			var res InitResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("stdout is not the JSON result: %v\n%s", err, out)
			}
			if res.Verify == nil || !res.Verify.OK() || res.ClientID == "" || !res.Created {
				t.Fatalf("result: %+v\nstderr:\n%s", res, errOut)
			}
			cfg, err := templates.Read(m, dir)
			if err != nil || cfg.ClientID != res.ClientID {
				t.Fatalf("the folder does not hold the new app: %+v, %v", cfg, err)
			}
			for _, s := range secretsIn(t, m, dir) {
				if strings.Contains(out+errOut, s) {
					t.Fatalf("a secret reached the terminal")
				}
			}

			// Again: the same app, nothing to change, the same files.
			before := snapshot(t, dir)
			code, out2, errOut2 := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", m.ID, "--dir", dir, "--no-verify", "--json")
			if code != ExitOK {
				t.Fatalf("re-run exit %d\n%s", code, errOut2)
			}
			var res2 InitResult
			if err := json.Unmarshal([]byte(out2), &res2); err != nil {
				t.Fatal(err)
			}
			if res2.ClientID != res.ClientID || res2.Created || len(res2.Plan) != 0 || len(res2.Actions) != 0 {
				t.Fatalf("re-run changed something: plan %+v actions %v", res2.Plan, res2.Actions)
			}
			if after := snapshot(t, dir); !equalMaps(before, after) {
				t.Fatalf("re-run changed the files")
			}

			// Reset: nothing tagged left, the folder as before init (config-only: empty).
			code, out3, errOut3 := run(t, "reset", "--emulator", "--sample", m.ID, "--yes", "--restore-files", "--json")
			if code != ExitOK {
				t.Fatalf("reset exit %d\n%s", code, errOut3)
			}
			var rr ResetResult
			if err := json.Unmarshal([]byte(out3), &rr); err != nil {
				t.Fatal(err)
			}
			if len(rr.Deleted) != 1 || len(rr.Purged) != 1 {
				t.Fatalf("reset: %+v", rr)
			}
			code, out4, _ := run(t, "list", "--emulator", "--sample", m.ID, "--json")
			if code != ExitOK || !noApps(out4) {
				t.Fatalf("after reset list = %s", out4)
			}
			if left := snapshot(t, dir); len(left) != 0 {
				t.Fatalf("--restore-files left files in the config-only folder: %v", keys(left))
			}
		})
	}
}

// TestInitExistingCheckoutAndShowSecret configures a real checkout of the Node sample (its
// upstream files), shows the secret only when asked, and restores the original files on reset.
func TestInitExistingCheckoutAndShowSecret(t *testing.T) {
	home(t)
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, rel := range []string{".env.dev", "package.json"} {
		b, err := m.Upstream(rel)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	orig := snapshot(t, dir)
	code, out, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", m.ID, "--dir", dir, "--no-verify", "--show-secret")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	secrets := secretsIn(t, m, dir)
	if len(secrets) != 1 || !strings.Contains(out, secrets[0]) {
		t.Fatalf("--show-secret did not show the secret:\n%s", out)
	}
	// Against the built-in emulator, which stopped with init: run --emulator starts it again for
	// the sample; the bare npm start would reach nothing.
	if !strings.Contains(out, "entra-quickstart run --emulator") || strings.Contains(out, "npm start") || !strings.Contains(out, "cd "+dir) {
		t.Errorf("the summary does not say how to run the sample against the emulator:\n%s", out)
	}
	if st, err := os.Stat(filepath.Join(dir, ".env")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf(".env: %v %v, want mode 0600", err, st)
	}
	if code, _, errOut := run(t, "reset", "--emulator", "--yes", "--restore-files"); code != ExitOK {
		t.Fatalf("reset exit %d\n%s", code, errOut)
	}
	if now := snapshot(t, dir); !equalMaps(orig, now) {
		t.Fatalf("reset --restore-files did not put the checkout back: before %v after %v", keys(orig), keys(now))
	}
}

func TestNoInputNamesTheMissingFlag(t *testing.T) {
	home(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"init", "--no-input", "--emulator"}, "--sample"},
		{[]string{"init", "--no-input", "--sample", "node-workforce"}, "--tenant"},
		{[]string{"init", "--no-input", "--sample", "nope", "--emulator"}, "node-workforce"},
		{[]string{"init", "--no-input", "--sample", "node-workforce", "--tenant", "contoso", "--emulator"}, "--tenant"},
		{[]string{"init", "--no-input", "--sample", "node-workforce", "--tenant-type", "external", "--emulator"}, "--tenant-type"},
		{[]string{"init", "--no-input", "--sample", "node-workforce", "--credential", "certificate", "--emulator"}, "--credential"},
		{[]string{"init", "--sample", "node-workforce", "--tenant", "contoso.onmicrosoft.com", "--auto-sign-in"}, "--auto-sign-in"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.flag) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, errOut, tc.flag)
		}
	}
}

func TestResetNeedsYesWithoutInput(t *testing.T) {
	home(t)
	if code, _, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", "node-workforce", "--dir", t.TempDir(), "--no-verify"); code != ExitOK {
		t.Fatalf("init: %d %s", code, errOut)
	}
	code, _, errOut := run(t, "reset", "--no-input", "--emulator")
	if code != ExitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("reset --no-input: exit %d %q; want 2 naming --yes", code, errOut)
	}
	if code, out, _ := run(t, "list", "--emulator", "--json"); code != ExitOK || !strings.Contains(out, "node-workforce") {
		t.Fatalf("reset without --yes deleted something: %s", out)
	}
}

func TestRootIsInit(t *testing.T) {
	home(t)
	code, _, errOut := run(t, "--no-input", "--emulator")
	if code != ExitUsage || !strings.Contains(errOut, "--sample") {
		t.Fatalf("bare command: exit %d %s", code, errOut)
	}
}

// TestInitJSONGolden pins the --json result's shape, ids and times masked.
func TestInitJSONGolden(t *testing.T) {
	home(t)
	dir := t.TempDir()
	code, out, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", "flask-workforce", "--dir", dir, "--auto-sign-in", "--timeout", "45s", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// Notices depend on the machine (a busy port, a browser): not part of the contract.
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if vr, ok := v["verify"].(map[string]any); ok {
		delete(vr, "notices")
		delete(vr, "refusals")
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	got := mask(string(b)+"\n", dir)
	testkit.Golden(t, filepath.Join("testdata", "init-flask-workforce.json.golden"), []byte(got))
}

var (
	guidRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE     = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T[^"]*"`)
	dateRE     = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	durationRE = regexp.MustCompile(`"(duration_ms|iat|nbf|exp)": \d+`)
	portRE     = regexp.MustCompile(`localhost:\d+`)
	numRE      = regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b`)
	b64RE      = regexp.MustCompile(`"(sid|sub|aio|uti|rh|nonce|oid|c_hash|kid)": "[^"]*"`)
	sigKeysRE  = regexp.MustCompile(`\d+ signing keys?`)
)

// mask replaces what changes from run to run: ids, times, ports, the temp folder.
func mask(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "<dir>")
	s = guidRE.ReplaceAllString(s, "<guid>")
	s = timeRE.ReplaceAllString(s, `"<time>"`)
	s = dateRE.ReplaceAllString(s, "<date>")
	s = durationRE.ReplaceAllString(s, `"$1": 0`)
	s = portRE.ReplaceAllString(s, "localhost:<port>")
	s = numRE.ReplaceAllString(s, "<n>$2")
	s = b64RE.ReplaceAllString(s, `"$1": "<opaque>"`)
	s = sigKeysRE.ReplaceAllString(s, "<n> signing keys")
	return s
}

// snapshot is readTree, failing the test on an error.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m, err := readTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal([]byte(v), []byte(w)) {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestDoctorFindsAndFixes breaks a configured folder (a wrong secret) and lets doctor find it
// and fix it.
func TestDoctorFindsAndFixes(t *testing.T) {
	home(t)
	dir := t.TempDir()
	if code, _, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", "node-external", "--dir", dir, "--no-verify"); code != ExitOK {
		t.Fatalf("init: %s", errOut)
	}
	if code, out, errOut := run(t, "doctor", "--emulator", "--dir", dir); code != ExitOK {
		t.Fatalf("doctor on a fresh folder: exit %d\n%s\n%s", code, out, errOut)
	}
	env := filepath.Join(dir, ".env")
	b, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := samples.Lookup("node-external")
	secret := secretsIn(t, m, dir)[0]
	if err := os.WriteFile(env, []byte(strings.ReplaceAll(string(b), secret, "wrong-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "doctor", "--emulator", "--dir", dir, "--json")
	var r DoctorResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if code != ExitError || credentialWorks(&r) {
		t.Fatalf("doctor missed the wrong secret: exit %d %s", code, out)
	}
	code, out, errOut := run(t, "doctor", "--emulator", "--dir", dir, "--fix", "--json")
	if code != ExitOK {
		t.Fatalf("doctor --fix: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, secretsIn(t, m, dir)[0]) {
		t.Fatal("doctor printed the new secret")
	}
}

// TestInitWithDeviceCodeSignIn runs the wizard's delegated sign-in path (device code, the
// person being the emulator's admin) instead of the automation client, in both tenant kinds. Its
// token holds only the scopes the tool asks for, so Graph (the emulator, as Graph does) hides the
// organization's tenantType: the kind comes from the sign-in service's External ID document, and
// a sample of the other kind is refused before anything is written.
func TestInitWithDeviceCodeSignIn(t *testing.T) {
	for _, sample := range []string{"node-workforce", "node-external"} {
		t.Run(sample, func(t *testing.T) {
			home(t)
			e, remote := remoteEmulator(t)
			code, out, errOut := run(t, append([]string{"init", "--no-input", "--yes", "--sample", sample, "--dir", t.TempDir(), "--auth", "device-code", "--auto-sign-in", "--timeout", "45s", "--json"}, remote...)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			if !strings.Contains(errOut, "enter the code") {
				t.Errorf("no device-code message on stderr:\n%s", errOut)
			}
			var res InitResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Verify == nil || !res.Verify.OK() {
				t.Fatalf("result %+v %v", res, err)
			}
			wantType := map[string]string{"node-workforce": "workforce", "node-external": "external"}[sample]
			if res.TenantType != wantType {
				t.Errorf("tenant type %q, want %q", res.TenantType, wantType)
			}
			probed := false
			for _, r := range e.Requests() {
				if strings.HasPrefix(r.Route, "graph.") && r.Status == 403 {
					t.Errorf("the tool's scopes do not cover %s %s (403)", r.Method, r.Path)
				}
				probed = probed || (r.Route == "login.discovery" && strings.Contains(r.Path, "/ciam/"))
			}
			if !probed {
				t.Error("the tenant's kind was not asked of the sign-in service")
			}

			// The other kind's sample in this tenant: refused, nothing made.
			other := map[string]string{"node-workforce": "node-external", "node-external": "node-workforce"}[sample]
			dir := t.TempDir()
			code, _, errOut = run(t, append([]string{"init", "--no-input", "--yes", "--sample", other, "--tenant", res.TenantID, "--dir", dir, "--auth", "device-code", "--auto-sign-in", "--timeout", "45s"}, remote...)...)
			if code == ExitOK || !strings.Contains(errOut, "sample "+other+" is for a") {
				t.Fatalf("%s in a %s tenant: exit %d\n%s", other, wantType, code, errOut)
			}
			if left := snapshot(t, dir); len(left) != 0 {
				t.Errorf("a refused run wrote files: %v", keys(left))
			}
		})
	}
}

// TestDryRunChangesNothing shows the plan and leaves the tenant and the folder alone; against a
// standalone emulator (--emulator-url), as a workshop rehearsal uses it.
func TestDryRunChangesNothing(t *testing.T) {
	home(t)
	e, remote := remoteEmulator(t)
	dir := t.TempDir()
	code, out, errOut := run(t, append([]string{"init", "--no-input", "--sample", "aspnet-workforce", "--dir", dir, "--dry-run", "--json"}, remote...)...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var res InitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.DryRun || len(res.Plan) == 0 || res.ClientID != "" {
		t.Fatalf("dry run result %+v %v", res, err)
	}
	if !strings.Contains(errOut, "create the app registration") {
		t.Errorf("the plan is not shown on stderr:\n%s", errOut)
	}
	if code, out, _ := run(t, append([]string{"list", "--json"}, remote...)...); code != ExitOK || !noApps(out) {
		t.Fatalf("a dry run made an app: %s", out)
	}
	if left := snapshot(t, dir); len(left) != 0 {
		t.Fatalf("a dry run wrote files: %v", keys(left))
	}
	for _, r := range e.Requests() {
		if r.Method != "GET" && strings.HasPrefix(r.Route, "graph.") {
			t.Errorf("a dry run wrote to Graph: %s %s", r.Method, r.Path)
		}
	}
}

// noApps reports whether list --json says it succeeded and found no app.
func noApps(out string) bool {
	var r struct {
		OK   bool              `json:"ok"`
		Apps []json.RawMessage `json:"apps"`
	}
	return json.Unmarshal([]byte(out), &r) == nil && r.OK && r.Apps != nil && len(r.Apps) == 0
}
