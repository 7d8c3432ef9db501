package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emustate"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// TestEmulatorCommandFirstLine runs `emulator --listen 127.0.0.1:0 --data F` and checks the
// contract of its first stdout line, then that the emulator answers and stops on cancel.
func TestEmulatorCommandFirstLine(t *testing.T) {
	home := t.TempDir() // the running state goes to the config folder
	t.Setenv("ENTRA_QUICKSTART_HOME", home)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	s, _, errOut := ui.Test("")
	s.Out = pw
	data := filepath.Join(t.TempDir(), "emu.json")
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--data", data}, s) }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	var info struct {
		URL        string `json:"url"`
		CAFile     string `json:"ca_file"`
		AdminToken string `json:"admin_token"`
		Tenants    []struct {
			ID, Domain, Type string
			Users            []struct{ Username, Password string }
			AutomationClient struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			} `json:"automation_client"`
		}
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %v: %q", err, line)
	}
	if !strings.HasPrefix(info.URL, "https://localhost:") || strings.HasSuffix(info.URL, ":0") {
		t.Errorf("url %q: want https://localhost:<real port>", info.URL)
	}
	types := map[string]bool{}
	for _, tn := range info.Tenants {
		types[tn.Type] = true
		if tn.ID == "" || !strings.HasSuffix(tn.Domain, ".onmicrosoft.com") || len(tn.Users) == 0 || tn.Users[0].Password == "" ||
			tn.AutomationClient.ClientID == "" || tn.AutomationClient.ClientSecret == "" {
			t.Errorf("tenant incomplete: %+v", tn)
		}
	}
	if !types["workforce"] || !types["external"] {
		t.Errorf("tenant types %v, want workforce and external", types)
	}
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatalf("ca_file: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	for _, tok := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {info.AdminToken, http.StatusOK}} {
		req, _ := emuclient.NewAdminRequest(ctx, http.MethodGet, info.URL, "/info", tok.token, nil)
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != tok.want {
			t.Fatalf("GET /_emulator/info with its CA, token given %v: %v %v, want %d", tok.token != "", err, resp, tok.want)
		}
		resp.Body.Close()
	}
	if got, err := emuclient.ReadAdminToken(info.CAFile); err != nil || got != info.AdminToken || info.AdminToken == "" {
		t.Errorf("the admin-token file beside ca_file does not hold the first line's admin_token: %v", err)
	}
	if st, err := os.Stat(data); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--data file: %v %v, want mode 0600", err, st)
	}
	// The running state `run` finds it by, removed when it stops.
	stateDir := filepath.Join(home, emustate.Folder)
	rec, err := emustate.Find(stateDir, info.URL+"/tenant")
	if err != nil || rec.CAFile != info.CAFile || rec.DataFile != data || rec.PID != os.Getpid() {
		t.Errorf("running state: %+v, %v", rec, err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit code %d, stderr: %s", code, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop on cancel")
	}
	if !strings.Contains(errOut.String(), "CA certificate:") || !strings.Contains(errOut.String(), "entra-quickstart run") {
		t.Errorf("no human help on stderr, or it does not name entra-quickstart run: %s", errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(stateDir, "*.json")); len(left) != 0 {
		t.Errorf("running state left after the emulator stopped: %v", left)
	}
}

// TestEmulatorCommandRefusesRemoteListen: a non-loopback --listen is a usage error that names
// --allow-remote-listen, before anything listens.
func TestEmulatorCommandRefusesRemoteListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8443"} {
		s, out, errOut := ui.Test("")
		if code := Main(context.Background(), []string{"emulator", "--listen", addr}, s); code != ExitUsage {
			t.Fatalf("--listen %s: exit code %d, want %d; stderr %s", addr, code, ExitUsage, errOut)
		}
		if !strings.Contains(errOut.String(), "--allow-remote-listen") || out.Len() != 0 {
			t.Errorf("--listen %s: stderr %q does not name --allow-remote-listen, or stdout has %q", addr, errOut, out)
		}
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	s, _, errOut := ui.Test("")
	if code := Main(context.Background(), []string{"emulator", "--nope"}, s); code != ExitUsage {
		t.Fatalf("exit code %d, want %d; stderr %s", code, ExitUsage, errOut)
	}
}

// TestEmulatorCommandSettingsFlags: the settings flags reach every tenant's settings, --b2c adds
// the B2C tenant, and the first line lists each person's roles.
func TestEmulatorCommandSettingsFlags(t *testing.T) {
	t.Setenv("ENTRA_QUICKSTART_HOME", t.TempDir()) // its running state stays out of the real config folder
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	s, _, _ := ui.Test("")
	s.Out = pw
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--b2c", "--allow-app-registration=false",
			"--user-consent=false", "--tool-consent", "--block-secrets", "--max-secret-lifetime", "720h", "--credential-race-window", "500ms"}, s)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var info struct {
		URL        string `json:"url"`
		CAFile     string `json:"ca_file"`
		AdminToken string `json:"admin_token"`
		Tenants    []struct {
			Domain, Type string
			Users        []struct {
				Username string
				Roles    []string
			}
		}
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %v", err)
	}
	types, roles := map[string]bool{}, map[string]bool{}
	for _, tn := range info.Tenants {
		types[tn.Type] = true
		for _, u := range tn.Users {
			for _, r := range u.Roles {
				roles[r] = true
			}
		}
	}
	for _, want := range []string{"workforce", "external", "b2c"} {
		if !types[want] {
			t.Errorf("no %s tenant: %v", want, types)
		}
	}
	for _, want := range []string{emulator.RoleGlobalAdmin, emulator.RoleAppAdmin, emulator.RoleCloudAppAdmin, emulator.RoleAppDeveloper, emulator.RoleUserFlowAdmin} {
		if !roles[want] {
			t.Errorf("nobody holds %s: %v", want, roles)
		}
	}
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	req, _ := emuclient.NewAdminRequest(ctx, http.MethodGet, info.URL, "/settings", info.AdminToken, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]emulator.Settings
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := emulator.Settings{ToolConsentGranted: true,
		AppManagementPolicy:         emulator.AppManagementPolicy{BlockPasswordAddition: true, MaxPasswordLifetime: emulator.Duration(720 * time.Hour)},
		CredentialConcurrencyWindow: emulator.Duration(500 * time.Millisecond)}
	if len(got) != 3 {
		t.Fatalf("settings of %d tenants, want 3: %v", len(got), got)
	}
	for domain, s := range got {
		if s != want {
			t.Errorf("%s: %+v, want %+v", domain, s, want)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop on cancel")
	}
}

// TestEmulatorURLFindsTheAdminToken: --emulator-url with --ca-file alone reaches a standalone
// emulator (the token is read beside the CA file); a wrong --emulator-token, or a CA file
// without the token beside it, is refused with what to pass instead.
func TestEmulatorURLFindsTheAdminToken(t *testing.T) {
	home(t)
	e, flags := remoteEmulator(t)
	bare := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bare, e.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"the CA file only", flags, ExitOK, ""},
		{"the right token", append(flags, "--emulator-token", e.AdminToken()), ExitOK, ""},
		{"a wrong token", append(flags, "--emulator-token", "wrong"), ExitError, "--emulator-token"},
		{"a copied CA file", []string{"--emulator-url", e.URL(), "--ca-file", bare}, ExitUsage, "--emulator-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, errOut := ui.Test("")
			code := Main(context.Background(), append([]string{"list", "--no-input", "--tenant", e.Tenant(t, emuclient.Workforce).ID}, tt.args...), s)
			if code != tt.want || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.want, errOut)
			}
			if strings.Contains(errOut.String(), e.AdminToken()) {
				t.Errorf("the admin token reached stderr")
			}
		})
	}
}
