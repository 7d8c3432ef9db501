package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/reliability"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// badInput is one bad input given to init (or verify), through the command line in process,
// against an emulator this test can look into.
type badInput struct {
	name   string
	sample string
	// setup prepares the checkout (dir) before the run; nil leaves the sample's own files.
	setup func(t *testing.T, dir string)
	// args replace the default flags after "init --emulator-url URL --ca-file CA --no-input";
	// {dir} is the checkout.
	args []string
	code int
	want string // in the error
	// ok: the run succeeds; check then looks at the result.
	check func(t *testing.T, dir string)
	// fix makes the input right again, for the re-run that must converge on one app; nil for
	// a refusal before anything was created (then no app may exist).
	fix func(t *testing.T, dir string)
	// skip says why the case cannot run here ("" runs it).
	skip func() string
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func fileHas(t *testing.T, path string, wants ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s lost %q:\n%s", filepath.Base(path), w, b)
		}
	}
}

func badInputs() []badInput {
	env := func(content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".env"), content, 0o600) }
	}
	appsettings := func(content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "appsettings.json"), content, 0o644) }
	}
	removeEnv := func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ".env")) }
	restoreAppsettings := func(t *testing.T, dir string) {
		m, _ := samples.Lookup("aspnet-external")
		b, _ := m.Upstream("appsettings.json")
		writeFile(t, filepath.Join(dir, "appsettings.json"), string(b), 0o644)
	}
	// A read-only folder: by its mode, or for root (whom modes do not stop) by the immutable
	// attribute, which refuses everyone as a read-only mount does.
	immutable := func(dir string, on bool) error {
		flag := "-i"
		if on {
			flag = "+i"
		}
		if out, err := exec.Command("chattr", flag, dir).CombinedOutput(); err != nil {
			return fmt.Errorf("chattr %s: %v %s", flag, err, out)
		}
		return nil
	}
	readOnlyDir := func(t *testing.T, dir string) {
		if os.Geteuid() != 0 {
			os.Chmod(dir, 0o555)
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			return
		}
		if err := immutable(dir, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { immutable(dir, false) })
	}
	writableDir := func(t *testing.T, dir string) {
		if os.Geteuid() == 0 {
			if err := immutable(dir, false); err != nil {
				t.Fatal(err)
			}
		}
		os.Chmod(dir, 0o755)
	}
	readOnlyUnsupported := func() string {
		if os.Geteuid() != 0 {
			return ""
		}
		d, err := os.MkdirTemp("", "immutable-probe-")
		if err != nil {
			return err.Error()
		}
		defer os.RemoveAll(d)
		if err := immutable(d, true); err != nil {
			return "root ignores folder permissions, and the immutable attribute is not available here: " + err.Error()
		}
		defer immutable(d, false)
		return ""
	}
	const upstreamAppsettings = `{
  // the sample's settings
  "AzureAd": {
    "Authority": "https://Enter_the_Tenant_Subdomain_Here.ciamlogin.com/", /* the authority host */
    "ClientId": "Enter_the_Application_Id_Here",
    "ClientCredentials": [
      {
        "SourceType": "ClientSecret",
        "ClientSecret": "Enter_the_Client_Secret_Here",
      },
    ],
    "CallbackPath": "/signin-oidc",
    "SignedOutCallbackPath": "/signout-callback-oidc", // kept
  },
  "Logging": { "LogLevel": { "Default": "Information" } },
  "AllowedHosts": "*",
}
`
	return []badInput{
		{name: ".env with a byte-order mark", sample: "flask-workforce", setup: env("\ufeffCLIENT_ID=x\n"), code: ExitError, want: "byte-order mark", fix: removeEnv},
		{name: ".env with CRLF line ends", sample: "flask-workforce", setup: env("# mine\r\nCLIENT_ID=x\r\nOTHER=kept\r\n"), check: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ".env"))
			if strings.Count(string(b), "\r\n") != strings.Count(string(b), "\n") {
				t.Errorf("the CRLF line ends were not kept:\n%q", b)
			}
			fileHas(t, filepath.Join(dir, ".env"), "# mine\r\n", "OTHER=kept\r\n")
		}},
		{name: ".env with a stray carriage return", sample: "flask-workforce", setup: env("A=1\rB=2\n"), code: ExitError, want: "line ending", fix: removeEnv},
		{name: ".env with a duplicate key", sample: "node-workforce", setup: env("CLIENT_ID=a\nCLIENT_ID=b\n"), code: ExitError, want: "CLIENT_ID", fix: removeEnv},
		{name: ".env with an unterminated quote", sample: "node-external", setup: env("CLIENT_SECRET=\"abc\nX=1\n"), code: ExitError, want: "quote", fix: removeEnv},
		{name: ".env with comments everywhere", sample: "flask-workforce", setup: env("# top\n\n  # indented\nexport CLIENT_ID=old # trailing\n# between\nMINE='keep me' # mine\n#CLIENT_SECRET=commented out\n"), check: func(t *testing.T, dir string) {
			fileHas(t, filepath.Join(dir, ".env"), "# top\n", "  # indented\n", "# between\n", "MINE='keep me' # mine\n", "#CLIENT_SECRET=commented out\n", "export CLIENT_ID=")
		}},
		{name: ".env not UTF-8", sample: "flask-workforce", setup: env("CLIENT_ID=\xff\xfe\n"), code: ExitError, want: "UTF-8", fix: removeEnv},
		{name: ".env is a folder", sample: "flask-workforce", setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, ".env"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, code: ExitError, want: "not a regular file", fix: removeEnv},
		{name: ".env is a symbolic link", sample: "flask-workforce", setup: func(t *testing.T, dir string) {
			target := filepath.Join(t.TempDir(), "elsewhere.env")
			writeFile(t, target, "CLIENT_ID=x\n", 0o600)
			if err := os.Symlink(target, filepath.Join(dir, ".env")); err != nil {
				t.Fatal(err)
			}
		}, code: ExitError, want: "not a regular file", fix: removeEnv},
		{name: ".env read-only", sample: "flask-workforce", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, ".env"), "CLIENT_ID=x\n", 0o400)
		}, code: ExitError, want: "read-only", fix: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, ".env"), 0o600) }},
		{name: "folder read-only", sample: "flask-workforce", skip: readOnlyUnsupported, setup: readOnlyDir, code: ExitError, want: "writable", fix: writableDir},
		{name: "appsettings.json invalid JSON", sample: "aspnet-external", setup: appsettings(`{"AzureAd": {"ClientId": }`), code: ExitError, want: "JSON", fix: restoreAppsettings},
		{name: "appsettings.json duplicate key", sample: "aspnet-external", setup: appsettings(`{"AzureAd": {}, "AzureAd": {}}`), code: ExitError, want: "AzureAd", fix: restoreAppsettings},
		{name: "appsettings.json with a BOM, comments and trailing commas", sample: "aspnet-external", setup: appsettings("\ufeff" + upstreamAppsettings), check: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "appsettings.json")
			fileHas(t, p, "\ufeff{\n  // the sample's settings\n", "/* the authority host */", `// kept`, `"AllowedHosts": "*",`)
		}},
		{name: "appsettings.json with CRLF line ends", sample: "aspnet-external", setup: appsettings(strings.ReplaceAll(upstreamAppsettings, "\n", "\r\n")), check: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "appsettings.json"))
			if strings.Count(string(b), "\r\n") != strings.Count(string(b), "\n") {
				t.Errorf("the CRLF line ends were not kept:\n%q", b)
			}
		}},
		{name: "a folder that is another sample", sample: "node-workforce", setup: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "package.json"))
			writeFile(t, filepath.Join(dir, "requirements.txt"), "identity\nflask\n", 0o644)
			writeFile(t, filepath.Join(dir, "app.py"), "print('a flask app')\n", 0o644)
		}, code: ExitUsage, want: "--dir"},
		{name: "a file instead of a folder", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--dir", "{dir}/package.json"}, code: ExitUsage, want: "not a folder"},
		{name: "unknown sample id", sample: "node-workforce", args: []string{"--sample", "node-workfroce", "--dir", "{dir}"}, code: ExitUsage, want: "node-workforce"},
		{name: "sample id with a path", sample: "node-workforce", args: []string{"--sample", "../node-workforce", "--dir", "{dir}"}, code: ExitUsage, want: "node-workforce"},
		{name: "sample of the other tenant kind", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant-type", "external", "--dir", "{dir}"}, code: ExitUsage, want: "--tenant-type"},
		{name: "tenant neither GUID nor domain", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "contoso", "--dir", "{dir}"}, code: ExitUsage, want: "--tenant"},
		{name: "tenant with spaces and symbols", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "con toso;rm -rf", "--dir", "{dir}"}, code: ExitUsage, want: "--tenant"},
		{name: "tenant as a URL", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "https://login.microsoftonline.com/contoso.onmicrosoft.com", "--dir", "{dir}"}, code: ExitUsage, want: "--tenant"},
		{name: "tenant GUID malformed", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "3632269b-3a14-4109-a75c-a16b8f2650e", "--dir", "{dir}"}, code: ExitUsage, want: "--tenant"},
		{name: "tenant domain that does not exist", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "fabrikam.onmicrosoft.com", "--dir", "{dir}"}, code: -1, want: "fabrikam.onmicrosoft.com"},
		{name: "tenant GUID that does not exist", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--tenant", "00000000-1111-2222-3333-444444444444", "--dir", "{dir}"}, code: -1, want: "00000000-1111-2222-3333-444444444444"},
		{name: "name with spaces", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--name", "my app!", "--dir", "{dir}"}, code: ExitUsage, want: "--name"},
		{name: "credential the sample lacks", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--credential", "certificate", "--dir", "{dir}"}, code: ExitUsage, want: "--credential"},
		{name: "secret lifetime beyond the maximum", sample: "node-workforce", args: []string{"--sample", "node-workforce", "--secret-lifetime", "100000h", "--dir", "{dir}"}, code: ExitUsage, want: "--secret-lifetime"},
	}
}

// badOutcome is one row of the bad-input table.
type badOutcome struct {
	Name, Sample string
	Code         int
	Error        string
	Kept         bool   // the files as before (or, for a success, what was there kept)
	Apps         int    // tagged apps after the failed run
	Recovery     string // what happened next
	Skipped      string
}

// TestBadInput gives init bad files, folders, flags and tenants through the command line (in
// process, against an emulator the test looks into). Each refusal has a clear error and the
// right exit code and leaves the files as they were; a refusal before the app registration is
// made leaves no app; one after it (the files could not be written) leaves one app that the
// re-run, once the input is fixed, converges on (no second app). Inputs the tool accepts
// (CRLF, comments, a JSON BOM, trailing commas) keep what they held. With -update the outcomes
// go into RELIABILITY.md.
func TestBadInput(t *testing.T) {
	seed := emulatortest.Seed(t)
	var rows []badOutcome
	for _, bc := range badInputs() {
		t.Run(bc.name, func(t *testing.T) {
			row := badOutcome{Name: bc.name, Sample: bc.sample}
			defer func() { rows = append(rows, row) }()
			if bc.skip != nil {
				if why := bc.skip(); why != "" {
					row.Skipped = why
					t.Skip(why)
				}
			}
			home(t)
			e, m, dir := seededCheckout(t, seed, bc.sample)
			ti, _ := e.Info().Tenant(emulator.TenantType(m.TenantType))
			if bc.setup != nil {
				bc.setup(t, dir)
			}
			before, _ := readTree(dir)
			args := bc.args
			if args == nil {
				args = []string{"--sample", bc.sample, "--dir", "{dir}"}
			}
			full := []string{"init", "--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--no-input", "--yes", "--no-verify"}
			for _, a := range args {
				full = append(full, strings.ReplaceAll(a, "{dir}", dir))
			}
			code, out, errOut := run(t, full...)
			row.Code, row.Error = code, errorLine(errOut)
			assertNoSecret(t, e, out, errOut)
			live, _ := tagged(e, ti.ID)
			row.Apps = len(live)
			if bc.check != nil {
				if code != ExitOK {
					t.Fatalf("exit %d, want success\n%s", code, errOut)
				}
				bc.check(t, dir)
				row.Kept = !t.Failed()
				row.Recovery = "accepted, content kept"
				return
			}
			switch {
			case bc.code == -1 && code == ExitOK, bc.code != -1 && code != bc.code:
				t.Fatalf("exit %d, want %d\n%s", code, bc.code, errOut)
			case !strings.Contains(errOut, bc.want):
				t.Errorf("the error does not name %q:\n%s", bc.want, errOut)
			case strings.Count(strings.TrimSpace(errOut), "\n") > 40:
				t.Errorf("the error is buried in %d lines", strings.Count(errOut, "\n"))
			}
			after, _ := readTree(dir)
			row.Kept = equalMaps(before, after)
			if !row.Kept {
				t.Errorf("the folder changed: before %v after %v", keys(before), keys(after))
			}
			if bc.fix == nil {
				if row.Apps != 0 {
					t.Errorf("a refusal before provisioning left %d app(s)", row.Apps)
				}
				row.Recovery = "refused before any change: no app"
				return
			}
			// Refused after the app was made: fix the input; the same command converges.
			bc.fix(t, dir)
			code, out, errOut = run(t, full...)
			assertNoSecret(t, e, out, errOut)
			if code != ExitOK {
				t.Fatalf("the re-run after the fix: exit %d\n%s", code, errOut)
			}
			if err := convergence(e, ti.ID, m, dir); err != nil {
				t.Fatalf("after the re-run: %v", err)
			}
			row.Recovery = fmt.Sprintf("app made (%d), files kept; re-run after the fix converged on one app", row.Apps)
		})
	}
	t.Run("expired secret at verify", func(t *testing.T) {
		row := badOutcome{Name: "expired secret at verify", Sample: "node-workforce"}
		defer func() { rows = append(rows, row) }()
		home(t)
		e, m, dir := seededCheckout(t, seed, "node-workforce")
		base := []string{"--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--no-input"}
		if code, _, errOut := run(t, append([]string{"init", "--yes", "--no-verify", "--sample", m.ID, "--dir", dir}, base...)...); code != ExitOK {
			t.Fatalf("init: %s", errOut)
		}
		if err := e.Store().Do(func(d *emulator.Directory) error {
			for _, tn := range d.Tenants {
				for _, a := range tn.Applications {
					if !hasTag(a.Tags, "entra-quickstart") {
						continue // the automation client keeps its secret
					}
					for i := range a.PasswordCredentials {
						a.PasswordCredentials[i].EndDateTime = time.Now().Add(-time.Hour)
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		before, _ := readTree(dir)
		code, out, errOut := run(t, append([]string{"verify", "--dir", dir, "--auto-sign-in", "--timeout", "20s"}, base...)...)
		row.Code, row.Error = code, errorLine(errOut)
		assertNoSecret(t, e, out, errOut)
		if code != ExitError || !strings.Contains(strings.ToLower(out+errOut), "expired") {
			t.Errorf("verify with an expired secret: exit %d, want 1 and a message that says it expired\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		after, _ := readTree(dir)
		row.Kept = equalMaps(before, after)
		if !row.Kept {
			t.Error("verify changed the folder")
		}
		// doctor --fix makes a new secret.
		if code, _, errOut := run(t, append([]string{"doctor", "--dir", dir, "--fix"}, base...)...); code != ExitOK {
			t.Fatalf("doctor --fix after expiry: exit %d\n%s", code, errOut)
		}
		ti, _ := e.Info().Tenant(emulator.Workforce)
		if err := convergence(e, ti.ID, m, dir); err != nil {
			t.Fatal(err)
		}
		row.Recovery = "files kept; doctor --fix made a new secret, one app"
	})
	t.Run("full disk", func(t *testing.T) { rows = append(rows, fullDisk(t, seed)...) })
	if testkit.Updating() && !t.Failed() {
		if err := reliability.UpdateBlock(filepath.Join(testenv.RepoRoot(), "RELIABILITY.md"), "bad-input", badTable(rows)); err != nil {
			t.Fatal(err)
		}
	}
}

// assertNoSecret fails the test when an output shows a client secret the emulator holds.
func assertNoSecret(t *testing.T, e *emulatortest.Emulator, outputs ...string) {
	t.Helper()
	if s := leaked(secretsOf(e), outputs...); s != "" {
		t.Errorf("a secret (%s) reached the terminal", s)
	}
}

// runIn is run with text on stdin, for answers to prompts in accessible mode.
func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	s, out, errOut := ui.Test(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = Main(ctx, args, s)
	scanForSecrets(t, args, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// fullDisk runs the built binary with a file-size limit (RLIMIT_FSIZE, set by a helper
// process: no root, no tmpfs), so that a write fails part way as on a full disk: the
// certificate's key (before anything is made in the tenant), the sample's .env (after the app
// is made), or the local record (after the files are written). Each run stops with a clear
// error, every file is whole (untouched or completely written), and once the limit is lifted
// the same command converges on one app.
func fullDisk(t *testing.T, seed string) []badOutcome {
	helper, ok := fsizeHelper(t)
	if !ok {
		t.Skip("no file-size limit on this platform")
	}
	bin := buildBinary(t)
	var rows []badOutcome
	for _, tc := range []struct {
		sample string
		limit  int
		what   string
	}{
		{"aspnet-workforce", 2000, "the certificate's key"},
		{"node-workforce", 300, "the sample's .env"},
		{"node-workforce", 700, "the local record"},
	} {
		t.Run(fmt.Sprintf("%s %d bytes", tc.sample, tc.limit), func(t *testing.T) {
			row := badOutcome{Name: fmt.Sprintf("full disk while writing %s (file size limit %d bytes)", tc.what, tc.limit), Sample: tc.sample}
			defer func() { rows = append(rows, row) }()
			e, m, dir := seededCheckout(t, seed, tc.sample)
			ti, _ := e.Info().Tenant(emulator.TenantType(m.TenantType))
			before, _ := readTree(dir)
			h := t.TempDir()
			args := []string{"init", "--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--no-input", "--yes", "--no-verify", "--sample", m.ID, "--dir", dir, "--json"}
			r, err := runBinary(helper[0], h, nil, append(append(helper[1:], strconv.Itoa(tc.limit), bin), args...)...)
			if err != nil {
				t.Fatal(err)
			}
			row.Code, row.Error = r.code, errorLine(r.stderr)
			if s := leaked(secretsOf(e), r.stdout, r.stderr); s != "" {
				t.Errorf("a secret reached the terminal")
			}
			live, _ := tagged(e, ti.ID)
			row.Apps = len(live)
			fs, ferr := fileState(m, dir, before)
			switch {
			case r.code != ExitError || row.Error == "":
				t.Fatalf("exit %d, want 1 with an error\n%s", r.code, r.stderr)
			case !strings.Contains(row.Error, "file too large"):
				t.Errorf("the error does not say what failed: %s", row.Error)
			case ferr != nil:
				t.Errorf("the folder is not whole after the failed write: %v", ferr)
			default:
				row.Kept = true
			}
			r2, err := runBinary(bin, h, nil, args...)
			if err != nil || r2.code != ExitOK {
				t.Fatalf("the re-run without the limit: %v exit %d\n%s", err, r2.code, r2.stderr)
			}
			if err := convergence(e, ti.ID, m, dir); err != nil {
				t.Fatal(err)
			}
			made := "no app made"
			if row.Apps > 0 {
				made = "app made"
			}
			row.Recovery = fmt.Sprintf("%s, files %s; re-run converged on one app", made, fs)
		})
	}
	return rows
}

func badTable(rows []badOutcome) string {
	var b bytes.Buffer
	tried, ok := 0, 0
	for _, r := range rows {
		if r.Skipped == "" {
			tried++
			if r.Kept {
				ok++
			}
		}
	}
	fmt.Fprintf(&b, "%d bad inputs tried by `TestBadInput` (in process, against an emulator), %d with the files kept; "+
		"no run left a second app.\n\n", tried, ok)
	b.WriteString("| input | sample | exit | error (first line, masked) | files | afterwards |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | %s | – | skipped here: %s | – | – |\n", r.Name, r.Sample, r.Skipped)
			continue
		}
		kept := "kept"
		if !r.Kept {
			kept = "CHANGED"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s |\n", r.Name, r.Sample, r.Code, mdCell(maskLine(r.Error)), kept, r.Recovery)
	}
	return b.String()
}

// tempPathRE matches a test's temporary folder (TempDir's <root>/<TestName><n>/<nnn>).
var tempPathRE = regexp.MustCompile(regexp.QuoteMeta(os.TempDir()) + `/[^\s/:'"]+/\d+`)

func mdCell(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
}
