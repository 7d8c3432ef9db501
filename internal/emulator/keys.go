package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// signingKey is one token-signing key. Like Entra's, each key has a self-signed certificate and
// its kid is the certificate's x5t: base64url(SHA-1(DER)).
type signingKey struct {
	KID  string            `json:"kid"`
	Key  *rsa.PrivateKey   `json:"-"`
	Cert *x509.Certificate `json:"-"`
	DER  []byte            `json:"der"`
	// PKCS8 is the private key, for the --data file.
	PKCS8 []byte `json:"pkcs8"`
}

// keyRing holds the published keys; the first one signs. Rotate publishes a new signing key
// and keeps the old ones published, as Entra does during a rollover.
type keyRing struct {
	mu   sync.Mutex
	keys []*signingKey
}

func newSigningKey(now time.Time) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return keyFromDER(der, mustPKCS8(key))
}

func mustPKCS8(k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // an RSA key always marshals
	}
	return b
}

func keyFromDER(der, pkcs8 []byte) (*signingKey, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key is not RSA")
	}
	sum := sha1.Sum(der)
	return &signingKey{KID: base64.RawURLEncoding.EncodeToString(sum[:]), Key: rk, Cert: cert, DER: der, PKCS8: pkcs8}, nil
}

// current returns the key that signs new tokens.
func (r *keyRing) current() *signingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[0]
}

// published returns every key in the JWKS, signing key first.
func (r *keyRing) published() []*signingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*signingKey(nil), r.keys...)
}

// rotate makes a new signing key; the old ones stay published (at most three are kept).
func (r *keyRing) rotate(now time.Time) (*signingKey, error) {
	k, err := newSigningKey(now)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append([]*signingKey{k}, r.keys...)
	if len(r.keys) > 3 {
		r.keys = r.keys[:3]
	}
	return k, nil
}
