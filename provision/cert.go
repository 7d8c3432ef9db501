package provision

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/google/uuid"
)

// Cert is the app's certificate credential: a self-signed RSA certificate made here, whose
// public part is uploaded as a keyCredential and whose private key stays in KeyFile (mode 0600).
// Its String and GoString never show the key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Thumbprint is the SHA-1 of the DER certificate in upper-case hex (what ASP.NET Core and
	// the portal show); KeyID is the keyCredential's id.
	Thumbprint string
	KeyFile    string
}

func (c *Cert) String() string {
	if c == nil {
		return "<no certificate>"
	}
	return fmt.Sprintf("certificate %s valid until %s (private key in %s)", c.Thumbprint, c.Cert.NotAfter.UTC().Format(time.DateOnly), c.KeyFile)
}

// GoString keeps %#v from printing the private key.
func (c *Cert) GoString() string { return c.String() }

// X5TS256 is the base64url SHA-256 thumbprint a client assertion's x5t#S256 header carries.
func (c *Cert) sha256() []byte {
	s := sha256.Sum256(c.Cert.Raw)
	return s[:]
}

func (c *Cert) sha1() []byte {
	s := sha1.Sum(c.Cert.Raw)
	return s[:]
}

func thumbprint(der []byte) string {
	s := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// newCert makes a self-signed RSA-2048 certificate valid from now for lifetime.
func newCert(subject string, now time.Time, lifetime time.Duration) (*Cert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating the certificate's key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.Add(lifetime).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("making the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key, Thumbprint: thumbprint(der)}, nil
}

// save writes the certificate and its private key (PKCS#8) as PEM to path through a temporary
// file and a rename, mode 0600, in a folder made 0700 if missing.
func (c *Cert) save(path string) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return fmt.Errorf("encoding the private key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s for the certificate: %w", dir, err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("saving the certificate: %w", err)
	}
	c.KeyFile = path
	return nil
}

// loadCert reads a certificate and key saved by save; nil, nil when the file does not exist.
func loadCert(path string) (*Cert, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the certificate %s: %w", path, err)
	}
	c := &Cert{KeyFile: path}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			if c.Cert, err = x509.ParseCertificate(blk.Bytes); err != nil {
				return nil, fmt.Errorf("certificate %s: %w", path, err)
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("private key %s: %w", path, err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("private key %s cannot sign", path)
			}
			c.Key = s
		}
	}
	if c.Cert == nil || c.Key == nil {
		return nil, fmt.Errorf("%s does not hold a certificate and its private key; delete it to make a new one", path)
	}
	c.Thumbprint = thumbprint(c.Cert.Raw)
	return c, nil
}

// keyCredential is the public part as Graph stores it.
func (c *Cert) keyCredential(now time.Time) graph.KeyCredential {
	return graph.KeyCredential{
		KeyID:               uuid.NewString(),
		DisplayName:         CredentialPrefix + " " + now.UTC().Format("2006-01-02T15:04:05Z"),
		Type:                "AsymmetricX509Cert",
		Usage:               "Verify",
		Key:                 c.Cert.Raw,
		CustomKeyIdentifier: c.sha1(),
		Start:               c.Cert.NotBefore,
		End:                 c.Cert.NotAfter,
	}
}

// matches reports whether a keyCredential is this certificate.
func (c *Cert) matches(k graph.KeyCredential) bool {
	if len(k.Key) > 0 {
		return string(k.Key) == string(c.Cert.Raw)
	}
	return len(k.CustomKeyIdentifier) > 0 && strings.EqualFold(hex.EncodeToString(k.CustomKeyIdentifier), hex.EncodeToString(c.sha1()))
}
