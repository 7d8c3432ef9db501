package verify

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionSigner makes client_assertion JWTs with the app's certificate: header alg PS256 (or
// RS256) and x5t#S256 (base64url SHA-256 of the DER), claims aud = token endpoint, iss = sub =
// client id, jti, nbf, iat, exp (facts/identity.md §2.2).
type assertionSigner struct {
	clientID string
	alg      jose.SignatureAlgorithm
	key      *rsa.PrivateKey
	x5tS256  string
}

func newAssertionSigner(cfg Config) (*assertionSigner, error) {
	cert, signer := cfg.Certificate, cfg.PrivateKey
	if cert == nil {
		var err error
		cert, signer, err = LoadCertificatePEM(cfg.CertificatePEMPath, cfg.KeyPEMPath)
		if err != nil {
			return nil, err
		}
	}
	key, ok := signer.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the certificate's key is a %T; Entra app certificates need an RSA key: make an RSA certificate (run the wizard again)", ErrConfig, signer)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%w: the private key does not belong to the certificate; give the matching key file", ErrConfig)
	}
	alg := jose.PS256
	if cfg.AssertionAlg == "RS256" {
		alg = jose.RS256
	}
	sum := sha256.Sum256(cert.Raw)
	return &assertionSigner{clientID: cfg.ClientID, alg: alg, key: key, x5tS256: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

func (s *assertionSigner) assertion(tokenURL string, now time.Time) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t#S256", s.x5tS256)
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	c := jwt.Claims{
		Issuer:    s.clientID,
		Subject:   s.clientID,
		Audience:  jwt.Audience{tokenURL},
		ID:        hex.EncodeToString(jti[:]),
		NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		IssuedAt:  jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(5 * time.Minute)),
	}
	out, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	return out, nil
}

// LoadCertificatePEM reads a certificate and its RSA private key from PEM files (one file may
// hold both; keyPath may be empty then).
func LoadCertificatePEM(certPath, keyPath string) (*x509.Certificate, *rsa.PrivateKey, error) {
	if certPath == "" {
		return nil, nil, fmt.Errorf("%w: no certificate file given", ErrConfig)
	}
	var blocks []*pem.Block
	for _, p := range []string{certPath, keyPath} {
		if p == "" {
			continue
		}
		b, _, err := atomicfile.ReadFile(p) // a private key: never through a link
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read %s: %w", ErrConfig, p, err)
		}
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			blocks = append(blocks, blk)
		}
	}
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for _, blk := range blocks {
		switch blk.Type {
		case "CERTIFICATE":
			if cert == nil {
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("%w: certificate in %s: %w", ErrConfig, certPath, err)
				}
				cert = c
			}
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: private key: %w", ErrConfig, err)
			}
			key = k
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: private key: %w", ErrConfig, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, fmt.Errorf("%w: the private key is a %T, not RSA; Entra app certificates need RSA", ErrConfig, k)
			}
			key = rk
		}
	}
	if cert == nil || key == nil {
		return nil, nil, errors.Join(ErrConfig, fmt.Errorf("%s (and the key file) must hold a CERTIFICATE and an RSA private key in PEM; an encrypted key or a .pfx needs converting with openssl first", certPath))
	}
	return cert, key, nil
}
