package templates

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/joho/godotenv"
	"github.com/tailscale/hujson"
)

const (
	tenantID     = "11111111-2222-3333-4444-555555555555"
	clientID     = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	clientSecret = "s3cr~et.X_y-Z0abcdefghij"
)

func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return mrand.NewChaCha8(s)
}

// testCert makes a throw-away certificate; its thumbprint is replaced by THUMBPRINT in goldens.
func testCert(t testing.TB) *Certificate {
	t.Helper()
	c, err := makeCert()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func makeCert() (*Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entra-quickstart test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Certificate{Cert: cert, Key: key}, nil
}

// sharedCert is one certificate for the tests that need one but do not look at it.
var sharedCert = sync.OnceValues(makeCert)

// testValues are the values for m's default credential; cert nil means sharedCert.
func testValues(m *samples.Manifest, cert *Certificate) Values {
	v := Values{TenantID: tenantID, TenantDomain: "contoso.onmicrosoft.com", ClientID: clientID}
	if m.DefaultCredential() == samples.Certificate {
		if cert == nil {
			c, err := sharedCert()
			if err != nil {
				panic(err)
			}
			cert = c
		}
		v.Certificate = cert
	} else {
		v.ClientSecret = clientSecret
	}
	return v
}

// upstreamDir holds the samples' real files, as the samples package embeds them (one copy in
// the repository, checked against the shared fixtures by samples' tests).
const upstreamDir = "../samples/upstream"

// fixtureDir copies the real sample files of m (upstreamDir) into a temporary folder.
func fixtureDir(t testing.TB, m *samples.Manifest) string {
	t.Helper()
	_, repo, _ := strings.Cut(m.Repository, "/")
	src := filepath.Join(upstreamDir, repo, filepath.FromSlash(m.Folder))
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// golden compares got with testdata/golden/<name> (testkit.Golden). A .gitignore is kept as
// "gitignore.golden": under its own name it would be a real .gitignore and hide the goldens
// beside it from git.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if path.Base(name) == ".gitignore" {
		name = path.Join(path.Dir(name), "gitignore.golden")
	}
	testkit.Golden(t, filepath.Join("testdata", "golden", filepath.FromSlash(name)), got)
}

var wantAuthority = map[samples.TenantType]string{
	samples.Workforce: "https://login.microsoftonline.com/" + tenantID,
	samples.External:  "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
}

func TestWriteAllSamples(t *testing.T) {
	all, err := samples.All()
	if err != nil {
		t.Fatal(err)
	}
	cert := testCert(t)
	for _, m := range all {
		t.Run(m.ID, func(t *testing.T) {
			dir := fixtureDir(t, m)
			v := testValues(m, cert)
			res, err := Write(context.Background(), m, dir, v, Options{Rand: seeded(1)})
			if err != nil {
				t.Fatal(err)
			}
			thumb := Thumbprint(cert.Cert)
			written := map[string][]byte{}
			for _, f := range res.Files {
				b, err := os.ReadFile(f.Path)
				if err != nil {
					t.Fatal(err)
				}
				written[f.Rel] = b
				fi, _ := os.Stat(f.Path)
				if want := os.FileMode(0o600); f.Rel != ".gitignore" && fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", f.Rel, fi.Mode().Perm(), want)
				}
				if strings.HasSuffix(f.Rel, ".pfx") {
					c, _, err := LoadPFX(f.Path, mustRead(t, m, dir).Certificate.Password)
					if err != nil || !bytes.Equal(c.Raw, cert.Cert.Raw) {
						t.Errorf("the PFX does not open with the written password: %v", err)
					}
					continue
				}
				if ph, ok := m.HasPlaceholder(string(b)); ok {
					t.Errorf("%s still holds %q", f.Rel, ph)
				}
				golden(t, m.ID+"/"+f.Rel, bytes.ReplaceAll(b, []byte(thumb), []byte("THUMBPRINT")))
				checkParses(t, f.Rel, b)
			}
			checkLayoutKept(t, m, res.Credential, dir, written)

			// A second write, with another random source, changes no byte.
			res2, err := Write(context.Background(), m, dir, v, Options{Rand: seeded(2)})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res2.Files {
				if f.Action != Unchanged {
					t.Errorf("second write: %s %s", f.Rel, f.Action)
				}
				if b, _ := os.ReadFile(f.Path); !bytes.Equal(b, written[f.Rel]) {
					t.Errorf("second write changed %s:\n%s\n---\n%s", f.Rel, b, written[f.Rel])
				}
			}

			// The read-back sees what was written.
			cfg := mustRead(t, m, dir)
			if cfg.ClientID != clientID || cfg.Authority != wantAuthority[m.TenantType] || cfg.RedirectURI != m.RedirectURI {
				t.Errorf("Read = client %q authority %q redirect %q", cfg.ClientID, cfg.Authority, cfg.RedirectURI)
			}
			if m.PostLogoutRedirectURI != "" && cfg.PostLogoutRedirectURI != m.PostLogoutRedirectURI {
				t.Errorf("Read post-logout = %q, want %q", cfg.PostLogoutRedirectURI, m.PostLogoutRedirectURI)
			}
			if v.Certificate != nil {
				if cfg.Certificate == nil || cfg.Certificate.Thumbprint != thumb || cfg.ClientSecret != "" {
					t.Errorf("Read certificate = %+v, secret %q", cfg.Certificate, cfg.ClientSecret)
				}
			} else if cfg.ClientSecret != clientSecret || cfg.Certificate != nil {
				t.Errorf("Read secret = %q", cfg.ClientSecret)
			}
			if m.TenantType == samples.External && (cfg.TenantSubdomain != "contoso" || cfg.TenantDomain != "contoso.onmicrosoft.com") {
				t.Errorf("Read tenant = %q / %q", cfg.TenantSubdomain, cfg.TenantDomain)
			}
			if m.TenantType == samples.Workforce && cfg.TenantID != tenantID {
				t.Errorf("Read tenant id = %q", cfg.TenantID)
			}
			if len(cfg.Scopes) == 0 || cfg.Scopes[0] != "openid" {
				t.Errorf("Read scopes = %v", cfg.Scopes)
			}

			// Restore puts every original back and removes what Write created.
			rr, err := Restore(m, dir, res.Created())
			if err != nil {
				t.Fatal(err)
			}
			fresh := fixtureDir(t, m)
			if diff := compareDirs(fresh, dir); diff != "" {
				t.Errorf("after Restore (%+v): %s", rr, diff)
			}
		})
	}
}

func mustRead(t *testing.T, m *samples.Manifest, dir string) *Config {
	t.Helper()
	cfg, err := Read(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkParses parses a written file as the samples' own parsers would (godotenv for .env here;
// Node and Python in dotenv_peers_test.go) and as strict JSON after comment stripping.
func checkParses(t *testing.T, rel string, b []byte) {
	t.Helper()
	switch {
	case strings.HasSuffix(rel, ".json"):
		v, err := hujson.Parse(bytes.Clone(bytes.TrimPrefix(b, bom))) // Standardize works in place
		if err != nil {
			t.Fatalf("%s: hujson: %v", rel, err)
		}
		v.Standardize()
		var x any
		if err := json.Unmarshal(v.Pack(), &x); err != nil {
			t.Errorf("%s: encoding/json after Standardize: %v", rel, err)
		}
	case strings.HasSuffix(rel, ".env"):
		got, err := godotenv.UnmarshalBytes(b)
		if err != nil {
			t.Fatalf("%s: godotenv: %v", rel, err)
		}
		ef, err := ParseEnv(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ef.Keys() {
			want, _ := ef.Get(k)
			if got[k] != want {
				t.Errorf("%s: godotenv reads %s=%q, the editor %q", rel, k, got[k], want)
			}
		}
	}
}

// checkLayoutKept checks that every line of the file the write started from survives, in
// order, unless it assigns a key the manifest edits: comments, blank lines and order are kept.
func checkLayoutKept(t *testing.T, m *samples.Manifest, kind samples.CredentialKind, dir string, written map[string][]byte) {
	t.Helper()
	for _, f := range m.FilesFor(kind) {
		out, ok := written[f.Path]
		if !ok || f.Format == samples.FormatPFX {
			continue
		}
		var start []byte
		switch {
		case f.From != "":
			start, _ = os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.From)))
		case len(f.Starter) > 0:
			start = []byte(strings.Join(f.Starter, "\n"))
		default:
			start, _ = os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)+".bak"))
		}
		var keys []string
		for _, v := range f.Values {
			k := v.Key[strings.LastIndex(v.Key, "/")+1:]
			keys = append(keys, k)
		}
		outLines := strings.Split(string(out), "\n")
		j := 0
	next:
		for _, line := range strings.Split(string(start), "\n") {
			for _, k := range keys {
				if strings.Contains(line, k) {
					continue next
				}
			}
			for j < len(outLines) && outLines[j] != line {
				j++
			}
			if j == len(outLines) {
				t.Errorf("%s: the line %q of the original is gone or out of order", f.Path, line)
				return
			}
			j++
		}
	}
}

// compareDirs reports the first difference between two folder trees.
func compareDirs(a, b string) string {
	list := func(root string) map[string]string {
		out := map[string]string{}
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				c, _ := os.ReadFile(p)
				out[rel] = string(c)
			}
			return nil
		})
		return out
	}
	la, lb := list(a), list(b)
	for k, v := range la {
		if w, ok := lb[k]; !ok {
			return k + " is missing"
		} else if w != v {
			return k + " differs"
		}
	}
	for k := range lb {
		if _, ok := la[k]; !ok {
			return k + " is left over"
		}
	}
	return ""
}
