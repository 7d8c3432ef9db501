package auth

import (
	"errors"
	"strings"
	"testing"
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

func TestPickMethod(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	noAz := func(string) (string, error) { return "", errors.New("no") }
	az := func(string) (string, error) { return "/usr/bin/az", nil }
	pub, _ := CloudByName("public")
	emu := Cloud{Name: "emulator"}
	secretEnv := env(map[string]string{"AZURE_CLIENT_ID": "x", "AZURE_CLIENT_SECRET": "y"})
	for _, tc := range []struct {
		name string
		o    CredentialOptions
		env  func(string) string
		look func(string) (string, error)
		want Method
	}{
		{"environment first", CredentialOptions{Cloud: pub, CanOpenBrowser: true}, secretEnv, az, MethodEnvironment},
		{"azure cli for workforce", CredentialOptions{Cloud: pub, CanOpenBrowser: true}, env(nil), az, MethodAzureCLI},
		{"no azure cli for External ID", CredentialOptions{Cloud: pub, ExternalID: true, CanOpenBrowser: true}, env(nil), az, MethodBrowser},
		{"no azure cli for the emulator", CredentialOptions{Cloud: emu}, env(nil), az, MethodDeviceCode},
		{"browser", CredentialOptions{Cloud: pub, CanOpenBrowser: true}, env(nil), noAz, MethodBrowser},
		{"device code headless", CredentialOptions{Cloud: pub}, env(nil), noAz, MethodDeviceCode},
	} {
		if got := pickMethod(tc.o, tc.env, tc.look); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
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
