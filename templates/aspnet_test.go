package templates

import (
	"context"
	"crypto/rsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// gitRepo makes dir a git repository with every file committed, as a checkout is; it returns
// a runner for more git commands there.
func gitRepo(t *testing.T, dir string) func(args ...string) (string, error) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		testenv.Missing(t, "git", "apt-get install git")
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(git, append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "upstream"}} {
		if out, err := run(args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return run
}

// TestASPNetExternalCertificateByDefault: the default credential of aspnet-external is the
// certificate; no file but the git-ignored PFX holds a secret, none holds a PFX password, the
// tracked appsettings.json gets no warning, and the PFX opens with the empty password.
func TestASPNetExternalCertificateByDefault(t *testing.T) {
	m, err := samples.Lookup("aspnet-external")
	if err != nil {
		t.Fatal(err)
	}
	if m.DefaultCredential() != samples.Certificate || !m.Supports(samples.Secret) {
		t.Fatalf("credentials = %v, want the certificate first and the secret too", m.Credentials)
	}
	dir := fixtureDir(t, m)
	git := gitRepo(t, dir)
	cert := testCert(t)
	v := testValues(m, cert)
	v.ClientSecret = clientSecret // handed over too: it must still not be written
	res, err := Write(context.Background(), m, dir, v, Options{Credential: m.DefaultCredential()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Credential != samples.Certificate || len(res.Warnings) != 0 {
		t.Errorf("credential %s, warnings %q; want the certificate and no warning", res.Credential, res.Warnings)
	}
	var rels []string
	for _, f := range res.Files {
		rels = append(rels, f.Rel)
		if f.Secret != (f.Rel == "entra-quickstart.pfx") {
			t.Errorf("%s: Secret = %v", f.Rel, f.Secret)
		}
	}
	if strings.Join(rels, " ") != "appsettings.json entra-quickstart.pfx .gitignore" {
		t.Errorf("files written: %v", rels)
	}

	// No file in the folder but the PFX holds the secret, a password or a key; git ignores the
	// PFX, and every file git would commit is secret-free.
	noSecrets(t, dir, "entra-quickstart.pfx")
	if out, err := git("check-ignore", "-q", "entra-quickstart.pfx"); err != nil {
		t.Errorf("git does not ignore the PFX: %v %s", err, out)
	}
	if out, _ := git("status", "--porcelain", "--untracked-files=all"); strings.Contains(out, ".pfx") {
		t.Errorf("git would commit the PFX:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "entra-quickstart.pfx")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the PFX: %v, %v; want mode 0600", fi, err)
	}

	// Read returns the certificate, with the empty password, and LoadPFX opens it with that.
	cfg := mustRead(t, m, dir)
	want := CertificateFile{Path: filepath.Join(dir, "entra-quickstart.pfx"), Password: "", Thumbprint: Thumbprint(cert.Cert)}
	if cfg.Certificate == nil || *cfg.Certificate != want || cfg.ClientSecret != "" {
		t.Fatalf("Read certificate = %+v, secret %q; want %+v", cfg.Certificate, cfg.ClientSecret, want)
	}
	checkPFX(t, cfg.Certificate.Path, cert)
}

// noSecrets fails when a file under dir other than except holds the client secret, a private
// key or a PFX password key, or, but for the .bak originals (upstream placeholders), a
// ClientSecret key.
func noSecrets(t *testing.T, dir, except string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if filepath.ToSlash(rel) == except {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range []string{clientSecret, "PRIVATE KEY", "CertificatePassword", "ClientSecret"} {
			if s == "ClientSecret" && strings.HasSuffix(rel, ".bak") {
				continue
			}
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q:\n%s", rel, s, b)
			}
		}
		return nil
	})
}

// checkPFX opens the PFX with the empty password, with LoadPFX and, where it is installed,
// with OpenSSL (which, like .NET, reads a PKCS#12 file given no password).
func checkPFX(t *testing.T, path string, want *Certificate) {
	t.Helper()
	c, key, err := LoadPFX(path, "")
	if err != nil {
		t.Fatalf("LoadPFX(%s, \"\"): %v", path, err)
	}
	if !c.Equal(want.Cert) || !key.Public().(*rsa.PublicKey).Equal(want.Key.Public()) {
		t.Error("the PFX holds another certificate or key")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		// .NET is not here; OpenSSL is the second, independent reader of the PFX.
		testenv.Missing(t, "openssl", "apt-get install openssl")
	}
	out, err := exec.Command(openssl, "pkcs12", "-in", path, "-passin", "pass:", "-nodes").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PRIVATE KEY") || !strings.Contains(string(out), "BEGIN CERTIFICATE") {
		t.Errorf("openssl pkcs12 with the empty password: %v\n%s", err, out)
	}
}

// TestASPNetExternalExplicitSecret: asked for explicitly, the secret goes into the tracked
// appsettings.json as before, with the warning; going back to the certificate takes it out.
func TestASPNetExternalExplicitSecret(t *testing.T) {
	m, _ := samples.Lookup("aspnet-external")
	dir := fixtureDir(t, m)
	gitRepo(t, dir)
	cert := testCert(t)
	v := testValues(m, cert)
	v.ClientSecret = clientSecret
	res, err := Write(context.Background(), m, dir, v, Options{Credential: samples.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if res.Credential != samples.Secret || len(res.Warnings) != 1 ||
		!strings.Contains(res.Warnings[0], "appsettings.json") || !strings.Contains(res.Warnings[0], "skip-worktree") {
		t.Errorf("credential %s, warnings %q; want the secret and one warning about appsettings.json", res.Credential, res.Warnings)
	}
	for _, f := range res.Files {
		// .gitignore: the backup and staging names beside the secret (never the tracked file)
		if (f.Rel != "appsettings.json" || !f.Secret) && (f.Rel != ".gitignore" || f.Secret) {
			t.Errorf("wrote %s (secret %v); want appsettings.json, marked secret, and the .gitignore", f.Rel, f.Secret)
		}
	}
	if ig, _ := os.ReadFile(filepath.Join(dir, ".gitignore")); strings.Contains(string(ig), "/appsettings.json\n") || !strings.Contains(string(ig), "/appsettings.json.bak") {
		t.Errorf(".gitignore must name appsettings.json's backup, never the tracked file itself:\n%s", ig)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "appsettings.json"))
	if !strings.Contains(string(b), `"ClientSecret": "`+clientSecret+`"`) || !strings.Contains(string(b), `"SourceType": "ClientSecret"`) {
		t.Errorf("appsettings.json:\n%s", b)
	}
	cfg := mustRead(t, m, dir)
	if cfg.ClientSecret != clientSecret || cfg.Certificate != nil {
		t.Errorf("Read = secret %q, certificate %+v", cfg.ClientSecret, cfg.Certificate)
	}

	// Back to the certificate: the secret leaves appsettings.json.
	if _, err := Write(context.Background(), m, dir, v, Options{Credential: samples.Certificate}); err != nil {
		t.Fatal(err)
	}
	noSecrets(t, dir, "entra-quickstart.pfx")
	checkPFX(t, mustRead(t, m, dir).Certificate.Path, cert)

	// And to the secret again: the certificate's keys leave it.
	if _, err := Write(context.Background(), m, dir, v, Options{Credential: samples.Secret}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "appsettings.json"))
	if strings.Contains(string(b), "Certificate") {
		t.Errorf("appsettings.json keeps certificate keys with the secret:\n%s", b)
	}
}

// TestASPNetWorkforceNoPasswordFile: with the certificate, aspnet-workforce creates no
// appsettings.Development.json; one left by a secret write, or by an earlier version that kept
// a PFX password there, loses the keys that would override the password-less certificate.
func TestASPNetWorkforceNoPasswordFile(t *testing.T) {
	m, _ := samples.Lookup("aspnet-workforce")
	cert := testCert(t)
	dev := "appsettings.Development.json"

	t.Run("fresh", func(t *testing.T) {
		dir := fixtureDir(t, m)
		if _, err := Write(context.Background(), m, dir, testValues(m, cert), Options{Rand: seeded(1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, dev)); err == nil {
			t.Errorf("%s was created for the certificate", dev)
		}
		noSecrets(t, dir, "entra-quickstart.pfx")
		cfg := mustRead(t, m, dir)
		if cfg.Certificate == nil || cfg.Certificate.Password != "" {
			t.Fatalf("Read certificate = %+v", cfg.Certificate)
		}
		checkPFX(t, cfg.Certificate.Path, cert)
	})

	t.Run("after a secret", func(t *testing.T) {
		dir := fixtureDir(t, m)
		v := Values{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, Certificate: cert}
		if _, err := Write(context.Background(), m, dir, v, Options{Credential: samples.Secret}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, dev)); !strings.Contains(string(b), clientSecret) {
			t.Fatalf("the secret write left %s as:\n%s", dev, b)
		}
		res, err := Write(context.Background(), m, dir, v, Options{Credential: samples.Certificate})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			if f.Rel == dev && (f.Action != Updated || f.Secret) {
				t.Errorf("%s: %s, secret %v", dev, f.Action, f.Secret)
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, dev))
		if strings.Contains(string(b), clientSecret) || strings.Contains(string(b), "ClientSecret") {
			t.Errorf("%s keeps the secret after the switch to the certificate:\n%s", dev, b)
		}
		if cfg := mustRead(t, m, dir); cfg.Certificate == nil || cfg.Certificate.Password != "" || cfg.ClientSecret != "" {
			t.Errorf("Read = certificate %+v, secret %q", cfg.Certificate, cfg.ClientSecret)
		}
	})

	t.Run("an earlier version's password", func(t *testing.T) {
		dir := fixtureDir(t, m)
		old := "{\n  // mine\n  \"AzureAd\": {\"ClientCredentials\": [{\"CertificatePassword\": \"old-password\"}]},\n  \"Logging\": {}\n}\n"
		os.WriteFile(filepath.Join(dir, dev), []byte(old), 0o600)
		if _, err := Write(context.Background(), m, dir, testValues(m, cert), Options{}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, dev))
		if strings.Contains(string(b), "old-password") || !strings.Contains(string(b), "// mine") || !strings.Contains(string(b), "Logging") {
			t.Errorf("%s after the write:\n%s", dev, b)
		}
		cfg := mustRead(t, m, dir)
		if cfg.Certificate == nil || cfg.Certificate.Password != "" {
			t.Fatalf("Read certificate = %+v", cfg.Certificate)
		}
		checkPFX(t, cfg.Certificate.Path, cert)
	})
}
