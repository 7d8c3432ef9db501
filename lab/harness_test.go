package lab

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// harness is one emulator reached as the CLI reaches it with --emulator: its local base, the
// tenant's automation client signing in, Graph through a Governor.
type harness struct {
	t     testing.TB
	e     *emulatortest.Emulator
	cloud auth.Cloud
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	e := emulatortest.New(t)
	c, err := auth.EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := c.Transport.(*http.Transport); ok {
		t.Cleanup(tr.CloseIdleConnections)
	}
	return &harness{t: t, e: e, cloud: c}
}

func (h *harness) tenant(kind samples.TenantType) emuclient.TenantInfo {
	h.t.Helper()
	tt := emulator.Workforce
	if kind == samples.External {
		tt = emulator.ExternalID
	}
	return h.e.Tenant(h.t, tt)
}

// graph is a Graph client for the tenant of kind, metered by gov (nil: unmetered).
func (h *harness) graph(kind samples.TenantType, gov *Governor) *graph.Client {
	h.t.Helper()
	ti := h.tenant(kind)
	cred, err := auth.NewCredential(auth.CredentialOptions{
		Cloud: h.cloud, TenantID: ti.ID, Method: auth.MethodEnvironment,
		Getenv: func(k string) string {
			return map[string]string{"AZURE_CLIENT_ID": ti.AutomationClient.AppID, "AZURE_CLIENT_SECRET": ti.AutomationClient.Secret, "AZURE_TENANT_ID": ti.ID}[k]
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var tr http.RoundTripper = h.cloud.Transport
	if gov != nil {
		tr = gov.Wrap(tr)
	}
	g, err := graph.New(graph.Config{Credential: cred, Endpoint: h.cloud.GraphBase, Transport: tr, Scopes: cred.Scopes,
		Retry: graph.RetryPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Deadline: 60 * time.Second, MaxRetryAfter: 30 * time.Second}})
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}

// config is a lab run for sample with n numbered attendees into dir.
func (h *harness) config(name, sample string, n int, dir string, gov *Governor) Config {
	h.t.Helper()
	m, err := samples.Lookup(sample)
	if err != nil {
		h.t.Fatal(err)
	}
	people, err := Numbered(n)
	if err != nil {
		h.t.Fatal(err)
	}
	return Config{Name: name, Sample: m, Attendees: people, Dir: dir, Graph: h.graph(m.TenantType, gov), Governor: gov,
		Cloud: h.cloud, ReadyTimeout: 10 * time.Second, ReadyInterval: 20 * time.Millisecond,
		UserFlow: provision.UserFlowSpec{CreateIfNone: true}}
}

// apps counts the tenant's applications (live and soft-deleted) carrying tag; "" counts all.
func (h *harness) apps(kind samples.TenantType, tag string) (live, deleted int, uniqueNames []string) {
	tid := h.tenant(kind).ID
	h.e.Store().View(func(d *emulator.Directory) {
		for _, a := range d.Tenant(tid).Applications {
			if tag != "" && !slices.Contains(a.Tags, tag) {
				continue
			}
			if a.Deleted() {
				deleted++
				continue
			}
			live++
			if a.UniqueName != nil {
				uniqueNames = append(uniqueNames, *a.UniqueName)
			}
		}
	})
	return live, deleted, uniqueNames
}

// throttled counts the 429s the emulator answered.
func (h *harness) throttled() int {
	n := 0
	for _, ev := range h.e.FaultEvents() {
		if ev.Kind == "throttle" {
			n++
		}
	}
	return n
}

// graphWrites counts the Graph writes the emulator served (any status).
func (h *harness) graphWrites() int {
	n := 0
	for _, r := range h.e.Requests() {
		if strings.HasPrefix(r.Route, "graph.") && r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

func background(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// graphApp is an app registration without our tag.
func graphApp(displayName string) graph.AppWrite {
	return graph.AppWrite{DisplayName: displayName, SignInAudience: "AzureADMyOrg", Tags: []string{"not-entra-quickstart"}}
}
