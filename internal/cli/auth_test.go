package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// deviceCodes counts the interactive sign-ins the emulator saw: the device codes asked for.
func deviceCodes(e *emulatortest.Emulator) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Route == "login.devicecode" && r.Status == 200 {
			n++
		}
	}
	return n
}

// authStatusJSON is auth status --json as a script reads it.
type authStatusJSON struct {
	OK       bool `json:"ok"`
	ExitCode int  `json:"exit_code"`
	SignIns  []struct {
		Username   string   `json:"username"`
		TenantID   string   `json:"tenant_id"`
		Cloud      string   `json:"cloud"`
		Method     string   `json:"method"`
		Scopes     []string `json:"scopes"`
		TokenCache string   `json:"token_cache"`
	} `json:"signins"`
}

// Sign in once: through the built binary against an emulator reached as a standalone one, auth
// login signs the person in by device code, the next commands in the same tenant make no
// interactive sign-in (the emulator counts the device codes), auth status says who, which
// tenant, how and with which permissions and never prints a token, and auth logout empties the
// cache so that the next command signs in again.
func TestSignInOnce(t *testing.T) {
	bin := buildBinary(t)
	cacheHome := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheHome)
	t.Setenv(auth.TokenCacheEnv, "")
	e, ti, remote := sharedTenant(t)
	_, admin := e.Admin(t, emulator.Workforce)
	h := t.TempDir()
	cmd := func(args ...string) binRun {
		t.Helper()
		r, err := runBinary(bin, h, nil, append(args, remote...)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.Contains(out, "eyJ") {
				t.Fatalf("%v printed a token:\n%s", args, out)
			}
		}
		return r
	}
	as := []string{"--emulator-user", admin.UserPrincipalName, "--tenant", ti.ID}

	if r := cmd("auth", "login", "--tenant", ti.ID); r.code != ExitUsage || !strings.Contains(r.stderr, "--emulator-user") {
		t.Fatalf("auth login against the emulator without a person: exit %d, want %d naming --emulator-user:\n%s", r.code, ExitUsage, r.stderr)
	}

	r := cmd(append([]string{"auth", "login", "--json"}, as...)...)
	var login struct {
		OK       bool     `json:"ok"`
		ExitCode int      `json:"exit_code"`
		Username string   `json:"username"`
		TenantID string   `json:"tenant_id"`
		Method   string   `json:"method"`
		Scopes   []string `json:"scopes"`
		Kept     bool     `json:"kept"`
		NotKept  string   `json:"not_kept"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &login); err != nil || r.code != 0 || !login.OK || login.ExitCode != 0 {
		t.Fatalf("auth login: exit %d (%v)\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if !strings.EqualFold(login.Username, admin.UserPrincipalName) || login.TenantID != ti.ID || login.Method != "device-code" ||
		!strings.Contains(strings.Join(login.Scopes, " "), "Application.ReadWrite.All") {
		t.Errorf("auth login says %+v", login)
	}
	if n := deviceCodes(e); n != 1 {
		t.Fatalf("auth login: %d device codes, want 1", n)
	}

	if !login.Kept {
		// This system offers no encrypted storage: the fallback says so and signs in each time.
		if !strings.Contains(login.NotKept, "signs in again") {
			t.Fatalf("not kept, and not said why: %+v", login)
		}
		if r := cmd(append([]string{"list"}, as...)...); r.code != 0 || deviceCodes(e) != 2 {
			t.Fatalf("without a kept sign-in list: exit %d, %d device codes, want 2\n%s", r.code, deviceCodes(e), r.stderr)
		}
		return
	}

	// The next commands in the same tenant: no interactive sign-in, and they say whose sign-in
	// they use. init writes and grants consent: the kept sign-in has those permissions too.
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := checkout(t, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"list"},
		{"init", "--no-input", "--yes", "--sample", "node-workforce", "--dir", dir, "--no-verify"},
		{"list", "--json"},
	} {
		r := cmd(append(args, as...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		if n := deviceCodes(e); n != 1 {
			t.Fatalf("%v signed in again: %d device codes, want 1\n%s", args, n, r.stderr)
		}
		if args[0] == "init" && !strings.Contains(r.stderr, "kept from an earlier sign-in") {
			t.Errorf("%v does not say it uses the kept sign-in:\n%s", args, r.stderr)
		}
	}

	// status: who, which tenant, how, which permissions; never a token.
	r = cmd("auth", "status", "--json")
	var st authStatusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || !st.OK || len(st.SignIns) != 1 {
		t.Fatalf("auth status: exit %d (%v)\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	s := st.SignIns[0]
	if !strings.EqualFold(s.Username, admin.UserPrincipalName) || s.TenantID != ti.ID || s.Cloud != "emulator" || s.Method != "device-code" ||
		s.TokenCache != "encrypted" || !strings.Contains(strings.Join(s.Scopes, " "), "DelegatedPermissionGrant.ReadWrite.All") {
		t.Errorf("auth status says %+v", s)
	}
	r = cmd("auth", "status")
	for _, w := range []string{admin.UserPrincipalName, ti.ID, "device-code", "Application.ReadWrite.All", "encrypted"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("auth status does not say %q:\n%s", w, r.stdout)
		}
	}
	// The token cache on disk is encrypted: neither the person nor a token field reads in it.
	files, _ := filepath.Glob(filepath.Join(cacheHome, ".IdentityService", "entra-quickstart-*"))
	if len(files) == 0 {
		t.Fatalf("no token cache under %s", cacheHome)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, plain := range []string{admin.UserPrincipalName, "refresh_token", "RefreshToken", "AccessToken", "secret"} {
			if strings.Contains(string(b), plain) {
				t.Errorf("the token cache %s holds %q in plain text", f, plain)
			}
		}
	}

	// logout empties it: status has nothing, the cache files are gone, the next command signs
	// in again.
	if r := cmd("auth", "logout"); r.code != 0 || !strings.Contains(r.stdout, admin.UserPrincipalName) {
		t.Fatalf("auth logout: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cmd("auth", "status", "--json")
	st = authStatusJSON{}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != ExitError || st.OK || st.ExitCode != ExitError || len(st.SignIns) != 0 {
		t.Fatalf("auth status after logout: exit %d (%v), want %d and no sign-in\n%s", r.code, err, ExitError, r.stdout)
	}
	if !strings.Contains(r.stderr, "auth login") {
		t.Errorf("auth status after logout does not say how to sign in:\n%s", r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(cacheHome, ".IdentityService", "entra-quickstart-*")); len(left) != 0 {
		t.Errorf("logout left the token cache: %v", left)
	}
	if r := cmd(append([]string{"list"}, as...)...); r.code != 0 || deviceCodes(e) != 2 {
		t.Fatalf("list after logout: exit %d, %d device codes, want 2\n%s", r.code, deviceCodes(e), r.stderr)
	}
	t.Cleanup(func() { _, _ = runBinary(bin, h, nil, "auth", "logout") })

	// Another person of the same tenant does not get the kept sign-in: they sign in themselves.
	lee := "lee@" + ti.Domain
	if r := cmd("list", "--emulator-user", lee, "--tenant", ti.ID); r.code != 0 || deviceCodes(e) != 3 {
		t.Fatalf("list as lee after the admin: exit %d, %d device codes, want 3\n%s", r.code, deviceCodes(e), r.stderr)
	}
}

// With the token cache turned off, nothing is kept and every command says so and signs in.
func TestSignInNotKept(t *testing.T) {
	bin := buildBinary(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(auth.TokenCacheEnv, "none")
	e, ti, remote := sharedTenant(t)
	_, admin := e.Admin(t, emulator.Workforce)
	h := t.TempDir()
	for i := 1; i <= 2; i++ {
		r, err := runBinary(bin, h, nil, append([]string{"list", "--emulator-user", admin.UserPrincipalName, "--tenant", ti.ID}, remote...)...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 0 || deviceCodes(e) != i {
			t.Fatalf("list #%d: exit %d, %d device codes, want %d\n%s", i, r.code, deviceCodes(e), i, r.stderr)
		}
		if !strings.Contains(r.stderr, "not kept between commands") || !strings.Contains(r.stderr, auth.TokenCacheEnv+"=none") {
			t.Errorf("list #%d does not say the sign-in is not kept:\n%s", i, r.stderr)
		}
	}
	r, err := runBinary(bin, h, nil, "auth", "status")
	if err != nil || r.code != ExitError || !strings.Contains(r.stdout, "No sign-in is kept") {
		t.Fatalf("auth status: exit %d (%v)\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}
