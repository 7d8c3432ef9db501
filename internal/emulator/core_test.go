package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// start runs an emulator for one test.
func start(t testing.TB, opts Options) *Emulator {
	t.Helper()
	e, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// adminJSON is getJSON for an admin endpoint (path such as "/info") at base, with the token.
func adminJSON(t testing.TB, e *Emulator, c *http.Client, base, path string, v any) *http.Response {
	t.Helper()
	req, err := emuclient.NewAdminRequest(context.Background(), http.MethodGet, base, path, e.AdminToken(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", req.URL, err, b)
		}
	}
	return resp
}

func getJSON(t testing.TB, c *http.Client, url string, v any) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, b)
		}
	}
	return resp
}

func TestCertificateCoversEveryName(t *testing.T) {
	e := start(t, Options{})
	b, err := os.ReadFile(e.CAFile())
	if err != nil {
		t.Fatalf("CA file not written: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("CA file is not a PEM certificate")
	}
	leaf, err := x509.ParseCertificate(e.pki.leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "login.microsoftonline.com", "graph.microsoft.com", "contoso.ciamlogin.com", "0d6b5bd5-6a62-4c3d-b5f6-1d7f0f5d4c2a.ciamlogin.com"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: e.CAPool()}); err != nil {
			t.Errorf("certificate does not cover %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: e.CAPool()}); err == nil {
		t.Errorf("certificate covers example.com; it must cover only the emulated names")
	}
}

func TestSitesAnswerWithTheirOwnBase(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	// The local base: admin info.
	var in emuclient.Info
	adminJSON(t, e, c, e.URL(), "/info", &in)
	if in.URL != e.URL() || len(in.Tenants) != 2 {
		t.Fatalf("info = %+v", in)
	}
	wf, ok := in.Tenant(Workforce)
	if !ok || !strings.HasSuffix(wf.Domain, ".onmicrosoft.com") || wf.AutomationClient.Secret == "" || len(wf.Users) == 0 {
		t.Fatalf("workforce tenant not seeded: %+v", wf)
	}
	ex, ok := in.Tenant(ExternalID)
	if !ok || len(ex.UserFlows) == 0 {
		t.Fatalf("External ID tenant without a user flow: %+v", ex)
	}
	// Resolution of each host form.
	cases := []struct {
		host, path        string
		kind              siteKind
		base, label, rest string
	}{
		{"graph.microsoft.com", "/v1.0/applications", siteGraph, "https://graph.microsoft.com", "", "/v1.0/applications"},
		{"login.microsoftonline.com", "/common/discovery/instance", siteLogin, "https://login.microsoftonline.com", "", "/common/discovery/instance"},
		{"Contoso.ciamlogin.com:443", "/x/v2.0", siteCIAM, "https://contoso.ciamlogin.com", "contoso", "/x/v2.0"},
		{"localhost:1", "/v1.0/me", siteGraph, e.URL(), "", "/v1.0/me"},
		{"localhost:1", "/ciam/contoso/t/v2.0", siteCIAM, e.URL() + "/ciam/contoso", "contoso", "/t/v2.0"},
		{"127.0.0.1:1", "/tid/v2.0/.well-known/openid-configuration", siteLogin, e.URL(), "", "/tid/v2.0/.well-known/openid-configuration"},
		{"graph.microsoft.com", "/_emulator/info", siteAdmin, e.URL(), "", "/info"},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("GET", "https://"+tc.host+tc.path, nil)
		s, rest := e.resolve(r)
		if s.kind != tc.kind || s.base != tc.base || s.label != tc.label || rest != tc.rest {
			t.Errorf("%s%s: got kind %d base %q label %q rest %q", tc.host, tc.path, s.kind, s.base, s.label, rest)
		}
	}
	// A real host name through the dialer override, with the certificate checked against it.
	resp := adminJSON(t, e, c, "https://graph.microsoft.com", "/info", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("real-name request: %s", resp.Status)
	}
	if resp.TLS == nil || resp.TLS.PeerCertificates[0].VerifyHostname("graph.microsoft.com") != nil {
		t.Fatalf("TLS was not verified for the real name")
	}
}

func TestForeignCAIsRefused(t *testing.T) {
	e := start(t, Options{})
	c := &http.Client{Transport: &http.Transport{DialContext: emuclient.RealHostDialer(e.Addr()), TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	_, err := c.Get("https://graph.microsoft.com/_emulator/info")
	var uerr x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &uerr) {
		t.Fatalf("a client that does not trust the emulator's CA got through: %v", err)
	}
}

func TestFaultKindsAreObservable(t *testing.T) {
	e := start(t, Options{})
	c := graphClient(t, e) // Graph routes check the bearer token
	url := "https://graph.microsoft.com/v1.0/organization"
	// status with Retry-After, once
	e.AddFault(Fault{Route: "graph.organization.*", Kind: FaultStatus, Status: 429, RetryAfter: "2", Times: 1})
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Error struct {
			Code       string
			InnerError map[string]string
		}
	}
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || env.Error.Code != "TooManyRequests" || env.Error.InnerError["request-id"] == "" {
		t.Fatalf("429 fault: %s Retry-After=%q %+v", resp.Status, resp.Header.Get("Retry-After"), env)
	}
	if resp, _ := c.Get(url); resp.StatusCode != 200 {
		t.Fatalf("a Times:1 fault hit twice: %s", resp.Status)
	}
	// latency
	e.SetFaults(FaultConfig{Faults: []Fault{{Route: "graph.*", Kind: FaultLatency, Delay: Duration(150 * time.Millisecond)}}})
	t0 := time.Now()
	if resp, _ := c.Get(url); resp.StatusCode != 200 {
		t.Fatalf("latency fault changed the answer: %s", resp.Status)
	}
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Fatalf("latency fault did not delay: %v", d)
	}
	// dropped connection
	e.SetFaults(FaultConfig{Faults: []Fault{{Route: "graph.organization.list", Kind: FaultDrop, Times: 1}}})
	c2 := e.Client()
	c2.Transport.(*http.Transport).DisableKeepAlives = true
	if _, err := c2.Get(url); err == nil {
		t.Fatalf("drop fault: the request got an answer")
	}
	// 500 after commit: the handler runs, the answer is 500
	e.SetFaults(FaultConfig{Faults: []Fault{{Route: "graph.organization.list", Kind: FaultStatusAfterCommit, Status: 500, Times: 1}}})
	if resp, _ := c.Get(url); resp.StatusCode != 500 {
		t.Fatalf("after-commit fault: %s", resp.Status)
	}
	ev := e.FaultEvents()
	kinds := map[FaultKind]bool{}
	for _, x := range ev {
		kinds[x.Kind] = true
	}
	for _, k := range []FaultKind{FaultStatus, FaultLatency, FaultDrop, FaultStatusAfterCommit} {
		if !kinds[k] {
			t.Errorf("fault %s not recorded in events %+v", k, ev)
		}
	}
}

// The after-commit faults exist to model a write that Graph made but whose answer was lost: the
// object must be there afterwards, so a client that retries blindly makes a second one.
func TestAfterCommitFaultsCommitTheWrite(t *testing.T) {
	for _, kind := range []FaultKind{FaultStatusAfterCommit, FaultDropAfterCommit} {
		t.Run(string(kind), func(t *testing.T) {
			e := start(t, Options{})
			c := graphClient(t, e)
			c.Transport.(bearer).next.(*http.Transport).DisableKeepAlives = true
			e.AddFault(Fault{Route: "graph.applications.create", Kind: kind, Status: 500, Times: 1})
			resp, err := c.Post("https://graph.microsoft.com/v1.0/applications", "application/json", strings.NewReader(`{"displayName":"committed-`+string(kind)+`"}`))
			if err == nil {
				resp.Body.Close()
				if kind == FaultDropAfterCommit || resp.StatusCode != 500 {
					t.Fatalf("%s on POST /applications answered %s", kind, resp.Status)
				}
			} else if kind != FaultDropAfterCommit {
				t.Fatal(err)
			}
			var n int
			e.Store().View(func(d *Directory) {
				for _, a := range d.Tenants[0].Applications {
					if a.DisplayName == "committed-"+string(kind) {
						n++
					}
				}
			})
			if n != 1 {
				t.Fatalf("after %s the app exists %d times; want the write committed once", kind, n)
			}
		})
	}
}

func TestThrottleBudget(t *testing.T) {
	e := start(t, Options{})
	e.SetThrottle(&Throttle{ResourceUnits: 3, Window: Duration(time.Hour), Writes: 100, WriteWindow: Duration(time.Hour)})
	c := graphClient(t, e)
	var codes []int
	for i := 0; i < 4; i++ {
		resp, err := c.Get("https://graph.microsoft.com/v1.0/organization")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("x-ms-throttle-information") != "ResourceUnitLimitExceeded") {
			t.Fatalf("429 without Retry-After or throttle information: %v", resp.Header)
		}
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != 429 {
		t.Fatalf("3 RU budget at 1 RU a GET: got %v, want 200 200 200 429", codes)
	}
}

func TestDataFileKeepsStateAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "state.json")
	e1 := start(t, Options{DataFile: data})
	in1 := e1.Info()
	kid := e1.keys.current().KID
	// An app made over Graph, as `init` against a standalone emulator makes one.
	resp, err := graphClient(t, e1).Post("https://graph.microsoft.com/v1.0/applications", "application/json", strings.NewReader(`{"displayName":"kept across restarts"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /applications: %v %v", err, resp)
	}
	resp.Body.Close()
	ca := e1.CAPEM()
	e1.Close()
	st, err := os.Stat(data)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v mode %v, want 0600", err, st)
	}
	e2 := start(t, Options{DataFile: data})
	in2 := e2.Info()
	if in1.Tenants[0].AutomationClient.Secret != in2.Tenants[0].AutomationClient.Secret {
		t.Errorf("automation secret changed across restart")
	}
	if e2.keys.current().KID != kid || string(e2.CAPEM()) != string(ca) {
		t.Errorf("signing key or CA changed across restart")
	}
	kept := 0
	e2.Store().View(func(d *Directory) {
		for _, a := range d.Tenants[0].Applications {
			if a.DisplayName == "kept across restarts" {
				kept++
			}
		}
	})
	if kept != 1 {
		t.Errorf("the app made before the restart is there %d times after it, want 1", kept)
	}
}

func TestAdminEndpointValidatesFaults(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	req, _ := emuclient.NewAdminRequest(context.Background(), "POST", e.URL(), "/faults", e.AdminToken(), strings.NewReader(`{"route":"graph.*","kind":"explode"}`))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "unknown kind") {
		t.Fatalf("bad fault accepted: %s %s", resp.Status, b)
	}
	req, _ = emuclient.NewAdminRequest(context.Background(), "PUT", e.URL(), "/faults", e.AdminToken(), strings.NewReader(`{"replicationLag":"2s","faults":[{"route":"graph.*","kind":"status","status":503,"times":2}]}`))
	resp, err = c.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT faults: %v %v", err, resp)
	}
	if got := e.Faults(); time.Duration(got.ReplicationLag) != 2*time.Second || len(got.Faults) != 1 {
		t.Fatalf("faults not set: %+v", got)
	}
}
