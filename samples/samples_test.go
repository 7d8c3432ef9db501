package samples

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

var wantIDs = []string{"aspnet-external", "aspnet-workforce", "django-external", "flask-external", "flask-workforce", "node-external", "node-workforce"}

func TestCatalog(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range all {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("ids = %v, want %v", ids, wantIDs)
	}
	wf, _ := ForTenantType(Workforce)
	ex, _ := ForTenantType(External)
	if len(wf) != 3 || len(ex) != 4 {
		t.Errorf("ForTenantType: %d workforce, %d external; want 3 and 4", len(wf), len(ex))
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("rails-workforce")
	if !errors.Is(err, ErrUnknownSample) {
		t.Fatalf("err = %v, want ErrUnknownSample", err)
	}
	for _, id := range wantIDs {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not list %s", err, id)
		}
	}
}

// TestTraps checks that the traps of facts/samples.md are in the data.
func TestTraps(t *testing.T) {
	get := func(id string) *Manifest {
		m, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	value := func(m *Manifest, file, key string) *Value {
		for _, f := range m.Files {
			if f.Path != file {
				continue
			}
			for i := range f.Values {
				if f.Values[i].Key == key {
					return &f.Values[i]
				}
			}
		}
		return nil
	}
	tests := []struct {
		name string
		ok   func() bool
	}{
		{"node-workforce writes .env from .env.dev", func() bool {
			f := get("node-workforce").Files[0]
			return f.Path == ".env" && f.From == ".env.dev" && f.Ignore
		}},
		{"node-workforce reads .env before .env.dev", func() bool {
			s := get("node-workforce").ReadBack.Sources
			return s[0].Path == ".env" && s[1].Path == ".env.dev"
		}},
		{"placeholders match case-insensitively (Enter_the_Tenant_Info_here)", func() bool {
			_, ok := get("node-workforce").HasPlaceholder("Enter_the_Tenant_Info_here")
			return ok
		}},
		{"express session secret generated (workforce)", func() bool {
			v := value(get("node-workforce"), ".env", "EXPRESS_SESSION_SECRET")
			return v != nil && v.Generate == "secret"
		}},
		{"express session secret generated (external)", func() bool {
			v := value(get("node-external"), ".env", "EXPRESS_SESSION_SECRET")
			return v != nil && v.Generate == "secret"
		}},
		{"post-logout http://localhost:3000 registered (node)", func() bool {
			return slices.Contains(get("node-workforce").RedirectURIs, "http://localhost:3000") &&
				slices.Contains(get("node-external").RedirectURIs, "http://localhost:3000")
		}},
		{"aspnet-external on port 7274", func() bool {
			m := get("aspnet-external")
			return m.Port == 7274 && m.RedirectURI == "https://localhost:7274/signin-oidc"
		}},
		{"aspnet-external enables ID token issuance", func() bool { return get("aspnet-external").ImplicitGrant.IDToken }},
		{"aspnet-workforce defaults to a certificate", func() bool {
			return get("aspnet-workforce").DefaultCredential() == Certificate
		}},
		{"aspnet-external defaults to a certificate and still offers a secret", func() bool {
			m := get("aspnet-external")
			return m.DefaultCredential() == Certificate && m.Supports(Secret)
		}},
		{"only the ASP.NET Core samples support certificates", func() bool {
			for _, id := range wantIDs {
				if get(id).Supports(Certificate) != strings.HasPrefix(id, "aspnet-") {
					return false
				}
			}
			return true
		}},
		{"the ASP.NET Core certificate path writes no secret into a tracked file", func() bool {
			for _, id := range []string{"aspnet-external", "aspnet-workforce"} {
				for _, f := range get(id).FilesFor(Certificate) {
					if f.Secret && !f.Ignore || f.Format == FormatPFX && f.Password != "" {
						return false
					}
				}
			}
			return true
		}},
		{"aspnet-external notes say how to keep a secret out of git", func() bool {
			notes := strings.Join(get("aspnet-external").Notes, " ")
			return strings.Contains(notes, "git update-index --skip-worktree appsettings.json") &&
				strings.Contains(notes, "AzureAd__ClientCredentials__0__ClientSecret")
		}},
		{"aspnet-external with a secret warns (its appsettings.json is tracked)", func() bool {
			for _, f := range get("aspnet-external").FilesFor(Secret) {
				if f.Path == "appsettings.json" {
					return f.Secret && !f.Ignore
				}
			}
			return false
		}},
		{"python samples write REDIRECT_URI", func() bool {
			for _, id := range []string{"flask-workforce", "flask-external", "django-external"} {
				if v := value(get(id), ".env", "REDIRECT_URI"); v == nil || v.Value != "http://localhost:5000/getAToken" {
					return false
				}
			}
			return true
		}},
		{"python external templates", func() bool {
			return get("flask-external").Files[0].From == ".env.sample.external-id" &&
				get("django-external").Files[0].From == ".env.sample.external-id" &&
				get("flask-workforce").Files[0].From == ".env.sample.entra-id"
		}},
	}
	for _, tt := range tests {
		if !tt.ok() {
			t.Errorf("trap not encoded: %s", tt.name)
		}
	}
}

func TestEveryManifestIsComplete(t *testing.T) {
	all, _ := All()
	for _, m := range all {
		if m.Title == "" || m.Framework == "" || len(m.Run) == 0 || len(m.Notes) == 0 || m.Port == 0 {
			t.Errorf("%s: title, framework, run, notes and port are required", m.ID)
		}
		if !strings.HasPrefix(m.ArchiveURL(""), "https://github.com/"+m.Repository+"/archive/") {
			t.Errorf("%s: archive URL %s", m.ID, m.ArchiveURL(""))
		}
		for _, f := range m.Files {
			if f.From != "" {
				if _, err := m.Upstream(f.From); err != nil {
					t.Errorf("%s: %v", m.ID, err)
				}
			}
		}
		// The built-in copies are what the detection runs against in tests.
		dir := t.TempDir()
		copyUpstream(t, m, dir)
		if ok, missing := m.Matches(dir); !ok {
			t.Errorf("%s: the upstream copy does not match its own detection: %s", m.ID, missing)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, src := range map[string]string{
		"unknown field": `{"id":"x","bogus":1}`,
		"bad tenant":    `{"id":"x","tenantType":"b2c","repository":"a/b","branch":"main","folder":"f","credentials":["secret"],"redirectURIs":["u"],"redirectURI":"u","files":[{"path":"a","format":"env"}],"detect":[{"path":"a"}],"readBack":{"sources":[{"path":"a","format":"env"}]}}`,
		"escape":        `{"id":"x","tenantType":"external","repository":"a/b","branch":"main","folder":"../f","credentials":["secret"],"redirectURIs":["u"],"redirectURI":"u","files":[{"path":"a","format":"env"}],"detect":[{"path":"a"}],"readBack":{"sources":[{"path":"a","format":"env"}]}}`,
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse accepted %s", name, src)
		}
	}
}

// TestParseFilesPerCredential: a path may be listed once per credential kind, and ifExists is
// only for clean-up edits.
func TestParseFilesPerCredential(t *testing.T) {
	manifest := func(files string) string {
		return `{"id":"x","tenantType":"external","repository":"a/b","branch":"main","folder":"f","credentials":["certificate","secret"],"redirectURIs":["u"],"redirectURI":"u","files":[` +
			files + `],"detect":[{"path":"a"}],"readBack":{"sources":[{"path":"a","format":"json"}]}}`
	}
	for _, tt := range []struct {
		files, says string // says is "" when Parse must accept
	}{
		{`{"path":"a","format":"json","when":"certificate"},{"path":"a","format":"json","secret":true,"when":"secret"}`, ""},
		{`{"path":"a","format":"json","when":"certificate","ifExists":true}`, ""},
		{`{"path":"a","format":"json"},{"path":"a","format":"json","when":"secret"}`, "listed twice"},
		{`{"path":"a","format":"json","when":"secret"},{"path":"a","format":"json","when":"secret"}`, "listed twice"},
		{`{"path":"a","format":"json","secret":true,"ifExists":true}`, "ifExists"},
	} {
		_, err := Parse([]byte(manifest(tt.files)))
		if tt.says == "" && err != nil || tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)) {
			t.Errorf("Parse(files %s) = %v, want %q", tt.files, err, tt.says)
		}
	}
}

// TestUpstreamMatchesSharedFixtures keeps the built-in copies equal to the shared fixtures.
func TestUpstreamMatchesSharedFixtures(t *testing.T) {
	shared := filepath.Join(testenv.RepoRoot(), "..", "shared", "fixtures", "samples")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("the shared fixtures are not here (%v); the built-in copies are checked where they are", err)
	}
	err := filepath.WalkDir("upstream", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("upstream", p)
		want, err := os.ReadFile(filepath.Join(shared, rel))
		if err != nil {
			return err
		}
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the shared fixture", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// copyUpstream copies the built-in upstream files of m's folder into dir.
func copyUpstream(t *testing.T, m *Manifest, dir string) {
	t.Helper()
	src := filepath.Join("upstream", repoName(m.Repository), filepath.FromSlash(m.Folder))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	m, _ := Lookup("node-external")
	repo := t.TempDir()
	sample := filepath.Join(repo, filepath.FromSlash(m.Folder))
	os.MkdirAll(sample, 0o755)
	copyUpstream(t, m, sample)
	os.MkdirAll(filepath.Join(sample, "routes"), 0o755)
	for _, start := range []string{sample, repo, filepath.Join(sample, "routes")} {
		got, err := Locate(start, m)
		if err != nil || got != sample {
			t.Errorf("Locate(%s) = %s, %v; want %s", start, got, err, sample)
		}
	}

	// A folder holding another sample: a clear error that names it.
	other, _ := Lookup("node-workforce")
	wrong := t.TempDir()
	copyUpstream(t, other, wrong)
	_, err := Locate(wrong, m)
	if !errors.Is(err, ErrNotSample) || !strings.Contains(err.Error(), "node-workforce") || !strings.Contains(err.Error(), "--download") {
		t.Errorf("err = %v; want ErrNotSample naming node-workforce and the next step", err)
	}
	if _, err := Locate(filepath.Join(wrong, "nope"), m); err == nil {
		t.Error("Locate of a missing folder succeeded")
	}
}
