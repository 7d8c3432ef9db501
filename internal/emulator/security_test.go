package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// TestRemoteListenRefused: an address other than loopback is refused unless AllowRemoteListen
// says so; loopback ones start. The allowed case uses a documentation address no machine has,
// so it fails to bind rather than serving the network.
func TestRemoteListenRefused(t *testing.T) {
	tests := []struct {
		addr      string
		allow     bool
		wantStart bool
	}{
		{"0.0.0.0:0", false, false},
		{":0", false, false},
		{"[::]:0", false, false},
		{"192.0.2.1:0", false, false},
		{"127.0.0.1:0", false, true},
		{"localhost:0", false, true},
		{"192.0.2.1:0", true, false}, // allowed, but not this machine's address
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			e, err := Start(Options{Addr: tt.addr, AllowRemoteListen: tt.allow})
			if e != nil {
				defer e.Close()
			}
			if got := err == nil; got != tt.wantStart {
				t.Fatalf("Start(%s, allow %v) = %v, want started %v", tt.addr, tt.allow, err, tt.wantStart)
			}
			if refused := errors.Is(err, ErrRemoteListen); refused != (!tt.allow && !tt.wantStart) {
				t.Fatalf("Start(%s, allow %v) = %v; refused for not being loopback: %v", tt.addr, tt.allow, err, refused)
			}
		})
	}
}

// TestAdminEndpointsNeedTheToken: every admin endpoint answers 401 without the token, with
// another one or another scheme, at the local base and under a real name; with it, it answers.
func TestAdminEndpointsNeedTheToken(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	endpoints := []struct{ method, path string }{
		{"GET", "/info"}, {"GET", "/faults"}, {"PUT", "/faults"}, {"POST", "/faults"}, {"DELETE", "/faults"},
		{"GET", "/faults/events"}, {"GET", "/settings"}, {"PUT", "/settings"}, {"POST", "/keys/rotate"},
		{"GET", "/requests"}, {"DELETE", "/requests"}, {"GET", "/routes"}, {"GET", "/nothing"},
	}
	auths := []struct {
		name, header string
		want401      bool
	}{
		{"none", "", true},
		{"another token", "Bearer " + e.AdminToken() + "x", true},
		{"basic", "Basic " + e.AdminToken(), true},
		{"the token", "Bearer " + e.AdminToken(), false},
	}
	for _, base := range []string{e.URL(), "https://graph.microsoft.com"} {
		for _, ep := range endpoints {
			for _, a := range auths {
				req, _ := http.NewRequest(ep.method, base+"/_emulator"+ep.path, nil)
				if a.header != "" {
					req.Header.Set("Authorization", a.header)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := resp.StatusCode == http.StatusUnauthorized; got != a.want401 {
					t.Errorf("%s %s%s with %s: %d, want 401: %v", ep.method, base, ep.path, a.name, resp.StatusCode, a.want401)
				}
			}
		}
	}
	if len(e.AdminToken()) < 40 {
		t.Errorf("admin token %d characters, want 32 random bytes", len(e.AdminToken()))
	}
	// The token file beside the CA, readable only by this user, holds the same token.
	got, err := emuclient.ReadAdminToken(e.CAFile())
	if err != nil || got != e.AdminToken() {
		t.Errorf("admin-token file: %v (same token: %v)", err, got == e.AdminToken())
	}
	if _, err := emuclient.FetchInfo(context.Background(), c, e.URL(), "wrong"); !errors.Is(err, emuclient.ErrAdminToken) {
		t.Errorf("FetchInfo with a wrong token = %v, want ErrAdminToken", err)
	}
}

// TestCAVouchesOnlyForTheEmulatedNames: a certificate the CA signs for any other name or
// address fails Go's verification (name constraints); the emulator's own names verify; the CA
// lives 30 days.
func TestCAVouchesOnlyForTheEmulatedNames(t *testing.T) {
	e := start(t, Options{})
	ca := e.pki.caCert
	if life := ca.NotAfter.Sub(ca.NotBefore); life > caLifetime+time.Hour+time.Minute {
		t.Errorf("CA valid for %v, want at most 30 days", life)
	}
	tests := []struct {
		dns    string
		ip     net.IP
		wantOK bool
	}{
		{"localhost", nil, true},
		{"login.microsoftonline.com", nil, true},
		{"graph.microsoft.com", nil, true},
		{"contoso.ciamlogin.com", nil, true},
		{"", net.IPv4(127, 0, 0, 1), true},
		{"", net.IPv6loopback, true},
		{"www.example.com", nil, false},
		{"microsoft.com", nil, false},
		{"login.microsoftonline.com.evil.example", nil, false},
		{"ciamlogin.com", nil, false},
		{"", net.IPv4(10, 0, 0, 1), false},
		{"", net.ParseIP("fe80::1"), false},
	}
	for _, tt := range tests {
		name := tt.dns
		if tt.ip != nil {
			name = tt.ip.String()
		}
		t.Run(name, func(t *testing.T) {
			leaf := issueLeaf(t, e.pki, tt.dns, tt.ip)
			_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: e.CAPool()})
			if (err == nil) != tt.wantOK {
				t.Fatalf("verify a leaf for %s signed by the CA: %v, want accepted %v", name, err, tt.wantOK)
			}
			var inv x509.CertificateInvalidError
			if err != nil && (!errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName) {
				t.Fatalf("refused for another reason than the name constraints: %v", err)
			}
		})
	}
}

// issueLeaf signs a server certificate for one name with the emulator's CA, as someone holding
// the CA key could.
func issueLeaf(t *testing.T, p *pki, dns string, ip net.IP) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: randSerial(), Subject: pkix.Name{CommonName: "forged"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if dns != "" {
		tmpl.DNSNames = []string{dns}
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPersistedCARenewed: a data file's CA is kept while young, and replaced when it has no
// name constraints (made before them) or is near its end.
func TestPersistedCARenewed(t *testing.T) {
	now := time.Now()
	data := filepath.Join(t.TempDir(), "state.json")
	startAt := func(at time.Time) *Emulator {
		e := start(t, Options{DataFile: data, Now: func() time.Time { return at }})
		e.Close()
		return e
	}
	first := startAt(now)
	if first.CARenewed() != "" {
		t.Fatalf("a new data file renewed its CA: %s", first.CARenewed())
	}
	kept := startAt(now.Add(24 * time.Hour))
	if kept.CARenewed() != "" || string(kept.CAPEM()) != string(first.CAPEM()) {
		t.Fatalf("a day-old CA was replaced (%s)", kept.CARenewed())
	}
	nearEnd := startAt(now.Add(28 * 24 * time.Hour))
	if nearEnd.CARenewed() == "" || string(nearEnd.CAPEM()) == string(first.CAPEM()) {
		t.Fatalf("a CA two days from its end was kept")
	}
	// A CA as the emulator made them before: five years, no name constraints.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: randSerial(), Subject: pkix.Name{CommonName: "old"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	var st map[string]any
	b, _ := os.ReadFile(data)
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st["caCert"] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	st["caKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	b, _ = json.Marshal(st)
	if err := os.WriteFile(data, b, 0o600); err != nil {
		t.Fatal(err)
	}
	old := startAt(now)
	if old.CARenewed() == "" || len(old.pki.caCert.PermittedDNSDomains) == 0 {
		t.Fatalf("a CA without name constraints was kept")
	}
}
