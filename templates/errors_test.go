package templates

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestMalformedExistingContent: content the editors refuse gives an error that says what to do,
// and the file is left byte for byte as it was.
func TestMalformedExistingContent(t *testing.T) {
	tests := []struct {
		sample, file, content string
		want                  error
		says                  string
	}{
		{"flask-workforce", ".env", "\xef\xbb\xbfAUTHORITY=x\n", ErrMalformed, "byte-order mark"},
		{"flask-workforce", ".env", "CLIENT_ID=a\nCLIENT_ID=b\n", ErrDuplicateKey, "delete the others"},
		{"flask-workforce", ".env", "CLIENT_SECRET=\"abc\n", ErrMalformed, "close the quote"},
		{"flask-workforce", ".env", "A=1\rB=2\n", ErrMalformed, "line ending"},
		{"aspnet-external", "appsettings.json", "{\"AzureAd\": {\"ClientId\": }", ErrMalformed, "fix the JSON"},
		{"aspnet-external", "appsettings.json", "{\"AzureAd\": {}, \"AzureAd\": {}}", ErrMalformed, "delete one"},
		{"aspnet-external", "appsettings.json", "{\"AzureAd\": \"text\"}", ErrMalformed, "restore the sample's original"},
	}
	for _, tt := range tests {
		t.Run(tt.sample+" "+tt.says, func(t *testing.T) {
			m, _ := samples.Lookup(tt.sample)
			dir := fixtureDir(t, m)
			p := filepath.Join(dir, tt.file)
			os.WriteFile(p, []byte(tt.content), 0o644)
			_, err := Write(context.Background(), m, dir, testValues(m, nil), Options{Rand: seeded(1)})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v; want %v saying %q", err, tt.want, tt.says)
			}
			if b, _ := os.ReadFile(p); string(b) != tt.content {
				t.Errorf("the original was changed: %q", b)
			}
			if _, err := os.Stat(p + ".bak"); err == nil {
				t.Error("a .bak was written for a refused file")
			}
		})
	}
}

// CRLF files and a BOM in JSON are not errors: they are kept.
func TestKeepsLineEndingsAndJSONBOM(t *testing.T) {
	m, _ := samples.Lookup("flask-workforce")
	dir := fixtureDir(t, m)
	src, _ := os.ReadFile(filepath.Join(dir, ".env.sample.entra-id"))
	os.WriteFile(filepath.Join(dir, ".env"), bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")), 0o600)
	if _, err := Write(context.Background(), m, dir, testValues(m, nil), Options{}); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(filepath.Join(dir, ".env"))
	if bytes.Count(out, []byte("\r\n")) != bytes.Count(out, []byte("\n")) {
		t.Errorf("mixed line endings after the write:\n%q", out)
	}
	checkParses(t, ".env", out)

	got, err := EditJSON([]byte("\xef\xbb\xbf{\r\n  \"a\": 1\r\n}\r\n"), []JSONEdit{{Pointer: "/b", Value: "x"}})
	if err != nil || string(got) != "\xef\xbb\xbf{\r\n  \"a\": 1,\r\n  \"b\": \"x\"\r\n}\r\n" {
		t.Errorf("EditJSON with BOM and CRLF = %q, %v", got, err)
	}
}

func TestReadOnlyFile(t *testing.T) {
	m, _ := samples.Lookup("aspnet-external")
	dir := fixtureDir(t, m)
	p := filepath.Join(dir, "appsettings.json")
	os.Chmod(p, 0o444)
	before, _ := os.ReadFile(p)
	_, err := Write(context.Background(), m, dir, testValues(m, nil), Options{})
	if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), "chmod u+w") {
		t.Fatalf("err = %v", err)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Error("the read-only file was changed")
	}
}

func TestMissingInputs(t *testing.T) {
	m, _ := samples.Lookup("node-external")
	_, err := Write(context.Background(), m, t.TempDir(), Values{ClientID: "x", ClientSecret: "y"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "subdomain") {
		t.Errorf("err = %v", err)
	}
	_, err = Write(context.Background(), m, t.TempDir(), Values{ClientID: "x", TenantSubdomain: "c", Certificate: testCert(t)}, Options{})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err = %v", err)
	}
}

// TestConfigOnlyOutput: with no checkout, the files are written into an empty folder from the
// built-in copies of the sample's files.
func TestConfigOnlyOutput(t *testing.T) {
	all, _ := samples.All()
	cert := testCert(t)
	for _, m := range all {
		out := t.TempDir()
		res, err := Write(context.Background(), m, out, testValues(m, cert), Options{Rand: seeded(1)})
		if err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		for _, f := range res.Files {
			if f.Action != Created {
				t.Errorf("%s: %s %s", m.ID, f.Rel, f.Action)
			}
			if strings.HasSuffix(f.Rel, ".pfx") || f.Rel == ".gitignore" {
				continue
			}
			b, _ := os.ReadFile(f.Path)
			golden(t, m.ID+"/"+f.Rel, bytes.ReplaceAll(b, []byte(Thumbprint(cert.Cert)), []byte("THUMBPRINT")))
		}
		if _, err := Read(m, out); err != nil {
			t.Errorf("%s: Read: %v", m.ID, err)
		}
	}
}

func TestReadUnconfigured(t *testing.T) {
	m, _ := samples.Lookup("node-workforce")
	dir := fixtureDir(t, m)
	_, err := Read(m, dir) // only .env.dev, with its placeholders
	if !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "Enter_the_") {
		t.Errorf("err = %v", err)
	}
	// .env wins over .env.dev key by key: a .env with only CLIENT_ID leaves the rest to .env.dev.
	os.WriteFile(filepath.Join(dir, ".env"), []byte("CLIENT_ID=from-env\n"), 0o600)
	cfg, _ := Read(m, dir)
	if cfg == nil || cfg.ClientID != "from-env" || !strings.Contains(cfg.ClientSecret, "Enter_the_") {
		t.Errorf("Read = %+v", cfg)
	}
	if _, err := Read(m, t.TempDir()); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("empty folder: err = %v", err)
	}
}

// TestGitignore: in a git repository .env is added to .gitignore and git agrees it is ignored;
// a secret file git already tracks is refused.
func TestGitignore(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		testenv.Missing(t, "git", "apt-get install git")
	}
	m, _ := samples.Lookup("node-workforce")
	dir := fixtureDir(t, m)
	run := func(args ...string) error {
		cmd := exec.Command(git, append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		return cmd.Run()
	}
	if err := run("init", "-q"); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), m, dir, testValues(m, nil), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := run("check-ignore", "-q", ".env"); err != nil {
		t.Errorf("git does not ignore .env after the write: %v", err)
	}
	if !ignoredByFiles(filepath.Join(dir, ".env"), dir) {
		t.Error("the .gitignore reader disagrees with git")
	}

	dir2 := fixtureDir(t, m)
	dir = dir2
	run("init", "-q")
	os.WriteFile(filepath.Join(dir, ".env"), []byte("CLIENT_ID=x\n"), 0o600)
	run("add", "-f", ".env")
	run("commit", "-q", "-m", "oops")
	_, err = Write(context.Background(), m, dir, testValues(m, nil), Options{})
	if err == nil || !strings.Contains(err.Error(), "git rm --cached") {
		t.Errorf("err = %v", err)
	}
}

func TestGitignoreMatch(t *testing.T) {
	tests := []struct {
		pat, rel string
		want     bool
	}{
		{".env", ".env", true}, {".env", "App/.env", true}, {"/.env", "App/.env", false},
		{"*.pfx", "a/b.pfx", true}, {"App/", "App/.env", true}, {"App/", "App", false},
		{"**/.env", "x/.env", true}, {"node_modules/", ".env", false}, {".env.*", ".env", false},
	}
	for _, tt := range tests {
		if got := gitignoreMatch(tt.pat, tt.rel); got != tt.want {
			t.Errorf("gitignoreMatch(%q, %q) = %v", tt.pat, tt.rel, got)
		}
	}
}

// The backup is the file as it was before the tool's first write: later writes that change the
// file again keep that first original, so `.bak` always restores the user's own file.
func TestBackupKeepsTheFirstOriginal(t *testing.T) {
	m, _ := samples.Lookup("flask-workforce")
	dir := fixtureDir(t, m)
	p := filepath.Join(dir, ".env")
	original := []byte("# mine\nCLIENT_ID=my-own-app\nEXTRA=kept\n")
	if err := os.WriteFile(p, original, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := testValues(m, nil)
	if _, err := Write(ctx, m, dir, v, Options{}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	v.ClientID = "22222222-2222-2222-2222-222222222222"
	res, err := Write(ctx, m, dir, v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(p)
	if bytes.Equal(first, second) || !bytes.Contains(second, []byte(v.ClientID)) {
		t.Fatalf("the second write did not change the client id:\n%s", second)
	}
	bak, err := os.ReadFile(p + ".bak")
	if err != nil || !bytes.Equal(bak, original) {
		t.Fatalf(".bak after two writes = %q, %v; want the first original %q", bak, err, original)
	}
	named := false
	for _, f := range res.Files {
		if f.Rel == ".env" {
			named = f.Backup == p+".bak"
		}
	}
	if !named {
		t.Errorf("the result does not name %s.bak as the backup of .env: %+v", p, res.Files)
	}
}
