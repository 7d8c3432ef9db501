// Package bench is the benchmark harness behind `make bench`: each measurement starts the
// emulator in process on loopback, sets its latency or throttling, runs the real code, and
// returns numbers. It asserts nothing about speed: the table program prints, the Go
// benchmarks report metrics.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/lab"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// Env is one in-process emulator reached at its local base, as --emulator reaches it.
type Env struct {
	E     *emulator.Emulator
	Cloud auth.Cloud
	Info  emuclient.Info
}

// Start starts an emulator.
func Start() (*Env, error) {
	e, err := emulator.Start(emulator.Options{})
	if err != nil {
		return nil, err
	}
	c, err := auth.EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		e.Close()
		return nil, err
	}
	return &Env{E: e, Cloud: c, Info: e.Info()}, nil
}

// Close stops the emulator.
func (v *Env) Close() {
	if tr, ok := v.Cloud.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	v.E.Close()
}

func (v *Env) tenant(kind samples.TenantType) (emuclient.TenantInfo, error) {
	ti, ok := v.Info.Tenant(emuclient.TenantType(kind)) // the emulator spells the kinds as the catalog does
	if !ok {
		return ti, fmt.Errorf("the emulator has no %s tenant", kind)
	}
	return ti, nil
}

// Graph is a Graph client signed in as the tenant's automation client; gov (optional) meters
// its transport, as lab provision's client has it.
func (v *Env) Graph(kind samples.TenantType, gov *lab.Governor) (*graph.Client, error) {
	ti, err := v.tenant(kind)
	if err != nil {
		return nil, err
	}
	cred, err := auth.NewCredential(auth.CredentialOptions{
		Cloud: v.Cloud, TenantID: ti.ID, Method: auth.MethodEnvironment,
		Getenv: func(k string) string {
			return map[string]string{"AZURE_CLIENT_ID": ti.AutomationClient.AppID, "AZURE_CLIENT_SECRET": ti.AutomationClient.Secret, "AZURE_TENANT_ID": ti.ID}[k]
		},
	})
	if err != nil {
		return nil, err
	}
	tr := v.Cloud.Transport
	if gov != nil {
		tr = gov.Wrap(tr)
	}
	return graph.New(graph.Config{Credential: cred, Endpoint: v.Cloud.GraphBase, Transport: tr, Scopes: cred.Scopes})
}

// SetLatency delays every Graph call and every token call by d (0 clears every fault).
func (v *Env) SetLatency(d time.Duration) {
	cfg := v.E.Faults()
	cfg.Faults = nil
	if d > 0 {
		cfg.Faults = []emulator.Fault{
			{Route: "graph.*", Kind: emulator.FaultLatency, Delay: emulator.Duration(d)},
			{Route: "login.token", Kind: emulator.FaultLatency, Delay: emulator.Duration(d)},
		}
	}
	v.E.SetFaults(cfg)
}

// graphCalls counts the Graph requests served since the log had n entries.
func (v *Env) graphCalls(n int) int {
	c := 0
	for _, r := range v.E.Requests()[n:] {
		if strings.HasPrefix(r.Route, "graph.") {
			c++
		}
	}
	return c
}

// appBench is what the single-app measurements share: an emulator, an engine signed in as the
// tenant's automation client, and specs for new apps of one sample with a secret.
type appBench struct {
	v   *Env
	m   *samples.Manifest
	eng *provision.Engine
	tmp string
}

func newAppBench(sample string) (*appBench, error) {
	m, err := samples.Lookup(sample)
	if err != nil {
		return nil, err
	}
	v, err := Start()
	if err != nil {
		return nil, err
	}
	g, err := v.Graph(m.TenantType, nil)
	if err != nil {
		v.Close()
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "eq-bench-")
	if err != nil {
		v.Close()
		return nil, err
	}
	return &appBench{v: v, m: m, eng: provision.New(g, provision.Options{}), tmp: tmp}, nil
}

func (a *appBench) spec(name string) (provision.Spec, error) {
	return provision.SpecFor(a.m, provision.Answers{Name: name, Credential: samples.Secret, KeyFile: filepath.Join(a.tmp, name+".pem")})
}

func (a *appBench) close() {
	os.RemoveAll(a.tmp)
	a.v.Close()
}

// SingleApp is one sample's app made three ways under the same latency.
type SingleApp struct {
	Sample     string
	Latency    time.Duration
	Runs       int
	Apply      time.Duration // median wall time of Apply for a new app
	PlanApply  time.Duration // median of Plan + Apply (reading what exists first)
	RoundTrips int           // Apply's dependent Graph round trips
	ApplyCalls int           // Graph calls Apply made
	Script     time.Duration // median of the Configure.ps1 call sequence replayed
	ScriptCall int           // its calls, one after another
}

// Minimum is the theoretical minimum of Apply: dependent round trips x latency.
func (s SingleApp) Minimum() time.Duration { return time.Duration(s.RoundTrips) * s.Latency }

// RunSingleApp measures Apply for a new app of sample (a secret credential) with latency on
// every Graph and token call, and the same app made by the sample's Configure.ps1 call
// sequence, runs times each; medians.
func RunSingleApp(ctx context.Context, sample string, latency time.Duration, runs int) (SingleApp, error) {
	res := SingleApp{Sample: sample, Latency: latency, Runs: runs}
	a, err := newAppBench(sample)
	if err != nil {
		return res, err
	}
	defer a.close()
	v, m, eng, spec := a.v, a.m, a.eng, a.spec
	// Warm the token cache, the connections and the user flow outside the timing: the script's
	// own sign-in is interactive and not counted either.
	warm, err := spec("warm")
	if err != nil {
		return res, err
	}
	if p, err := eng.Plan(ctx, warm); err != nil {
		return res, err
	} else if _, err := eng.Apply(ctx, p); err != nil {
		return res, err
	}
	// The script signs in as an admin with User.Read.All and Organization.Read.All besides
	// Application.ReadWrite.All; the replay's app-only token gets the same by app roles.
	if err := v.grantScriptRoles(m.TenantType); err != nil {
		return res, err
	}
	token, err := v.token(ctx, m.TenantType)
	if err != nil {
		return res, err
	}
	v.SetLatency(latency)
	defer v.SetLatency(0)
	var applies, planApplies, scripts []time.Duration
	for i := range runs {
		s, err := spec(fmt.Sprint("bench-", i))
		if err != nil {
			return res, err
		}
		t0 := time.Now()
		p, err := eng.Plan(ctx, s)
		if err != nil {
			return res, err
		}
		before := len(v.E.Requests())
		t1 := time.Now()
		r, err := eng.Apply(ctx, p)
		if err != nil {
			return res, err
		}
		end := time.Now()
		applies, planApplies = append(applies, end.Sub(t1)), append(planApplies, end.Sub(t0))
		res.RoundTrips, res.ApplyCalls = r.RoundTrips, v.graphCalls(before)

		t2 := time.Now()
		n, err := v.configurePS1(ctx, m, token, fmt.Sprint("bench-script-", i))
		if err != nil {
			return res, err
		}
		scripts = append(scripts, time.Since(t2))
		res.ScriptCall = n
	}
	res.Apply, res.PlanApply, res.Script = median(applies), median(planApplies), median(scripts)
	return res, nil
}

// ApplyUnderLag is Apply for a new app while the emulator replicates every new object lag late
// (an app, service principal, secret or grant is invisible to other calls until then).
type ApplyUnderLag struct {
	Sample string
	Lag    time.Duration
	Runs   int
	Apply  time.Duration // median of Apply under the lag
	NoLag  time.Duration // median of Apply with no lag, in the same run: the round trips
	Calls  int           // Graph calls of the last Apply under the lag, retries included
}

// LagsOnChain are the lags Apply's dependency chain must wait out: the app before its secret
// and its service principal, the service principal before the consent (and the user-flow link).
const LagsOnChain = 2

// Minimum is the dependency-chain minimum: the lags on the chain plus the round trips.
func (a ApplyUnderLag) Minimum() time.Duration { return LagsOnChain*a.Lag + a.NoLag }

// RunApplyUnderLag measures Apply for a new app of sample (a secret) runs times with no lag
// and runs times with lag, in one emulator; medians.
func RunApplyUnderLag(ctx context.Context, sample string, lag time.Duration, runs int) (ApplyUnderLag, error) {
	res := ApplyUnderLag{Sample: sample, Lag: lag, Runs: runs}
	a, err := newAppBench(sample)
	if err != nil {
		return res, err
	}
	defer a.close()
	v, eng := a.v, a.eng
	apply := func(name string) (time.Duration, int, error) {
		s, err := a.spec(name)
		if err != nil {
			return 0, 0, err
		}
		p, err := eng.Plan(ctx, s)
		if err != nil {
			return 0, 0, err
		}
		before := len(v.E.Requests())
		t0 := time.Now()
		if _, err := eng.Apply(ctx, p); err != nil {
			return 0, 0, err
		}
		return time.Since(t0), v.graphCalls(before), nil
	}
	if _, _, err := apply("warm"); err != nil {
		return res, err
	}
	var noLag, lagged []time.Duration
	for i := range runs {
		d, _, err := apply(fmt.Sprint("nolag-", i))
		if err != nil {
			return res, err
		}
		noLag = append(noLag, d)
	}
	v.E.SetReplicationLag(lag)
	defer v.E.SetReplicationLag(0)
	for i := range runs {
		d, calls, err := apply(fmt.Sprint("lag-", i))
		if err != nil {
			return res, err
		}
		lagged, res.Calls = append(lagged, d), calls
	}
	res.Apply, res.NoLag = median(lagged), median(noLag)
	return res, nil
}

// grantScriptRoles gives the automation client the read permissions Configure.ps1's sign-in asks for.
func (v *Env) grantScriptRoles(kind samples.TenantType) error {
	ti, err := v.tenant(kind)
	if err != nil {
		return err
	}
	return v.E.Store().Do(func(d *emulator.Directory) error {
		for _, sp := range d.Tenant(ti.ID).ServicePrincipals {
			if strings.EqualFold(sp.AppID, ti.AutomationClient.AppID) {
				for _, r := range []string{"User.Read.All", "Organization.Read.All"} {
					if !slices.Contains(sp.AppRoleAssignments, r) {
						sp.AppRoleAssignments = append(sp.AppRoleAssignments, r)
					}
				}
				return nil
			}
		}
		return errors.New("the automation client has no service principal")
	})
}

// token gets a Graph token for the tenant's automation client by client credentials.
func (v *Env) token(ctx context.Context, kind samples.TenantType) (string, error) {
	ti, err := v.tenant(kind)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ti.AutomationClient.AppID},
		"client_secret": {ti.AutomationClient.Secret}, "scope": {"https://graph.microsoft.com/.default"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.Cloud.TokenURL(ti.ID), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := v.Cloud.HTTPClient().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("no token from the emulator (HTTP %d)", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// configurePS1 replays the Graph calls of the sample's AppCreationScripts/Configure.ps1
// (facts/samples.md §3), one after another over plain HTTP, as the Microsoft Graph PowerShell
// cmdlets make them. It returns the number of calls. Every call must succeed.
//
// node-workforce (§3.1), 6 calls: POST /applications, POST addPassword, GET the app
// (publisherDomain), PATCH identifierUris, POST /servicePrincipals, GET owners.
// External ID samples (§3.3), 9 calls: GET /users?$filter (the signed-in user), GET
// /organization, then the same first five, GET owners, GET the Microsoft Graph service
// principal by display name, PATCH requiredResourceAccess.
// The Python workforce script (§3.2) is the External ID sequence without the last two calls.
//
// The emulator has no /applications/{id}/owners route; the owners read is replayed as a read
// of the app ($select=id), one round trip either way.
func (v *Env) configurePS1(ctx context.Context, m *samples.Manifest, token, name string) (int, error) {
	ti, err := v.tenant(m.TenantType)
	if err != nil {
		return 0, err
	}
	base := v.Cloud.GraphURL()
	c := v.Cloud.HTTPClient()
	calls := 0
	do := func(method, path string, body any, out any) error {
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return err
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		calls++
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("the Configure.ps1 replay: %s %s: HTTP %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	external := m.TenantType == samples.External
	pythonWorkforce := !external && strings.Contains(m.Repository, "python")
	if external || pythonWorkforce {
		upn := ""
		if len(ti.Users) > 0 {
			upn = ti.Users[0].UserPrincipalName
		}
		if err := do(http.MethodGet, "/users?$filter="+url.QueryEscape("userPrincipalName eq '"+upn+"'"), nil, nil); err != nil {
			return calls, err
		}
		if err := do(http.MethodGet, "/organization", nil, nil); err != nil {
			return calls, err
		}
	}
	var app struct {
		ID    string `json:"id"`
		AppID string `json:"appId"`
	}
	web := map[string]any{"redirectUris": m.RedirectURIs, "homePageUrl": m.AppURL}
	if err := do(http.MethodPost, "/applications", map[string]any{"displayName": name, "web": web, "signInAudience": "AzureADMyOrg"}, &app); err != nil {
		return calls, err
	}
	end := time.Now().AddDate(0, 6, 0).UTC().Format(time.RFC3339)
	if err := do(http.MethodPost, "/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "app secret", "endDateTime": end}}, nil); err != nil {
		return calls, err
	}
	if err := do(http.MethodGet, "/applications/"+app.ID, nil, nil); err != nil {
		return calls, err
	}
	if !external && !pythonWorkforce {
		if err := do(http.MethodPatch, "/applications/"+app.ID, map[string]any{"identifierUris": []string{"api://" + app.AppID}}, nil); err != nil {
			return calls, err
		}
	}
	if err := do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": app.AppID, "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"}}, nil); err != nil {
		return calls, err
	}
	if err := do(http.MethodGet, "/applications/"+app.ID+"?$select=id", nil, nil); err != nil { // the owners read
		return calls, err
	}
	if external {
		if err := do(http.MethodGet, "/servicePrincipals?$filter="+url.QueryEscape("displayName eq 'Microsoft Graph'"), nil, nil); err != nil {
			return calls, err
		}
		rra := []map[string]any{{"resourceAppId": graph.GraphAppID, "resourceAccess": []map[string]string{
			{"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope"}, {"id": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "type": "Scope"}}}}
		if err := do(http.MethodPatch, "/applications/"+app.ID, map[string]any{"requiredResourceAccess": rra}, nil); err != nil {
			return calls, err
		}
	}
	return calls, nil
}

// LabRun is a lab of many attendees against the emulator enforcing Graph's documented budget,
// its counts and windows divided by Scale (so the rates stay Graph's and the run stays short).
type LabRun struct {
	Sample    string
	Attendees int
	Scale     int
	Budget    lab.Budget
	Elapsed   time.Duration
	Writes    int
	Throttled int // 429s the emulator answered (retried by the Graph client; Failed counts what reached the caller)
	// KeyReads are the reads that selected keyCredentials; KeyThrottled the 429s of their limit.
	KeyReads     int
	KeyThrottled int
	Failed       int
	Lag          time.Duration // the emulator's replication lag
}

// WritesPerSecond is the achieved write rate.
func (l LabRun) WritesPerSecond() float64 { return float64(l.Writes) / l.Elapsed.Seconds() }

// Fraction is the achieved write rate over the budget's.
func (l LabRun) Fraction() float64 { return l.WritesPerSecond() / l.Budget.WritesPerSecond() }

// Best is the least time the write budget allows for Writes: the first window's burst at once,
// the rest at the budget's rate.
func (l LabRun) Best() time.Duration {
	rest := max(l.Writes-l.Budget.Writes, 0)
	return time.Duration(float64(rest) / l.Budget.WritesPerSecond() * float64(time.Second))
}

// RunLab provisions a lab of n attendees (node-workforce) with no added latency, the emulator
// replicating new objects lag late (0: at once).
func RunLab(ctx context.Context, n, scale int, lag time.Duration) (LabRun, error) {
	return RunLabSample(ctx, "node-workforce", n, scale, lag)
}

// RunLabSample is RunLab for another sample: aspnet-workforce (a certificate) reads each
// attendee's keyCredentials, so it runs under Graph's 150 such reads a minute as well, the
// emulator enforcing it with the same scale as the other budgets.
func RunLabSample(ctx context.Context, sample string, n, scale int, lag time.Duration) (LabRun, error) {
	res := LabRun{Sample: sample, Attendees: n, Scale: scale, Budget: lab.DocumentedBudget().Scaled(scale, scale), Lag: lag}
	// The keyCredentials limit is scaled by at most 10 (15 reads per 6 s, Graph's rate): scaled
	// down to 1 read per window, every read would sit on a window's edge, where the network's
	// delay rather than the budget decides.
	kd := lab.DocumentedBudget()
	ks := min(scale, 10)
	res.Budget.KeyCredentialReads, res.Budget.KeyCredentialWindow = kd.KeyCredentialReads/ks, kd.KeyCredentialWindow/time.Duration(ks)
	v, err := Start()
	if err != nil {
		return res, err
	}
	defer v.Close()
	v.E.SetReplicationLag(lag)
	b := res.Budget
	fc := v.E.Faults()
	fc.KeyCredentialReads, fc.KeyCredentialWindow = b.KeyCredentialReads, emulator.Duration(b.KeyCredentialWindow)
	v.E.SetFaults(fc)
	v.E.SetThrottle(&emulator.Throttle{ResourceUnits: b.ResourceUnits, Window: emulator.Duration(b.Window), Writes: b.Writes, WriteWindow: emulator.Duration(b.WriteWindow)})
	gov := lab.NewGovernor(lab.GovernorOptions{Budget: b})
	g, err := v.Graph(samples.Workforce, gov)
	if err != nil {
		return res, err
	}
	m, err := samples.Lookup(sample)
	if err != nil {
		return res, fmt.Errorf("bench: %w", err)
	}
	people, err := lab.Numbered(n)
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "eq-bench-lab-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	before := len(v.E.Requests())
	rep, err := lab.Provision(ctx, lab.Config{Name: "bench", Sample: m, Attendees: people, Dir: dir, Graph: g, Governor: gov, Cloud: v.Cloud})
	if rep != nil {
		res.Elapsed, res.Failed = time.Duration(rep.Elapsed), rep.Failed
	}
	for _, r := range v.E.Requests()[before:] {
		if strings.HasPrefix(r.Route, "graph.") && r.Method != http.MethodGet && r.Status/100 == 2 {
			res.Writes++
		}
	}
	for _, ev := range v.E.FaultEvents() {
		switch ev.Kind {
		case "throttle":
			res.Throttled++
		case "throttle-keycredentials":
			res.Throttled++
			res.KeyThrottled++
		}
	}
	res.KeyReads = gov.Stats().KeyReads
	return res, err
}

// Journey is process start to a passed sign-in check.
type Journey struct {
	Runs   int
	Median time.Duration
	Min    time.Duration
}

// RunJourney runs `bin init --emulator --no-input --yes --auto-sign-in` for node-workforce
// runs times, each in a fresh ENTRA_QUICKSTART_HOME and folder (a newcomer's first run), and
// times process start to exit; exit 0 means the sign-in check passed.
func RunJourney(ctx context.Context, bin string, runs int) (Journey, error) {
	var ts []time.Duration
	for range runs {
		d, err := runInit(ctx, bin, "node-workforce", "--emulator")
		if err != nil {
			return Journey{}, err
		}
		ts = append(ts, d)
	}
	return Journey{Runs: runs, Median: median(ts), Min: slices.Min(ts)}, nil
}

// JourneyUnderLag is the journey against one emulator started beforehand, with no lag and with
// the emulator replicating new objects lag late, runs times each.
type JourneyUnderLag struct {
	Lag          time.Duration
	Runs         int
	NoLag, Under time.Duration // medians
}

// JourneyLagsOnChain are the lags on the journey's chain for node-workforce: the app before its
// secret and service principal, then the secret before it works. The consent's own lag runs
// beside the credential wait and the sign-in: a workforce member may consent at the first
// sign-in (the emulator's demo user does), so the journey need not wait for it.
const JourneyLagsOnChain = 2

// Minimum is the chain's lags plus the journey with no lag.
func (j JourneyUnderLag) Minimum() time.Duration { return JourneyLagsOnChain*j.Lag + j.NoLag }

// RunJourneyUnderLag runs `bin init --emulator-url … --auto-sign-in` for sample against an
// emulator in this process, runs times with no lag and runs times with lag.
func RunJourneyUnderLag(ctx context.Context, bin, sample string, lag time.Duration, runs int) (JourneyUnderLag, error) {
	res := JourneyUnderLag{Lag: lag, Runs: runs}
	v, err := Start()
	if err != nil {
		return res, err
	}
	defer v.Close()
	var noLag, under []time.Duration
	for _, l := range []time.Duration{0, lag} {
		v.E.SetReplicationLag(l)
		for i := range runs {
			// A name of its own per run: each journey makes a new app, as a newcomer's first
			// run does (a re-run would only renew the secret, one lag instead of the chain's).
			d, err := runInit(ctx, bin, sample, "--emulator-url", v.E.URL(), "--ca-file", v.E.CAFile(),
				"--name", fmt.Sprintf("lag%d-run%d", l.Milliseconds(), i))
			if err != nil {
				return res, err
			}
			if l == 0 {
				noLag = append(noLag, d)
			} else {
				under = append(under, d)
			}
		}
	}
	v.E.SetReplicationLag(0)
	res.NoLag, res.Under = median(noLag), median(under)
	return res, nil
}

// runInit runs the journey once in a fresh ENTRA_QUICKSTART_HOME and folder and returns its
// wall time; it fails unless the sign-in check passed.
func runInit(ctx context.Context, bin, sample string, target ...string) (time.Duration, error) {
	home, err := os.MkdirTemp("", "eq-bench-home-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(home)
	args := append([]string{"init", "--no-input", "--yes", "--auto-sign-in", "--json", "--sample", sample, "--dir", filepath.Join(home, "app")}, target...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("the journey failed (%w):\n%s", err, errOut.String())
	}
	var r struct {
		Verify *struct {
			Outcome string `json:"outcome"`
		} `json:"verify"`
	}
	if json.Unmarshal(out.Bytes(), &r) != nil || r.Verify == nil || r.Verify.Outcome != "passed" {
		return 0, fmt.Errorf("the journey ended without a passed sign-in check:\n%s", out.String())
	}
	return d, nil
}

// Binary is the built binary's size and start-up time.
type Binary struct {
	Size       int64
	Runs       int
	HelpMedian time.Duration
}

// RunBinary measures bin's size and the median time of `bin --help` over runs.
func RunBinary(ctx context.Context, bin string, runs int) (Binary, error) {
	fi, err := os.Stat(bin)
	if err != nil {
		return Binary{}, err
	}
	var ts []time.Duration
	for range runs {
		cmd := exec.CommandContext(ctx, bin, "--help")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return Binary{}, fmt.Errorf("%s --help: %w", bin, err)
		}
		ts = append(ts, time.Since(t0))
	}
	return Binary{Size: fi.Size(), Runs: runs, HelpMedian: median(ts)}, nil
}

// Build builds the binary into dir as `make build` does (stripped) and returns its path.
func Build(ctx context.Context, moduleRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "entra-quickstart")
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-s -w", "-o", bin, "./cmd/entra-quickstart")
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

func median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

// ErrNoBinary says the binary measurements need a built binary.
var ErrNoBinary = errors.New("no binary: pass -bin bin/entra-quickstart (make build)")
