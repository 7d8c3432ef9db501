package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// The choice of where a sign-in is kept: the encrypted cache by default, nothing (and a reason
// the person is told) where the system has no encrypted storage or the environment says none.
func TestCacheSelection(t *testing.T) {
	noKeyring := func(string) (azidentity.Cache, error) {
		return azidentity.Cache{}, errors.New("couldn't get the user keyring due to error \"operation not permitted\"")
	}
	works := func(string) (azidentity.Cache, error) { return azidentity.Cache{}, nil }
	for _, tc := range []struct {
		name      string
		env       string
		open      func(string) (azidentity.Cache, error)
		wantKept  bool
		wantNotes []string // in NotKept
		wantErr   string   // a refusal, not a fallback
	}{
		{"default, keyring works", "", works, true, nil, ""},
		{"keyring asked, works", "keyring", works, true, nil, ""},
		{"no keyring here", "", noKeyring, false, []string{"cannot be kept", "operation not permitted", "signs in again", "keyring"}, ""},
		{"none asked", "none", works, false, []string{TokenCacheEnv + "=none", "signs in again"}, ""},
		{"unknown value", "file", works, false, nil, TokenCacheEnv + `="file"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(TokenCacheEnv, tc.env)
			opened := false
			s := &SignIns{Dir: t.TempDir(), open: func(n string) (azidentity.Cache, error) { opened = true; return tc.open(n) }}
			for _, m := range []Method{MethodDeviceCode, MethodBrowser} {
				c, err := NewCredential(CredentialOptions{
					Cloud: clouds["public"], TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", Method: m, SignIns: s,
					DeviceCodePrompt: func(context.Context, azidentity.DeviceCodeMessage) error { return nil },
				})
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("%s: err %v, want one naming %s", m, err, tc.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := c.keeper != nil; got != tc.wantKept {
					t.Errorf("%s: kept %v, want %v", m, got, tc.wantKept)
				}
				if tc.wantKept != (c.NotKept == nil) {
					t.Errorf("%s: NotKept %v with kept %v", m, c.NotKept, tc.wantKept)
				}
				for _, w := range tc.wantNotes {
					if c.NotKept == nil || !strings.Contains(c.NotKept.Error(), w) {
						t.Errorf("%s: NotKept %v does not say %q", m, c.NotKept, w)
					}
				}
			}
			if tc.env == "none" && opened {
				t.Error("with none the encrypted cache was opened anyway")
			}
			// The Azure CLI and the environment keep their own sign-in: no cache is opened.
			opened = false
			if _, err := NewCredential(CredentialOptions{Cloud: clouds["public"], TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", Method: MethodAzureCLI, SignIns: s}); err != nil {
				t.Fatal(err)
			}
			if opened {
				t.Error("the Azure CLI's sign-in opened the token cache")
			}
		})
	}
}

// Records are per cloud base and tenant: an emulator's never stand for a real tenant's, nor
// another emulator's; status filters and logout removes the record, the cache's files and the
// lock files.
func TestKeptRecords(t *testing.T) {
	cacheDir := t.TempDir()
	s := &SignIns{Dir: t.TempDir(), cacheDir: func() (string, error) { return cacheDir, nil }}
	public := clouds["public"]
	emuA := Cloud{Name: "emulator", LoginBase: "https://localhost:1111"}
	emuB := Cloud{Name: "emulator", LoginBase: "https://localhost:2222"}
	tenant := "11111111-2222-3333-4444-555555555555"
	for i, c := range []Cloud{public, emuA} {
		k := &Kept{Record: azidentity.AuthenticationRecord{Username: fmt.Sprintf("p%d@contoso.onmicrosoft.com", i), Version: "1.0"},
			Cloud: c.Name, LoginBase: c.LoginBase, TenantID: tenant, Method: MethodDeviceCode, SignedIn: time.Now().Add(time.Duration(i) * time.Minute),
			CacheName: s.CacheName(c, tenant)}
		if err := s.Save(c, k); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cacheDir, k.CacheName), []byte("sealed"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cacheDir, k.CacheName+".lockfile"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if s.CacheName(emuA, tenant) == s.CacheName(emuB, tenant) || s.CacheName(emuA, tenant) == s.CacheName(public, tenant) {
		t.Fatal("two clouds share a token cache")
	}
	if k, _ := s.Load(emuB, tenant); k != nil {
		t.Fatalf("another emulator's base found %s's sign-in", k.Username())
	}
	if k, _ := s.Load(public, tenant); k == nil || k.Username() != "p0@contoso.onmicrosoft.com" {
		t.Fatalf("public cloud: %+v", k)
	}
	fi, err := os.Stat(s.path(public, tenant))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v %v, want mode 0600", fi, err)
	}
	for _, tc := range []struct {
		f    Filter
		want int
	}{
		{Filter{}, 2},
		{Filter{Cloud: "emulator"}, 1},
		{Filter{LoginBase: "https://localhost:2222/"}, 0},
		{Filter{LoginBase: "https://localhost:1111/"}, 1},
		{Filter{Tenant: "contoso.onmicrosoft.com"}, 2},
		{Filter{Tenant: tenant, Cloud: "public"}, 1},
		{Filter{Tenant: "fabrikam.onmicrosoft.com"}, 0},
	} {
		list, err := s.List(tc.f)
		if err != nil || len(list) != tc.want {
			t.Errorf("List(%+v) = %d sign-ins (%v), want %d", tc.f, len(list), err, tc.want)
		}
		for _, k := range list {
			if !k.CacheFound {
				t.Errorf("List(%+v): %s's cache not found", tc.f, k.Username())
			}
		}
	}
	removed, err := s.Remove(Filter{Cloud: "emulator"})
	if err != nil || len(removed) != 1 {
		t.Fatalf("Remove: %d, %v", len(removed), err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, removed[0].CacheName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the emulator's cache file is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, removed[0].CacheName+".lockfile")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the emulator's lock file is still there: %v", err)
	}
	if list, _ := s.List(Filter{}); len(list) != 1 || list[0].Cloud != "public" {
		t.Errorf("after logout of the emulator: %+v", list)
	}
}

// Two processes' worth of credentials against the emulator with the real encrypted cache: the
// second signs in with no device code, logout makes the next one sign in again. A machine with
// no keyring runs the fallback instead, which must say so and sign in each time.
func TestKeptSignInAgainstEmulator(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(TokenCacheEnv, "")
	e, c := startEmulator(t)
	ti, u := e.Admin(t, emulator.Workforce)
	s := NewSignIns(t.TempDir())
	t.Cleanup(func() { _, _ = s.Remove(Filter{}) })
	prompts := 0
	newCred := func(readOnly bool) *Credential {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Transport: c.Transport, Jar: jar}
		cred, err := NewCredential(CredentialOptions{
			Cloud: c, TenantID: ti.ID, Method: MethodDeviceCode, SignIns: s, User: u.UserPrincipalName, ReadOnly: readOnly,
			DeviceCodePrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				prompts++
				return emuclient.ApproveDeviceCode(ctx, browser, m.VerificationURL, m.UserCode,
					emuclient.SignInOptions{Username: u.UserPrincipalName, Password: u.Password, ConsentForOrganization: true})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	first := newCred(false)
	if first.NotKept != nil {
		if os.Getenv("CI") == "" {
			t.Logf("no encrypted storage here: %v", first.NotKept)
		}
		callGraph(t, c, first)
		callGraph(t, c, newCred(false))
		if prompts != 2 {
			t.Fatalf("without a kept sign-in: %d device codes for two commands, want 2", prompts)
		}
		return
	}
	// As auth login: SignIn keeps the sign-in where the Graph client's CAE token requests look.
	if r, err := first.SignIn(context.Background()); err != nil || !r.Kept {
		t.Fatalf("SignIn: %+v, %v", r, err)
	}
	k := first.KeptSignIn()
	if k == nil || !strings.EqualFold(k.Username(), u.UserPrincipalName) || !strings.Contains(strings.Join(k.Scopes, " "), "Application.ReadWrite.All") {
		t.Fatalf("kept after the first sign-in: %+v", k)
	}
	// The next command, read-only (list): the kept sign-in's write permissions cover its reads,
	// which were never consented on their own (Entra would answer AADSTS65001).
	second := newCred(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := second.GetToken(ctx, policy.TokenRequestOptions{Scopes: second.Scopes, EnableCAE: true}); err != nil {
		t.Fatal(err)
	}
	callGraph(t, c, second)
	callGraph(t, c, newCred(false))
	if prompts != 1 {
		t.Fatalf("%d device codes for three commands, want 1", prompts)
	}
	// Someone else asked for (--emulator-user): the kept sign-in is not theirs.
	other := CredentialOptions{Cloud: c, TenantID: ti.ID, SignIns: s, User: "someone.else@" + ti.Domain}
	if other.kept() != nil {
		t.Fatal("another person's kept sign-in was used")
	}
	if _, err := s.Remove(Filter{}); err != nil {
		t.Fatal(err)
	}
	callGraph(t, c, newCred(false))
	if prompts != 2 {
		t.Fatalf("after logout: %d device codes, want 2", prompts)
	}
}

// TestCacheNamesLogoutMayRemove: only the names CacheName makes lead logout to files; an edited
// record's ".." or another program's cache name leads nowhere.
func TestCacheNamesLogoutMayRemove(t *testing.T) {
	s := &SignIns{Dir: t.TempDir(), cacheDir: func() (string, error) { return t.TempDir(), nil }}
	for name, want := range map[string]bool{
		s.CacheName(Cloud{Name: "public", LoginBase: "https://login.microsoftonline.com"}, "t"): true,
		"..":                          false,
		"":                            false,
		"entra-quickstart-":           false,
		"entra-quickstart-../../x":    false,
		"msal.cache":                  false,
		"entra-quickstart-0123abcdZZ": false,
	} {
		files, err := s.cacheFiles(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(files) > 0; got != want {
			t.Errorf("cacheFiles(%q) = %v, want files: %v", name, files, want)
		}
	}
}
