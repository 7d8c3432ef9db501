package provision

import (
	"context"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
)

// env is one emulator and, per tenant kind, an engine signed in as the tenant's automation
// client through azidentity against the emulator's real token endpoint. Graph is reached over
// real HTTPS under its real host name.
type env struct {
	t      testing.TB
	e      *emulatortest.Emulator
	tr     *http.Transport
	events testkit.Log[Event]
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := emulatortest.New(t)
	return &env{t: t, e: e, tr: e.Transport()}
}

func (v *env) tenant(kind samples.TenantType) emuclient.TenantInfo {
	v.t.Helper()
	tt := emulator.Workforce
	if kind == External {
		tt = emulator.ExternalID
	}
	return v.e.Tenant(v.t, tt)
}

// fastRetry keeps fault tests short: tens of milliseconds between tries.
func fastRetry() graph.RetryPolicy {
	return graph.RetryPolicy{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond, Deadline: 5 * time.Second, MaxRetryAfter: 2 * time.Second}
}

func (v *env) credential(kind samples.TenantType) azcore.TokenCredential {
	v.t.Helper()
	ti := v.tenant(kind)
	cred, err := azidentity.NewClientSecretCredential(ti.ID, ti.AutomationClient.AppID, ti.AutomationClient.Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/"},
			Transport: &http.Client{Transport: v.tr},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		v.t.Fatal(err)
	}
	return cred
}

func (v *env) graphClient(kind samples.TenantType, retry graph.RetryPolicy) *graph.Client {
	v.t.Helper()
	g, err := graph.New(graph.Config{
		Credential: v.credential(kind),
		Endpoint:   "https://graph.microsoft.com",
		Transport:  v.tr,
		Retry:      retry,
		OnRetry:    OnRetry(v.events.Add),
	})
	if err != nil {
		v.t.Fatal(err)
	}
	return g
}

func (v *env) engine(kind samples.TenantType) *Engine {
	return New(v.graphClient(kind, fastRetry()), Options{Progress: v.events.Add})
}

// mustApply plans s and applies the plan, failing t on either error.
func mustApply(t testing.TB, ctx context.Context, eng *Engine, s Spec) *Result {
	t.Helper()
	p, err := eng.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := eng.Apply(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// spec is a test spec for a tenant kind and credential, with the key file in a temp folder.
func (v *env) spec(kind samples.TenantType, cred samples.CredentialKind, name string) Spec {
	sample := "node-workforce"
	redirects := []string{"http://localhost:3000/auth/redirect", "http://localhost:3000"}
	logout := ""
	if cred == samples.Certificate {
		sample = "aspnet-workforce"
		redirects = []string{"https://localhost:5001/signin-oidc", "https://localhost:5001/signout-callback-oidc"}
		logout = "https://localhost:5001/signout-oidc"
	}
	if kind == External {
		sample = strings.Replace(sample, "workforce", "external", 1)
	}
	s := NewSpec(Spec{
		Sample: sample, Name: name, TenantType: kind,
		RedirectURIs: redirects, LogoutURL: logout, GraphScopes: []string{"User.Read"},
		Credential: CredentialSpec{Kind: cred, KeyFile: filepath.Join(v.t.TempDir(), "app.pem")},
	})
	if err := s.Validate(); err != nil {
		v.t.Fatal(err)
	}
	return s
}

func (v *env) tokenURL(kind samples.TenantType) string {
	ti := v.tenant(kind)
	if kind == External {
		return TokenURL("https://"+ti.Subdomain+".ciamlogin.com", ti.ID)
	}
	return TokenURL("https://login.microsoftonline.com", ti.ID)
}

func (v *env) ready(ctx context.Context, kind samples.TenantType, r *Result) error {
	return WaitReady(ctx, ReadyConfig{
		TokenURL:   v.tokenURL(kind),
		HTTPClient: &http.Client{Transport: v.tr},
		Successes:  2, Interval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, Timeout: 10 * time.Second,
	}, r)
}

// counts is what exists in the emulator's directory for one uniqueName.
type counts struct {
	apps, deletedApps, sps, grants, secrets, ownSecrets, keys, flowLinks int
}

func (v *env) count(kind samples.TenantType, uniqueName string) counts {
	var c counts
	tid := v.tenant(kind).ID
	v.e.Store().View(func(d *emulator.Directory) {
		t := d.Tenant(tid)
		var appIDs []string
		for _, a := range t.Applications {
			if a.UniqueName == nil || *a.UniqueName != uniqueName {
				continue
			}
			if a.Deleted() {
				c.deletedApps++
				continue
			}
			c.apps++
			appIDs = append(appIDs, a.AppID)
			c.secrets += len(a.PasswordCredentials)
			for _, p := range a.PasswordCredentials {
				if p.DisplayName != nil && strings.HasPrefix(*p.DisplayName, CredentialPrefix) {
					c.ownSecrets++
				}
			}
			c.keys += len(a.KeyCredentials)
		}
		for _, appID := range appIDs {
			if sp := t.SPByAppID(appID); sp != nil {
				c.sps++
				for _, g := range t.Grants {
					if g.ClientID == sp.ID {
						c.grants++
					}
				}
			}
			if t.FlowForApp(appID) != nil {
				c.flowLinks++
			}
		}
	})
	return c
}

// graphCalls counts the Graph requests logged since i, by route prefix.
func (v *env) graphCalls(since int) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range v.e.Requests()[since:] {
		if strings.HasPrefix(r.Route, "graph.") {
			out = append(out, r)
		}
	}
	return out
}
