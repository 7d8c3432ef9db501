package runner

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

// TestProxyForDotNet: the loopback proxy .NET samples get tunnels the emulated hosts to the
// emulator (TLS checked against the real name and the emulator's CA) and refuses, and reports,
// a tunnel anywhere else and any plain-http request.
func TestProxyForDotNet(t *testing.T) {
	e := emulatortest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var refused []string
	proxy, err := startProxy(ctx, e.Addr(), func(h string) { mu.Lock(); refused = append(refused, h); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(proxy)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: e.CAPool()}}}
	resp, err := c.Get("https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/v2.0/authorize")
	if err != nil {
		t.Fatalf("an emulated host through the proxy: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "tenant_discovery_endpoint") {
		t.Errorf("instance discovery through the proxy: %d %s", resp.StatusCode, body)
	}
	if _, err := c.Get("https://192.0.2.1/"); err == nil {
		t.Error("a tunnel to 192.0.2.1 was let through")
	}
	if resp, err := c.Get("http://192.0.2.2/"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain http to 192.0.2.2 through the proxy: %v %v; want 403", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"192.0.2.1:443", "192.0.2.2"} {
		if !slices.ContainsFunc(refused, func(h string) bool { return strings.HasPrefix(h, want) }) {
			t.Errorf("refused %v, want %s reported", refused, want)
		}
	}
}

// TestEnvironmentAgainstTheEmulator: a person's own proxy is dropped for Node and Python (it would
// carry the emulated hosts away from the emulator), and .NET's proxy is the only way out, with no
// emulated host exempted from it.
func TestEnvironmentAgainstTheEmulator(t *testing.T) {
	e := emulatortest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := append(os.Environ(), "HTTPS_PROXY=http://10.1.2.3:8080", "http_proxy=http://10.1.2.3:8080", "ALL_PROXY=socks5://10.1.2.3:1080")
	last := func(env []string, k string) (string, bool) {
		v, ok := "", false
		for _, kv := range env {
			if key, val, _ := strings.Cut(kv, "="); key == k {
				v, ok = val, true
			}
		}
		return v, ok
	}
	for _, rt := range []Runtime{Node, Python, DotNet} {
		t.Run(string(rt), func(t *testing.T) {
			r := &run{o: Options{Env: base, RedirectURI: "http://localhost:3000/cb", Emulator: &Emulator{URL: e.URL(), Addr: e.Addr(), CAFile: e.CAFile()}}}
			env, err := r.environment(ctx, rt, t.TempDir(), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"} {
				v, ok := last(env, k)
				if ok && strings.Contains(v, "10.1.2.3") {
					t.Errorf("%s=%s: the person's proxy is still there", k, v)
				}
				if rt == DotNet && strings.HasPrefix(strings.ToLower(k), "http") && (!ok || !strings.HasPrefix(v, "http://127.0.0.1:")) {
					t.Errorf(".NET's %s=%q, want the loopback proxy", k, v)
				}
			}
			np, _ := last(env, "NO_PROXY")
			if rt == DotNet && strings.Contains(np, "microsoftonline") {
				t.Errorf(".NET's NO_PROXY=%s exempts an emulated host from the proxy", np)
			}
		})
	}
}
