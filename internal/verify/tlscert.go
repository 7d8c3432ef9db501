package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
)

// localhostCertFile is the name of the PEM file (certificate and key) in the cert directory.
const localhostCertFile = "localhost-tls.pem"

// DefaultCertDir is where the localhost certificate is kept when Options.CertDir is empty.
func DefaultCertDir() (string, error) {
	d, err := appdir.Dir()
	if err != nil {
		return "", fmt.Errorf("the folder for the localhost certificate: %w (or set a directory with --cert-dir)", err)
	}
	return d, nil
}

// localhostCertificate loads the certificate kept in dir, or makes a new self-signed one for
// localhost, 127.0.0.1 and ::1 and keeps it (0600) so the browser's exception survives runs.
// made says whether it is new.
func localhostCertificate(dir string, now time.Time) (cert tls.Certificate, path string, made bool, err error) {
	if dir == "" {
		if dir, err = DefaultCertDir(); err != nil {
			return cert, "", false, err
		}
	}
	path = filepath.Join(dir, localhostCertFile)
	if b, rerr := os.ReadFile(path); rerr == nil {
		if c, ok := parseKeptCert(b, now); ok {
			return c, path, false, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, "", false, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"entra-quickstart (this machine only)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return cert, "", false, err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return cert, "", false, err
	}
	b := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, "", false, fmt.Errorf("keep the localhost certificate in %s: %w", dir, err)
	}
	if err := writeFile0600(path, b); err != nil {
		return cert, "", false, fmt.Errorf("keep the localhost certificate in %s: %w", dir, err)
	}
	c, err := tls.X509KeyPair(b, b)
	return c, path, true, err
}

// parseKeptCert accepts a kept certificate that still has a day to live and covers localhost.
func parseKeptCert(b []byte, now time.Time) (tls.Certificate, bool) {
	c, err := tls.X509KeyPair(b, b)
	if err != nil || len(c.Certificate) == 0 {
		return c, false
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || now.Add(24*time.Hour).After(x.NotAfter) || now.Before(x.NotBefore) || x.VerifyHostname("localhost") != nil {
		return c, false
	}
	return c, true
}

// writeFile0600 writes atomically with mode 0600: the file holds a private key.
func writeFile0600(path string, b []byte) error { return atomicfile.Write(path, b, 0o600) }
