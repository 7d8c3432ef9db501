package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// The CLI for Microsoft 365 (npm @pnp/cli-microsoft365, pinned in testdata/node) as a peer: it
// registers an app with redirect URIs, a secret, a service principal and admin consent, the job
// our tool does, with its own idea of Graph (the /myorganization alias, odata.metadata=none, the
// caller named from the token's app_displayname). It runs unmodified under the real host names;
// if it needs anything the emulator lacks, the test fails.

// m365 runs one m365 command with a HOME of its own (its config, MSAL cache and connection
// live there), its update check off and telemetry disabled in its config, reaching the emulator
// through the preload of internal/runner, which refuses every other destination that is not loopback.
func m365(t *testing.T, ctx context.Context, e *emulatortest.Emulator, home string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	nodeDir, node := testenv.NodeDir(t)
	cli := filepath.Join(nodeDir, "node_modules", "@pnp", "cli-microsoft365", "dist", "index.js")
	if _, err := os.Stat(cli); err != nil {
		testenv.Missing(t, "the CLI for Microsoft 365 in testdata/node", "cd testdata/node && npm ci")
	}
	cmd := exec.CommandContext(ctx, node, append([]string{"--require", nodePreload(t), cli}, args...)...)
	cmd.Env = cleanEnv(
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"NODE_EXTRA_CA_CERTS="+e.CAFile(), "ENTRA_QUICKSTART_EMULATOR_ADDR="+e.Addr(), "NODE_OPTIONS=",
		"CLIMICROSOFT365_NOUPDATE=1", "CI=true",
		"ENTRA_QUICKSTART_RUN_EVENTS="+filepath.Join(home, "refused.txt"),
	)
	cmd.Dir = home
	cmd.WaitDelay = 2 * time.Second
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// m365Home makes a HOME for m365 whose config turns telemetry, prompts and help-on-failure off.
func m365Home(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "configstore")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `{"disableTelemetry":true,"prompt":false,"showHelpOnFailure":false,"autoOpenLinksInBrowser":false,"output":"json","printErrorsAsPlainText":true}`
	if err := os.WriteFile(filepath.Join(dir, "cli-m365-config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestM365EntraAppAdd(t *testing.T) {
	e := emulatortest.New(t)
	ti := e.Tenant(t, emulator.Workforce)
	home := m365Home(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*peerTimeout)
	defer cancel()
	mark := time.Now()

	out, errOut, err := m365(t, ctx, e, home, "login", "--authType", "secret",
		"--appId", ti.AutomationClient.AppID, "--secret", ti.AutomationClient.Secret, "--tenant", ti.ID)
	if err != nil {
		t.Fatalf("m365 login: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	out, errOut, err = m365(t, ctx, e, home, "status", "--output", "json")
	if err != nil {
		t.Fatalf("m365 status: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var status struct {
		ConnectedAs string `json:"connectedAs"`
		AuthType    string `json:"authType"`
		AppID       string `json:"appId"`
		AppTenant   string `json:"appTenant"`
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil {
		t.Fatalf("m365 status printed %q: %v", out, err)
	}
	if status.ConnectedAs == "" || status.AppID != ti.AutomationClient.AppID {
		t.Fatalf("m365 status %+v: want it connected as the automation client (named from the token's app_displayname)", status)
	}

	redirect := "https://localhost:3000/auth/callback"
	out, errOut, err = m365(t, ctx, e, home, "entra", "app", "add", "--name", "m365 peer app",
		"--redirectUris", redirect, "--platform", "web", "--withSecret",
		"--apisDelegated", "https://graph.microsoft.com/User.Read", "--grantAdminConsent", "--output", "json")
	if err != nil {
		t.Fatalf("m365 entra app add: %v\nstdout:\n%s\nstderr:\n%s\nrequests:\n%s", err, out, errOut, requestLines(e, mark))
	}
	var added struct {
		AppID    string `json:"appId"`
		ObjectID string `json:"objectId"`
		TenantID string `json:"tenantId"`
		Secrets  []struct {
			DisplayName string `json:"displayName"`
			Value       string `json:"value"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("m365 entra app add printed %q: %v", out, err)
	}
	if added.AppID == "" || added.TenantID != ti.ID || len(added.Secrets) != 1 || added.Secrets[0].Value == "" {
		t.Fatalf("m365 entra app add answered %+v", added)
	}

	// What it left in the directory: the registration, its secret, its service principal and the
	// tenant-wide grant of User.Read on Microsoft Graph.
	e.Store().View(func(d *emulator.Directory) {
		tn := d.Tenant(ti.ID)
		app := tn.AppByAppID(added.AppID)
		if app == nil {
			t.Fatalf("no application %s", added.AppID)
		}
		if !slices.Equal(app.Web.RedirectURIs, []string{redirect}) || len(app.PasswordCredentials) != 1 || app.DisplayName != "m365 peer app" {
			t.Errorf("application: redirect URIs %v, %d secrets, name %q", app.Web.RedirectURIs, len(app.PasswordCredentials), app.DisplayName)
		}
		sp := tn.SPByAppID(added.AppID)
		if sp == nil {
			t.Fatalf("no service principal for %s", added.AppID)
		}
		graphSP := tn.SPByAppID(emulator.GraphAppID)
		found := false
		for _, g := range tn.Grants {
			if g.ClientID == sp.ID && g.ResourceID == graphSP.ID && g.ConsentType == "AllPrincipals" && slices.Contains(strings.Fields(g.Scope), "User.Read") {
				found = true
			}
		}
		if !found {
			t.Errorf("no AllPrincipals grant of User.Read for %s", sp.ID)
		}
	})

	// Everything it sent reached the emulator's known routes under the real names; nothing went elsewhere.
	for _, r := range e.Requests() {
		if r.Time.Before(mark) {
			continue
		}
		if r.Route == emulator.RouteGraphUnrecognised || r.Route == emulator.RouteLoginUnrecognised || r.Status >= 400 {
			t.Errorf("m365 sent %s %s%s: %s answered %d", r.Method, r.Host, r.Path, r.Route, r.Status)
		}
		if r.Host != "graph.microsoft.com" && r.Host != "login.microsoftonline.com" {
			t.Errorf("request to %s", r.Host)
		}
	}
	// Nothing tried to leave loopback, not even what m365 would swallow (telemetry, update checks).
	if b, err := os.ReadFile(filepath.Join(home, "refused.txt")); err == nil || !os.IsNotExist(err) {
		t.Errorf("m365 tried to leave loopback (%v):\n%s", err, b)
	}
	t.Logf("m365 requests:\n%s", requestLines(e, mark))
}

func requestLines(e *emulatortest.Emulator, since time.Time) string {
	var b strings.Builder
	for _, r := range e.Requests() {
		if !r.Time.Before(since) {
			fmt.Fprintf(&b, "%s %s%s -> %s %d\n", r.Method, r.Host, r.Path, r.Route, r.Status)
		}
	}
	return b.String()
}
