package lab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

// The governor meters reads that select keyCredentials against the tenant's limit (150 a
// minute; here 3 per 600 ms on both sides, the governor's margin widened for a loaded test
// machine, where a request reaches the emulator well after the governor stamped it): against the emulator enforcing that limit, a burst
// of such reads all succeed and none is answered 429, while reads without keyCredentials are
// not counted.
func TestGovernorKeyCredentialReads(t *testing.T) {
	e := emulatortest.New(t)
	e.SetFaults(emulator.FaultConfig{KeyCredentialReads: 3, KeyCredentialWindow: emulator.Duration(600 * time.Millisecond)})
	ti := e.Tenant(t, emulator.Workforce)
	resp, err := e.Client().PostForm("https://login.microsoftonline.com/"+ti.ID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {ti.AutomationClient.AppID}, "client_secret": {ti.AutomationClient.Secret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	b := DocumentedBudget()
	b.KeyCredentialReads, b.KeyCredentialWindow = 3, 600*time.Millisecond
	g := NewGovernor(GovernorOptions{Budget: b, Margin: 300 * time.Millisecond})
	c := &http.Client{Transport: g.Wrap(e.Transport())}
	get := func(path string) int {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://graph.microsoft.com/v1.0"+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("/organization"); st != http.StatusOK { // a warm connection
		t.Fatalf("organization: %d", st)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = get("/applications?$select=id,keyCredentials")
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("key read %d: %d", i, st)
		}
	}
	for range 5 {
		if st := get("/applications?$select=id,displayName"); st != http.StatusOK {
			t.Errorf("a read without keyCredentials: %d", st)
		}
	}
	for _, ev := range e.FaultEvents() {
		t.Errorf("the emulator answered %s %d to %s: the governor let a read through over the limit", ev.Kind, ev.Status, ev.Route)
	}
	if st := g.Stats(); st.KeyReads != 10 || st.Throttled != 0 {
		t.Errorf("stats %+v; want 10 key reads, none throttled", st)
	}
}

func TestSelectsKeyCredentials(t *testing.T) {
	for u, want := range map[string]bool{
		"https://graph.microsoft.com/v1.0/applications?$select=id,keyCredentials":                     true,
		"https://graph.microsoft.com/v1.0/applications(uniqueName='x')?%24select=id%2CkeyCredentials": true,
		"https://graph.microsoft.com/v1.0/applications/1?$select=KEYCREDENTIALS":                      true,
		"https://graph.microsoft.com/v1.0/applications?$select=id,passwordCredentials":                false,
		"https://graph.microsoft.com/v1.0/servicePrincipals?$select=keyCredentials":                   false,
	} {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		if got := SelectsKeyCredentials(r); got != want {
			t.Errorf("%s: %v", u, got)
		}
	}
}
