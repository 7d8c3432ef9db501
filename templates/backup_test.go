package templates

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestNoLiveSecretInABackup: a re-run that makes a new secret (or a new certificate) in a folder
// the tool configured before keeps no copy of the previous credential, which the app still
// accepts as its grace credential: the .bak holds the placeholder instead, a PFX is not copied,
// and git shows nothing new to commit (the .bak and staging names are git-ignored).
func TestNoLiveSecretInABackup(t *testing.T) {
	for _, tc := range []struct {
		sample string
		cred   samples.CredentialKind
		file   string
	}{
		{"node-workforce", samples.Secret, ".env"},
		{"flask-external", samples.Secret, ".env"},
		{"aspnet-external", samples.Secret, "appsettings.json"},
		{"aspnet-workforce", samples.Certificate, "entra-quickstart.pfx"},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			m, _ := samples.Lookup(tc.sample)
			dir := fixtureDir(t, m)
			git := gitRepo(t, dir)
			ctx := context.Background()
			first := testValues(m, nil)
			first.ClientSecret = "first~secret.value_that.is.live.8Q~aaaaaaaaaaaaaaaaaaaaaaaa"
			if tc.cred == samples.Certificate {
				first.Certificate, first.ClientSecret = testCert(t), ""
			}
			if _, err := Write(ctx, m, dir, first, Options{Credential: tc.cred}); err != nil {
				t.Fatal(err)
			}
			second := first
			second.ClientSecret = "second~secret.value_that.is.new.8Q~bbbbbbbbbbbbbbbbbbbbbbbbb"
			if tc.cred == samples.Certificate {
				c, err := makeCert()
				if err != nil {
					t.Fatal(err)
				}
				second.Certificate = c
			}
			res, err := Write(ctx, m, dir, second, Options{Credential: tc.cred})
			if err != nil {
				t.Fatal(err)
			}
			var fr FileResult
			for _, f := range res.Files {
				if f.Rel == tc.file {
					fr = f
				}
			}
			bak := filepath.Join(dir, filepath.FromSlash(tc.file)) + ".bak"
			b, err := os.ReadFile(bak)
			switch {
			case tc.cred == samples.Certificate:
				if err == nil || !fr.NoBackup || fr.Backup != "" {
					t.Fatalf("a backup of the PFX exists (%v) or is not reported as kept nowhere: %+v", err, fr)
				}
			case first.ClientSecret != "" && bytes.Contains(b, []byte(first.ClientSecret)):
				t.Fatalf("%s holds the previous secret, still valid on the app:\n%s", bak, b)
			case tc.file == ".env" && (err != nil || !bytes.Contains(b, []byte(secretPlaceholder)) || !fr.BackupMasked):
				t.Fatalf("%s = %q, %v; result %+v; want the placeholder in its place, reported as masked", bak, b, err, fr)
			}
			out, err := git("status", "--porcelain", "--untracked-files=all")
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				name, untracked := strings.CutPrefix(line, "?? ")
				if !untracked || strings.HasSuffix(name, ".gitignore") {
					continue
				}
				secret := true // unless it is the backup of a file that holds no secret
				for _, f := range m.FilesFor(tc.cred) {
					if f.Path+".bak" == name {
						secret = f.Secret
					}
				}
				if secret {
					t.Errorf("git shows an untracked file the tool left beside a secret: %s", line)
				}
			}
		})
	}
}
