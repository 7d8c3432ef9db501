// Package graph is the small adapter between the provisioning engine and Microsoft Graph: typed
// methods for exactly the calls provision makes, built on msgraph-sdk-go sub-packages (never the
// root package, whose build cost is prohibitive), with plain data in and out, errors mapped to
// *Error (status, Graph code, message, details and the request-id kept for support) and one
// retry policy for everything that is worth retrying: replication lag, throttling, 5xx and
// dropped connections, each bounded by a deadline and stopped by the context.
//
// The package knows nothing about terminals; it reports retries through a callback.
package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// DefaultEndpoint is the Microsoft Graph endpoint of the public cloud.
const DefaultEndpoint = "https://graph.microsoft.com"

// Config says where Graph is and how to reach it.
type Config struct {
	// Credential gets the Graph access tokens (any azcore.TokenCredential: the wizard's own
	// sign-in, a client secret for automation, or a fake in tests).
	Credential azcore.TokenCredential
	// Endpoint is the cloud's Graph endpoint without the version, e.g. https://graph.microsoft.com
	// or https://graph.microsoft.us; default DefaultEndpoint.
	Endpoint string
	// Transport carries the requests (the emulator's transport in tests); default
	// http.DefaultTransport. The SDK's middleware is layered on top of it.
	Transport http.RoundTripper
	// Scopes are the token scopes; default <Endpoint>/.default.
	Scopes []string
	// Retry bounds the retries; zero fields take DefaultRetry()'s values.
	Retry RetryPolicy
	// OnRetry, when set, hears about every retry (for progress lines and logs).
	OnRetry func(RetryEvent)
}

// Client calls Graph. It is safe for concurrent use.
type Client struct {
	adapter  abs.RequestAdapter
	base     string // e.g. https://graph.microsoft.com/v1.0
	retry    RetryPolicy
	onRetry  func(RetryEvent)
	sleep    func(ctx context.Context, d time.Duration) error
	endpoint string
	creds    appLocks // one app's credential changes, one after another
	cred     azcore.TokenCredential
	scopes   []string
}

// appLocks serialise work per application object id: Entra refuses credential changes to one
// app that come too close together (409 Directory_ConcurrencyViolation), so the client never
// sends two at once for one app.
type appLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// lock takes the lock of one app and returns its release.
func (l *appLocks) lock(id string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	m, ok := l.m[id]
	if !ok {
		m = &sync.Mutex{}
		l.m[id] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// New builds a client: a kiota request adapter with Graph's middleware over cfg.Transport, a
// token provider whose valid host is the endpoint's host (without port: the provider compares
// host names and silently sends no token to any other host), and JSON (de)serialisers of its
// own rather than the SDK's process-wide registries.
func New(cfg Config) (*Client, error) {
	if cfg.Credential == nil {
		return nil, errors.New("graph: no credential: sign in first")
	}
	ep := strings.TrimRight(cfg.Endpoint, "/")
	if ep == "" {
		ep = DefaultEndpoint
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph: endpoint %q is not a URL like %s", cfg.Endpoint, DefaultEndpoint)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{ep + "/.default"}
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(authCredential{cfg.Credential}, scopes, []string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: token provider: %w", err)
	}
	opts := core.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "1.89.0"}
	// The SDK's own retry handler retries only 429/503/504, three times, sleeping up to 180 s;
	// doubled with ours it would multiply attempts. Ours decides alone (see RetryPolicy).
	kmw, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	})
	if err != nil {
		return nil, fmt.Errorf("graph: middleware: %w", err)
	}
	mws := append([]khttp.Middleware{core.NewGraphTelemetryHandler(&opts), khttp.NewUrlReplaceHandler(true, core.ReplacementPairs)}, kmw...)
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(tr, mws...),
		// Redirects are followed by kiota's handler; a call's time is bounded by its context.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       100 * time.Second,
	}
	pf := absser.NewParseNodeFactoryRegistry()
	pf.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	sf := absser.NewSerializationWriterFactoryRegistry()
	sf.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	ad, err := core.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts, pf, sf, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	base := ep + "/v1.0"
	ad.SetBaseUrl(base)
	c := &Client{adapter: ad, base: base, retry: cfg.Retry.withDefaults(), onRetry: cfg.OnRetry, endpoint: ep, sleep: sleepCtx, cred: cfg.Credential, scopes: scopes}
	return c, nil
}

// Endpoint is the Graph endpoint without the version.
func (c *Client) Endpoint() string { return c.endpoint }

// pathParams is what every request builder starts from; the adapter stamps the base URL in at
// send time too, but the raw-URL builders need it here.
func (c *Client) pathParams() map[string]string { return map[string]string{"baseurl": c.base} }

var _ absauth.AuthenticationProvider = (*kauth.AzureIdentityAuthenticationProvider)(nil)

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
