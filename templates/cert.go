package templates

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"io"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Certificate is the app's certificate credential as the provisioning step hands it over:
// either Cert and Key, or PEM with a CERTIFICATE block and a private key block (PKCS#8,
// PKCS#1 or EC).
type Certificate struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

// Parsed returns the certificate and key, decoding PEM when Cert is not set.
func (c *Certificate) Parsed() (*x509.Certificate, crypto.Signer, error) {
	if c == nil {
		return nil, nil, errors.New("no certificate")
	}
	if c.Cert != nil && c.Key != nil {
		return c.Cert, c.Key, nil
	}
	var cert *x509.Certificate
	var key crypto.Signer
	rest := c.PEM
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch {
		case blk.Type == "CERTIFICATE" && cert == nil:
			x, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parsing the certificate: %w", err)
			}
			cert = x
		case strings.HasSuffix(blk.Type, "PRIVATE KEY") && key == nil:
			k, err := parsePrivateKey(blk.Bytes)
			if err != nil {
				return nil, nil, err
			}
			key = k
		}
	}
	if cert == nil || key == nil {
		return nil, nil, errors.New("the certificate PEM needs a CERTIFICATE block and a private key block")
	}
	return cert, key, nil
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("the private key is not PKCS#8, PKCS#1 or EC")
}

// Thumbprint is the certificate's SHA-1 thumbprint in upper-case hex, the form Microsoft
// Entra and .NET show.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// encodePFX writes the certificate and key as PKCS#12 with AES-256 and a SHA-256 MAC
// (go-pkcs12's Modern2023), which .NET 8 loads on Linux, macOS and Windows 10 1709 or later.
//
// The ASP.NET Core samples use the empty password. It is encoded as PKCS#12 defines it: the
// MAC key is derived from the empty BMPString (two zero bytes) and the PBES2 keys from zero
// bytes, the same file `openssl pkcs12 -export -passout pass:` writes. .NET given no password
// (X509Certificate2(path), X509CertificateLoader, Microsoft.Identity.Web's SourceType Path
// without CertificatePassword) tries the empty password and then the null one, so it loads the
// file; so do OpenSSL and go-pkcs12 (LoadPFX(path, "")). go-pkcs12's Passwordless encoder (no
// MAC, no encryption) is not used: not every loader accepts a PKCS#12 without a MAC. An empty
// password protects nothing, and a password kept next to the file would protect nothing either:
// the key is protected by the file's mode (0600) and by its being git-ignored.
func encodePFX(rand io.Reader, cert *x509.Certificate, key crypto.Signer, password string) ([]byte, error) {
	return pkcs12.Modern2023.WithRand(rand).Encode(key, cert, nil, password)
}

// LoadPFX reads a PKCS#12 file written for a sample and returns its certificate and key.
func LoadPFX(path, password string) (*x509.Certificate, crypto.Signer, error) {
	b, _, err := atomicfile.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the certificate: %w", err)
	}
	k, cert, err := pkcs12.Decode(b, password)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding %s: %w; run entra-quickstart again to rewrite it", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s holds a key that cannot sign", path)
	}
	return cert, s, nil
}

// pfxHolds reports whether existing PKCS#12 bytes open with password and hold cert.
func pfxHolds(pfx []byte, password string, cert *x509.Certificate) bool {
	_, c, err := pkcs12.Decode(pfx, password)
	return err == nil && bytes.Equal(c.Raw, cert.Raw)
}
