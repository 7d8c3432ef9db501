package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"1", time.Second},
		{"0.5", 500 * time.Millisecond},
		{" 7 ", 7 * time.Second},
		{"-3", 0},
		{now.Add(30 * time.Second).Format(time.RFC1123), 30 * time.Second},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSecretIsRedacted(t *testing.T) {
	s := Secret("abc8Q~verysecretvalue")
	b, _ := json.Marshal(struct{ S Secret }{s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %q %+v %#v", s, s, s, s, s), string(b)} {
		if strings.Contains(out, "verysecret") {
			t.Fatalf("secret shows in %q", out)
		}
	}
	if s.Reveal() != "abc8Q~verysecretvalue" {
		t.Fatal("Reveal")
	}
}

func TestErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		e                                      *Error
		lag, throttled, transient, concurrency bool
	}{
		{&Error{Status: 404, Code: "Request_ResourceNotFound"}, true, false, false, false},
		{&Error{Status: 400, Code: "Request_BadRequest", Details: []Detail{{Code: "NoBackingApplicationObject"}}}, true, false, false, false},
		{&Error{Status: 400, Code: "Request_BadRequest"}, false, false, false, false},
		{&Error{Status: 429}, false, true, false, false},
		{&Error{Status: 503}, false, false, true, false},
		{&Error{Status: 409, Code: "Directory_ConcurrencyViolation"}, false, false, false, true},
		{&Error{Status: 409, Code: "Request_MultipleObjectsWithSameKeyValue"}, false, false, false, false},
		{&Error{Err: &AuthError{Err: errors.New("no")}}, false, false, false, false},
	} {
		if IsReplicationLag(tc.e) != tc.lag || IsThrottled(tc.e) != tc.throttled || IsTransient(tc.e) != tc.transient || IsConcurrencyViolation(tc.e) != tc.concurrency {
			t.Errorf("%+v: lag %v throttled %v transient %v concurrency %v", tc.e, IsReplicationLag(tc.e), IsThrottled(tc.e), IsTransient(tc.e), IsConcurrencyViolation(tc.e))
		}
	}
	e := &Error{Op: "add a client secret", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", RequestID: "r-1", Attempts: 2}
	if got := e.Error(); got != "graph: add a client secret: Insufficient privileges to complete the operation. (HTTP 403 Authorization_RequestDenied, request-id r-1, 2 attempts)" {
		t.Errorf("Error() = %q", got)
	}
}

type harness struct {
	e  *emulatortest.Emulator
	tr *http.Transport
	ti emuclient.TenantInfo
}

func start(t *testing.T) *harness {
	t.Helper()
	e := emulatortest.New(t)
	return &harness{e: e, tr: e.Transport(), ti: e.Tenant(t, emulator.Workforce)}
}

func (h *harness) client(t *testing.T, retry RetryPolicy, onRetry func(RetryEvent)) *Client {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(h.ti.ID, h.ti.AutomationClient.AppID, h.ti.AutomationClient.Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/"}, Transport: &http.Client{Transport: h.tr}},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Credential: cred, Transport: h.tr, Retry: retry, OnRetry: onRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The adapter talks to Graph under its real name with a real token, reads the tenant, and maps
// Graph's errors with the request-id.
func TestAgainstEmulator(t *testing.T) {
	h := start(t)
	c := h.client(t, RetryPolicy{Initial: 10 * time.Millisecond, LagInterval: 10 * time.Millisecond, Deadline: 300 * time.Millisecond}, nil)
	ctx := context.Background()
	org, err := c.Organization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if org.ID != h.ti.ID || org.TenantType != "AAD" || org.InitialDomain() != h.ti.Domain {
		t.Fatalf("Organization = %+v", org)
	}
	app, err := c.AppByUniqueName(ctx, "does-not-exist", false, false)
	if err != nil || app != nil {
		t.Fatalf("AppByUniqueName of nothing = %v, %v", app, err)
	}
	_, _, err = c.AddPassword(ctx, "00000000-0000-0000-0000-000000000000", "x", time.Now().Add(time.Hour))
	ge, ok := AsError(err)
	if !ok || ge.Status != 404 || ge.RequestID == "" || ge.Attempts < 2 {
		t.Fatalf("AddPassword on nothing = %#v; want a retried 404 with its request-id", err)
	}
}

// 429s are retried after their Retry-After as often as Graph asks (the SDK stops at 3), and a
// context cancelled during the wait stops the call at once.
func TestThrottlingAndCancel(t *testing.T) {
	h := start(t)
	var mu sync.Mutex
	var evs []RetryEvent
	c := h.client(t, RetryPolicy{Initial: 10 * time.Millisecond, Deadline: 10 * time.Second}, func(ev RetryEvent) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	})
	ctx := context.Background()
	if _, err := c.Organization(ctx); err != nil { // token and connection warm
		t.Fatal(err)
	}
	h.e.AddFault(emulator.Fault{Route: "graph.organization.list", Kind: emulator.FaultStatus, Status: 429, RetryAfter: "0.05", Times: 5})
	if _, err := c.Organization(ctx); err != nil {
		t.Fatalf("after five 429s: %v", err)
	}
	if len(evs) != 5 || evs[0].Reason != "throttled" || evs[0].Wait != 50*time.Millisecond {
		t.Fatalf("retry events %+v; want five throttled waits of 50ms", evs)
	}
	h.e.AddFault(emulator.Fault{Route: "graph.organization.list", Kind: emulator.FaultStatus, Status: 429, RetryAfter: "1", Times: 1})
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Organization(cctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("cancelled during Retry-After: %v after %s", err, time.Since(start))
	}
}

// pagedGets calls list with the emulator capping pages at 2 items and checks that it got want
// items in pages GETs, so it really went page by page.
func (h *harness) pagedGets(t *testing.T, what string, want, pages int, list func() (int, error)) {
	t.Helper()
	cfg := h.e.Faults()
	cfg.MaxPageSize = 2
	h.e.SetFaults(cfg)
	before := len(h.e.Requests())
	got, err := list()
	calls := 0
	for _, r := range h.e.Requests()[before:] {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Route, "graph.") {
			calls++
		}
	}
	if err != nil || got != want || calls != pages {
		t.Fatalf("%s over pages of 2 = %d items in %d GETs, %v; want %d in %d", what, got, calls, err, want, pages)
	}
}

// Graph may answer fewer items than $top asks and a nextLink: every list follows the links to
// the last page, live and soft-deleted alike.
func TestListsFollowNextLink(t *testing.T) {
	h := start(t)
	c := h.client(t, RetryPolicy{Initial: 10 * time.Millisecond, Deadline: 5 * time.Second}, nil)
	ctx := context.Background()
	const n = 5
	for i := range n {
		app, _, err := c.UpsertApplication(ctx, fmt.Sprintf("paging-%d", i), AppWrite{DisplayName: fmt.Sprintf("paging %d", i), SignInAudience: "AzureADMyOrg", Tags: []string{"paging-test"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.UpsertServicePrincipal(ctx, app.AppID, app.DisplayName, nil); err != nil {
			t.Fatal(err)
		}
	}
	var apps []Application
	h.pagedGets(t, "ListApplications", n, 3, func() (int, error) {
		var err error
		apps, err = c.ListApplications(ctx, AppFilter{Tag: "paging-test"})
		return len(apps), err
	})
	for _, a := range apps {
		if err := c.DeleteApplication(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	h.pagedGets(t, "DeletedApplications", n, 3, func() (int, error) { d, err := c.DeletedApplications(ctx); return len(d), err })
	h.pagedGets(t, "DeletedServicePrincipals", n, 3, func() (int, error) { d, err := c.DeletedServicePrincipals(ctx); return len(d), err })
}

// The same for an External ID tenant's user flows and a flow's linked apps (a workshop links
// one app per attendee to one flow).
func TestUserFlowListsFollowNextLink(t *testing.T) {
	h := start(t)
	h.ti, _ = h.e.Info().Tenant(emulator.ExternalID)
	c := h.client(t, RetryPolicy{Initial: 10 * time.Millisecond, Deadline: 5 * time.Second}, nil)
	ctx := context.Background()
	flows, err := c.UserFlows(ctx)
	if err != nil || len(flows) == 0 {
		t.Fatalf("UserFlows = %v, %v; want the seeded flow", flows, err)
	}
	for i := range 5 - len(flows) {
		if _, err := c.CreateUserFlow(ctx, fmt.Sprintf("paging flow %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	h.pagedGets(t, "UserFlows", 5, 3, func() (int, error) { f, err := c.UserFlows(ctx); return len(f), err })
	h.e.SetFaults(emulator.FaultConfig{})
	const n = 5
	for i := range n {
		app, _, err := c.UpsertApplication(ctx, fmt.Sprintf("flow-paging-%d", i), AppWrite{DisplayName: fmt.Sprintf("flow paging %d", i), SignInAudience: "AzureADMyOrg"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.UpsertServicePrincipal(ctx, app.AppID, app.DisplayName, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.LinkUserFlow(ctx, flows[0].ID, app.AppID); err != nil {
			t.Fatal(err)
		}
	}
	h.pagedGets(t, "FlowApps", n, 3, func() (int, error) { a, err := c.FlowApps(ctx, flows[0].ID); return len(a), err })
}

// TestLagWaitIsShortAndSteady: the schedule of waits for replication lag, jitter included.
func TestLagWaitIsShortAndSteady(t *testing.T) {
	base := 250 * time.Millisecond
	for _, tc := range []struct{ waited, step time.Duration }{
		{0, base}, {1900 * time.Millisecond, base}, {2 * time.Second, 2 * base}, {9 * time.Second, 2 * base},
		{10 * time.Second, 4 * base}, {90 * time.Second, 4 * base},
	} {
		for range 50 {
			if w := LagWait(base, tc.waited); w < tc.step*8/10 || w > tc.step*12/10 {
				t.Fatalf("LagWait(%s, %s) = %s; want %s ±20%%", base, tc.waited, w, tc.step)
			}
		}
	}
}

// TestReplicationLagRetriedSteadily: a call about an object that has not replicated yet is
// retried at the lag schedule, not with the exponential backoff kept for 5xx and dropped
// connections, and succeeds once the object appears.
func TestReplicationLagRetriedSteadily(t *testing.T) {
	h := start(t)
	var mu sync.Mutex
	var evs []RetryEvent
	c := h.client(t, RetryPolicy{Initial: time.Second, LagInterval: 20 * time.Millisecond, Deadline: 10 * time.Second}, func(ev RetryEvent) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	})
	ctx := context.Background()
	if _, err := c.Organization(ctx); err != nil {
		t.Fatal(err)
	}
	h.e.SetReplicationLag(400 * time.Millisecond)
	app, created, err := c.UpsertApplication(ctx, "lag-steady", AppWrite{DisplayName: "lag"})
	if err != nil || !created {
		t.Fatalf("upsert = %v, %v", created, err)
	}
	if _, _, err := c.AddPassword(ctx, app.ID, "s", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("addPassword under lag: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(evs) < 3 {
		t.Fatalf("%d retries; want several for a 400 ms lag at 20 ms", len(evs))
	}
	for _, ev := range evs {
		if ev.Reason != "replication lag" || ev.Wait > 100*time.Millisecond {
			t.Fatalf("retry %+v; want replication-lag waits on the lag schedule (at most 4 x 20 ms + jitter), not the 1 s backoff", ev)
		}
	}
}

// TestAppFilterQuotesAndValidates: values go into $filter quoted, an appId must be a GUID.
func TestAppFilterQuotesAndValidates(t *testing.T) {
	if f, err := (AppFilter{Tag: "entra-quickstart:lab:o'brien"}).odata(); err != nil || f != "tags/any(t:t eq 'entra-quickstart:lab:o''brien')" {
		t.Errorf("tag filter = %q, %v", f, err)
	}
	if _, err := (AppFilter{AppID: "00000000-0000-0000-0000-000000000000' or displayName eq 'x"}).odata(); err == nil || !strings.Contains(err.Error(), "not a GUID") {
		t.Errorf("an injected appId was accepted: %v", err)
	}
	if f, err := (AppFilter{AppID: "3f1b0c2e-0000-4000-8000-000000000001"}).odata(); err != nil || f != "appId eq '3f1b0c2e-0000-4000-8000-000000000001'" {
		t.Errorf("appId filter = %q, %v", f, err)
	}
}

// Credential changes to one app that come too close together answer 409
// Directory_ConcurrencyViolation: the client sends them one after another and retries that
// answer with backoff as a reason of its own, so parallel secrets converge.
func TestConcurrencyViolationRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   bool // retries for a concurrent change expected
	}{
		{"no window", 0, false},
		{"window of 300ms", 300 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			s := emulator.DefaultSettings()
			s.CredentialConcurrencyWindow = emulator.Duration(tc.window)
			if err := h.e.SetSettings(h.ti.Domain, s); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var reasons []string
			c := h.client(t, RetryPolicy{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond, Deadline: 20 * time.Second, LagInterval: 20 * time.Millisecond}, func(ev RetryEvent) {
				mu.Lock()
				defer mu.Unlock()
				reasons = append(reasons, ev.Reason)
			})
			ctx := context.Background()
			app, _, err := c.UpsertApplication(ctx, "concurrency-"+strings.ReplaceAll(tc.name, " ", "-"), AppWrite{DisplayName: "concurrency"})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			keys := make([]string, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pc, _, err := c.AddPassword(ctx, app.ID, fmt.Sprintf("s%d", i), time.Now().Add(time.Hour))
					errs[i], keys[i] = err, pc.KeyID
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("secret %d: %v", i, err)
				}
			}
			for _, k := range keys {
				if err := c.RemovePassword(ctx, app.ID, k); err != nil {
					t.Fatalf("remove %s: %v", k, err)
				}
			}
			got := slices.Contains(reasons, "concurrent change")
			if got != tc.want {
				t.Fatalf("retry reasons %v; concurrent change retried = %v, want %v", reasons, got, tc.want)
			}
			after, err := c.AppByUniqueName(ctx, app.UniqueName, false, false)
			if err != nil || after == nil || len(after.Passwords) != 0 {
				t.Fatalf("app after = %+v, %v; want every secret added and removed", after, err)
			}
		})
	}
}

// A logout URL the desired state no longer has is cleared (an explicit null: PATCH keeps what
// it is not sent), and keyCredentials is read only when asked for (Graph limits such reads to
// 150 a minute per tenant).
func TestLogoutURLClearedAndKeysReadOnlyWhenAsked(t *testing.T) {
	h := start(t)
	c := h.client(t, RetryPolicy{Initial: 10 * time.Millisecond, LagInterval: 10 * time.Millisecond, Deadline: 2 * time.Second}, nil)
	ctx := context.Background()
	w := AppWrite{DisplayName: "logout", SignInAudience: "AzureADMyOrg", Web: Web{RedirectURIs: []string{"https://localhost:5001/signin-oidc"}, LogoutURL: "https://localhost:5001/signout-oidc"}}
	if _, _, err := c.UpsertApplication(ctx, "logout-clear", w); err != nil {
		t.Fatal(err)
	}
	w.Web.LogoutURL = ""
	if _, _, err := c.UpsertApplication(ctx, "logout-clear", w); err != nil {
		t.Fatal(err)
	}
	h.e.ResetRequests()
	app, err := c.AppByUniqueName(ctx, "logout-clear", false, false)
	if err != nil || app == nil || app.Web.LogoutURL != "" {
		t.Fatalf("after clearing: %+v %v; want no logout URL", app, err)
	}
	if _, err := c.ListApplications(ctx, AppFilter{AppID: app.AppID}); err != nil {
		t.Fatal(err)
	}
	for _, r := range h.e.Requests() {
		if strings.Contains(strings.ToLower(r.Path), "keycredentials") {
			t.Errorf("%s %s selects keyCredentials without being asked", r.Method, r.Path)
		}
	}
	if _, err := c.AppByUniqueName(ctx, "logout-clear", false, true); err != nil {
		t.Fatal(err)
	}
	asked := false
	for _, r := range h.e.Requests() {
		asked = asked || strings.Contains(r.Path, "keyCredentials")
	}
	if !asked {
		t.Errorf("withKeys did not select keyCredentials: %v", h.e.Requests())
	}
}
