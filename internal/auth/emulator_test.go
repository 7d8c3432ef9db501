package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

// The wizard's own sign-in paths run against the emulator exactly as against Entra: azidentity
// and MSAL Go talk to its token, device-code and authorize endpoints, and the token they get
// works on Graph.

// startEmulator is an emulator for the test and the cloud that reaches it at its local base.
func startEmulator(t *testing.T) (*emulatortest.Emulator, Cloud) {
	t.Helper()
	e := emulatortest.New(t)
	c, err := EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// callGraph proves a token: GET /v1.0/organization with it.
func callGraph(t *testing.T, c Cloud, cred *Credential) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: cred.Scopes})
	if err != nil {
		t.Fatalf("%s: token: %v", cred.Method, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.GraphURL()+"/organization", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: Graph refused the token: %s %s", cred.Method, resp.Status, b)
	}
}

func TestEnvironmentCredentialAgainstEmulator(t *testing.T) {
	e, c := startEmulator(t)
	ti, _ := e.Info().Tenant(emulator.Workforce)
	env := map[string]string{"AZURE_CLIENT_ID": ti.AutomationClient.AppID, "AZURE_CLIENT_SECRET": ti.AutomationClient.Secret, "AZURE_TENANT_ID": ti.ID}
	cred, err := NewCredential(CredentialOptions{Cloud: c, TenantID: ti.ID, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Method != MethodEnvironment {
		t.Fatalf("auto picked %s with AZURE_CLIENT_* set", cred.Method)
	}
	callGraph(t, c, cred)
}

// TestDeviceCodeAgainstEmulator: the person enters the code at the verification page and signs
// in (here the emulator's HTTP driver plays them), both tenant kinds: External ID admins sign in
// to Graph through the workforce authority with the tenant id.
func TestDeviceCodeAgainstEmulator(t *testing.T) {
	e, c := startEmulator(t)
	for _, kind := range []emulator.TenantType{emulator.Workforce, emulator.ExternalID} {
		ti, u := e.Admin(t, kind)
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Transport: c.Transport, Jar: jar}
		prompted := false
		cred, err := NewCredential(CredentialOptions{
			Cloud: c, TenantID: ti.ID, Method: MethodDeviceCode, ExternalID: kind == emulator.ExternalID,
			DeviceCodePrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				prompted = true
				if !strings.Contains(m.Message, m.UserCode) {
					return fmt.Errorf("the message does not show the code: %q", m.Message)
				}
				return emuclient.ApproveDeviceCode(ctx, browser, m.VerificationURL, m.UserCode,
					emuclient.SignInOptions{Username: u.UserPrincipalName, Password: u.Password, ConsentForOrganization: true})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		callGraph(t, c, cred)
		if !prompted {
			t.Fatalf("%s: no device-code prompt", kind)
		}
	}
}

// TestBrowserAgainstEmulator runs azidentity's interactive browser sign-in. MSAL opens the
// browser with xdg-open; a PATH entry makes that this test binary, which signs the admin in
// through the emulator's pages and delivers the answer to MSAL's local redirect server.
func TestBrowserAgainstEmulator(t *testing.T) {
	if os.Getenv("EQ_FAKE_BROWSER") != "" {
		return // the helper process's own run of the test binary: see TestMain
	}
	e, c := startEmulator(t)
	ti, u := e.Admin(t, emulator.Workforce)
	bin := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nEQ_FAKE_BROWSER=1 exec %q -test.run=^$ \"$@\"\n", exe)
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("EQ_EMULATOR_URL", e.URL())
	t.Setenv("EQ_EMULATOR_CA", e.CAFile())
	t.Setenv("EQ_USER", u.UserPrincipalName)
	t.Setenv("EQ_PASSWORD", u.Password)
	cred, err := NewCredential(CredentialOptions{Cloud: c, TenantID: ti.ID, Method: MethodBrowser})
	if err != nil {
		t.Fatal(err)
	}
	callGraph(t, c, cred)
}

// TestMain lets this test binary play the browser when MSAL runs it as xdg-open URL.
func TestMain(m *testing.M) {
	if os.Getenv("EQ_FAKE_BROWSER") != "" {
		os.Exit(fakeBrowser())
	}
	os.Exit(m.Run())
}

func fakeBrowser() int {
	var target string
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "http") {
			target = a
		}
	}
	ca, err := os.ReadFile(os.Getenv("EQ_EMULATOR_CA"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := EmulatorCloud(os.Getenv("EQ_EMULATOR_URL"), ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Transport: c.Transport, Jar: jar}
	a, err := emuclient.SignIn(ctx, hc, target, emuclient.SignInOptions{Username: os.Getenv("EQ_USER"), Password: os.Getenv("EQ_PASSWORD"), ConsentForOrganization: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake browser:", err)
		return 1
	}
	// MSAL's redirect server is plain http on localhost.
	var resp *http.Response
	if a.Method == http.MethodPost {
		resp, err = http.PostForm(a.URL.String(), a.Form)
	} else {
		resp, err = http.Get(a.URL.String())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake browser:", err)
		return 1
	}
	resp.Body.Close()
	return 0
}

// TestIsExternalIDTenant asks the emulator's sign-in service, without a token, at its local base
// and under the real host names; a service that says nothing clear leaves the kind unknown.
func TestIsExternalIDTenant(t *testing.T) {
	e, local := startEmulator(t)
	real := Cloud{Name: "public", LoginBase: "https://login.microsoftonline.com", GraphBase: "https://graph.microsoft.com",
		CIAMBaseTemplate: "https://{subdomain}.ciamlogin.com", Transport: e.Transport()}
	ctx := context.Background()
	for _, c := range []Cloud{local, real} {
		for _, kind := range []emulator.TenantType{emulator.Workforce, emulator.ExternalID} {
			ti, _ := e.Info().Tenant(kind)
			got, err := c.IsExternalIDTenant(ctx, ti.ID)
			if err != nil || got != (kind == emulator.ExternalID) {
				t.Errorf("%s, %s tenant: %v, %v", c.LoginBase, kind, got, err)
			}
		}
	}
	if got, err := real.IsExternalIDTenant(ctx, "contoso.onmicrosoft.com"); got || !errors.Is(err, ErrKindUnknown) {
		t.Errorf("a domain, not an id: %v, %v; want unknown", got, err)
	}
	gov, _ := CloudByName("usgov")
	if got, err := gov.IsExternalIDTenant(ctx, "00000000-0000-4000-8000-000000000000"); got || err != nil {
		t.Errorf("US Government cloud: %v, %v; External ID is not offered there", got, err)
	}
	busy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	flaky := Cloud{Name: "public", CIAMBaseTemplate: busy.URL + "/{subdomain}", Transport: busy.Client().Transport}
	if got, err := flaky.IsExternalIDTenant(ctx, "00000000-0000-4000-8000-000000000000"); got || !errors.Is(err, ErrKindUnknown) {
		t.Errorf("a 503: %v, %v; want unknown", got, err)
	}
}
