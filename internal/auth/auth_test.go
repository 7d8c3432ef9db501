package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestCloudByName(t *testing.T) {
	for _, tc := range []struct {
		name, login, graph string
		external           bool
	}{
		{"public", "https://login.microsoftonline.com", "https://graph.microsoft.com", true},
		{"USGov", "https://login.microsoftonline.us", "https://graph.microsoft.us", false},
		{"china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", false},
	} {
		c, err := CloudByName(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if c.LoginBase != tc.login || c.GraphBase != tc.graph || c.SupportsExternalID() != tc.external {
			t.Errorf("%s: %+v", tc.name, c)
		}
	}
	if _, err := CloudByName("mars"); err == nil || !strings.Contains(err.Error(), "public, usgov, china") {
		t.Errorf("unknown cloud: %v", err)
	}
	pub, _ := CloudByName("public")
	if got := pub.CIAMBase("Contoso"); got != "https://contoso.ciamlogin.com" {
		t.Errorf("CIAMBase = %s", got)
	}
	if got := pub.GraphHost(); got != "graph.microsoft.com" {
		t.Errorf("GraphHost = %s", got)
	}
}

func TestEmulatorCloud(t *testing.T) {
	if _, err := EmulatorCloud("http://localhost:1", nil); err == nil {
		t.Error("http emulator URL accepted")
	}
	if _, err := EmulatorCloud("https://localhost:1", []byte("not pem")); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("bad CA: %v", err)
	}
}

// fakeAz writes an az script into a new folder: it prints stdout, stderr and exits with code when
// run as `az account list --output json --only-show-errors` (anything else is an error).
func fakeAz(t *testing.T, stdout, stderr string, code int) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake az is a shell script")
	}
	bin := t.TempDir()
	script := fmt.Sprintf(`#!/bin/sh
if [ "$*" != "account list --output json --only-show-errors" ]; then echo "unexpected: $*" >&2; exit 3; fi
printf '%%b' %q
printf '%%b' %q >&2
exit %d
`, stdout, stderr, code)
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

const (
	tenantA = "11111111-1111-1111-1111-111111111111"
	tenantB = "22222222-2222-2222-2222-222222222222"
)

// azAccounts is what `az account list` prints for accounts in these tenants of the public cloud.
func azAccounts(tenants ...string) string {
	var out []string
	for _, id := range tenants {
		out = append(out, fmt.Sprintf(`{"cloudName": "AzureCloud", "id": "sub-%s", "isDefault": true, "state": "Enabled", "tenantId": %q, "user": {"name": "admin@contoso.example", "type": "user"}}`, id[:4], id))
	}
	return "[" + strings.Join(out, ",") + "]"
}

func TestPickMethod(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	noAz := func(string) (string, error) { return "", errors.New("no") }
	at := func(bin string) func(string) (string, error) {
		return func(name string) (string, error) { return filepath.Join(bin, name), nil }
	}
	signedIn := at(fakeAz(t, azAccounts(tenantB, tenantA), "", 0))
	signedOut := at(fakeAz(t, "[]", "", 0))
	otherTenant := at(fakeAz(t, azAccounts(tenantB), "", 0))
	broken := at(fakeAz(t, "", "ERROR: the profile is damaged\nmore", 1))
	pub, _ := CloudByName("public")
	gov, _ := CloudByName("usgov")
	emu := Cloud{Name: "emulator"}
	secretEnv := env(map[string]string{"AZURE_CLIENT_ID": "x", "AZURE_CLIENT_SECRET": "y"})
	for _, tc := range []struct {
		name string
		o    CredentialOptions
		env  func(string) string
		look func(string) (string, error)
		want Method
		why  string
	}{
		{"environment first", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, secretEnv, signedIn, MethodEnvironment, "AZURE_CLIENT_ID"},
		{"azure cli signed in to the tenant", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, env(nil), signedIn, MethodAzureCLI, "signed in to tenant " + tenantA + " as admin@contoso.example"},
		{"azure cli signed out: browser", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, env(nil), signedOut, MethodBrowser, "not signed in"},
		{"azure cli signed out: device code headless", CredentialOptions{Cloud: pub, TenantID: tenantA}, env(nil), signedOut, MethodDeviceCode, "az login --tenant " + tenantA},
		{"azure cli signed in elsewhere", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, env(nil), otherTenant, MethodBrowser, "not to tenant " + tenantA},
		{"azure cli of another cloud", CredentialOptions{Cloud: gov, TenantID: tenantA, CanOpenBrowser: true}, env(nil), signedIn, MethodBrowser, "not to tenant"},
		{"azure cli failing", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, env(nil), broken, MethodBrowser, "the profile is damaged)"},
		{"no azure cli for External ID", CredentialOptions{Cloud: pub, TenantID: tenantA, ExternalID: true, CanOpenBrowser: true}, env(nil), signedIn, MethodBrowser, "a browser can open"},
		{"no azure cli for the emulator", CredentialOptions{Cloud: emu, TenantID: tenantA}, env(nil), signedIn, MethodDeviceCode, "no browser"},
		{"browser", CredentialOptions{Cloud: pub, TenantID: tenantA, CanOpenBrowser: true}, env(nil), noAz, MethodBrowser, "a browser can open"},
		{"device code headless", CredentialOptions{Cloud: pub, TenantID: tenantA}, env(nil), noAz, MethodDeviceCode, "no browser"},
	} {
		got, why := pickMethod(context.Background(), tc.o, tc.env, tc.look)
		if got != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s: got %s (%s), want %s (%s)", tc.name, got, why, tc.want, tc.why)
		}
	}
}

// TestAutoLooksAtTheAzureCLI runs auto with a fake az first on PATH, as a person's machine has
// it: signed out, auto takes the browser (or the device code); signed in to the tenant, the Azure
// CLI. Either way the notice says which and why; an az that hangs costs the timeout, not the run.
func TestAutoLooksAtTheAzureCLI(t *testing.T) {
	pub, _ := CloudByName("public")
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name    string
		bin     string
		browser bool
		want    Method
		notice  string
	}{
		{"signed out, browser", fakeAz(t, "[]", `WARNING: Please run "az login" to access your accounts.`, 0), true, MethodBrowser, "browser, because the Azure CLI is installed but not signed in"},
		{"signed out, headless", fakeAz(t, "[]", "", 0), false, MethodDeviceCode, "device-code, because the Azure CLI is installed but not signed in"},
		{"signed in", fakeAz(t, azAccounts(tenantA), "", 0), true, MethodAzureCLI, "azure-cli, because the Azure CLI is signed in to tenant " + tenantA},
		{"hangs", fakeAz(t, "", "", 0), true, MethodBrowser, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "hangs" {
				if err := os.WriteFile(filepath.Join(tc.bin, "az"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", tc.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			var notices []string
			start := time.Now()
			c, err := NewCredentialContext(context.Background(), CredentialOptions{
				Cloud: pub, TenantID: tenantA, CanOpenBrowser: tc.browser, Getenv: noEnv,
				DeviceCodePrompt: func(context.Context, azidentity.DeviceCodeMessage) error { return nil },
				Notice:           func(f string, a ...any) { notices = append(notices, fmt.Sprintf(f, a...)) },
				azTimeout:        500 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if c.Method != tc.want || len(notices) != 1 || !strings.Contains(notices[0], tc.notice) || c.Reason == "" {
				t.Fatalf("method %s, notices %q; want %s and a notice with %q", c.Method, notices, tc.want, tc.notice)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("choosing took %s", d)
			}
		})
	}
	// Asked for by name, nothing is looked at and nothing said.
	var notices []string
	c, err := NewCredentialContext(context.Background(), CredentialOptions{Cloud: pub, TenantID: tenantA, Method: MethodBrowser,
		Notice: func(f string, a ...any) { notices = append(notices, fmt.Sprintf(f, a...)) }})
	if err != nil || c.Reason != "" || len(notices) != 0 {
		t.Fatalf("--auth browser: %v, reason %q, notices %q", err, c.Reason, notices)
	}
}

func TestCredentialScopes(t *testing.T) {
	pub, _ := CloudByName("public")
	env := func(k string) string {
		return map[string]string{"AZURE_CLIENT_ID": "id", "AZURE_CLIENT_SECRET": "s"}[k]
	}
	c, err := NewCredential(CredentialOptions{Cloud: pub, TenantID: "t", Method: MethodEnvironment, Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Scopes) != 1 || c.Scopes[0] != "https://graph.microsoft.com/.default" {
		t.Errorf("client credentials scopes %v", c.Scopes)
	}
	c, err = NewCredential(CredentialOptions{Cloud: pub, TenantID: "t", Method: MethodBrowser, ExternalID: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All https://graph.microsoft.com/EventListener.ReadWrite.All"
	if strings.Join(c.Scopes, " ") != want {
		t.Errorf("delegated scopes %v", c.Scopes)
	}
	if _, err := NewCredential(CredentialOptions{Cloud: pub, Method: MethodBrowser}); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("missing tenant: %v", err)
	}
	if _, err := NewCredential(CredentialOptions{Cloud: pub, TenantID: "t", Method: MethodEnvironment, Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "AZURE_CLIENT_ID") {
		t.Errorf("empty environment: %v", err)
	}
	if _, err := NewCredential(CredentialOptions{Cloud: pub, TenantID: "t", Method: MethodEnvironment, Getenv: func(k string) string {
		return map[string]string{"AZURE_CLIENT_ID": "id", "AZURE_CLIENT_SECRET": "s", "AZURE_TENANT_ID": "other"}[k]
	}}); err == nil || !strings.Contains(err.Error(), "AZURE_TENANT_ID") {
		t.Errorf("tenant mismatch: %v", err)
	}
}

func TestValidateTenant(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{"contoso.onmicrosoft.com", true},
		{"login.contoso.com", true},
		{"", false},
		{"common", false},
		{"organizations", false},
		{"72f988bf-86f1-41af-91ab", false},
		{"contoso", false},
		{"contoso..com", false},
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com", false},
		{"con toso.com", false},
	} {
		err := ValidateTenant(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTenant(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestPermissionsFor(t *testing.T) {
	for _, tc := range []struct {
		a    Access
		want string
	}{
		{Access{}, "User.Read Application.Read.All DelegatedPermissionGrant.Read.All"},
		{Access{ExternalID: true}, "User.Read Application.Read.All DelegatedPermissionGrant.Read.All EventListener.Read.All"},
		{Access{Write: true}, "User.Read Application.ReadWrite.All DelegatedPermissionGrant.Read.All"},
		{Access{Write: true, Consent: true}, "User.Read Application.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All"},
		{Access{Write: true, Consent: true, ExternalID: true}, "User.Read Application.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All EventListener.ReadWrite.All"},
	} {
		if got := strings.Join(PermissionsFor(tc.a), " "); got != tc.want {
			t.Errorf("PermissionsFor(%+v) = %s, want %s", tc.a, got, tc.want)
		}
	}
	if got, want := Permissions(true), PermissionsFor(Access{ExternalID: true, Write: true, Consent: true}); !slices.Equal(got, want) {
		t.Errorf("Permissions(true) = %v, want everything %v", got, want)
	}
}
