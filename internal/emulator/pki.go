package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// ServerNames are the names the emulator's TLS certificate covers: the local base and the real
// hosts it stands in for, so a client pointed at it by a dialer override, Chromium's
// --host-resolver-rules or a hosts file checks the certificate against the real name.
var ServerNames = []string{
	"localhost",
	"login.microsoftonline.com",
	"graph.microsoft.com",
	"*.ciamlogin.com",
}

// caLifetime is how long the emulator's CA is valid: short, so a CA someone trusted for a
// workshop stops mattering soon after it; a persisted one this old or older is replaced.
const caLifetime = 30 * 24 * time.Hour

// caRenewBefore is how close to its end a persisted CA is replaced, so a rehearsal does not
// start on a CA that expires during the workshop.
const caRenewBefore = 3 * 24 * time.Hour

// permittedDNS and permittedIPs are the CA's name constraints: it can vouch only for the names
// the emulator serves (the real hosts it stands in for and loopback), so a person who trusts
// it cannot be shown a forged certificate for any other site, even if the CA key leaks.
var (
	permittedDNS = []string{"localhost", "login.microsoftonline.com", "graph.microsoft.com", ".ciamlogin.com"}
	permittedIPs = []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
)

// caStale says why a persisted CA must be replaced ("" when it may stay): one without the name
// constraints (made before they existed), one older than caLifetime allows, or one close to
// its end.
func caStale(c *x509.Certificate, now time.Time) string {
	switch {
	case !c.PermittedDNSDomainsCritical || len(c.PermittedDNSDomains) == 0 || len(c.PermittedIPRanges) == 0:
		return "it had no name constraints"
	case c.NotAfter.Sub(c.NotBefore) > caLifetime+2*time.Hour:
		return "it was valid for longer than 30 days"
	case now.Add(caRenewBefore).After(c.NotAfter):
		return "it expired or was about to"
	}
	return ""
}

// pki is the emulator's own certificate authority and the server certificate it issued.
type pki struct {
	caCert  *x509.Certificate
	caPEM   []byte
	caKey   *ecdsa.PrivateKey
	leaf    tls.Certificate
	caKeyPE []byte // PKCS#8 PEM of the CA key, persisted with --data so the CA file stays trusted
}

func newPKI(now time.Time) (*pki, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "entra-quickstart emulator CA", Organization: []string{"entra-quickstart (local testing only)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Critical, so a client that does not understand the constraints refuses the CA
		// rather than trusting it for everything.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         permittedDNS,
		PermittedIPRanges:           permittedIPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return loadPKI(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), now)
}

// loadPKI restores a CA from PEM and issues a fresh server certificate from it.
func loadPKI(caPEM, caKeyPEM []byte, now time.Time) (*pki, error) {
	cb, _ := pem.Decode(caPEM)
	kb, _ := pem.Decode(caKeyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("emulator CA: unreadable PEM")
	}
	caCert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("emulator CA: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("emulator CA key: %w", err)
	}
	caKey, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("emulator CA key: not ECDSA")
	}
	p := &pki{caCert: caCert, caPEM: caPEM, caKey: caKey, caKeyPE: caKeyPEM}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     caCert.NotAfter, // never outlives its CA
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     ServerNames,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p.leaf = tls.Certificate{Certificate: [][]byte{der, caCert.Raw}, PrivateKey: leafKey}
	return p, nil
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return pool
}

func randSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}
