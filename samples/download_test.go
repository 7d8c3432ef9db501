package samples

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type zipEntry struct {
	name string
	body string
	mode fs.FileMode
}

func makeZip(t *testing.T, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveZip serves body at the archive path of m over local HTTPS.
func serveZip(t *testing.T, m *Manifest, body []byte) DownloadOptions {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/"+m.Repository+"/archive/refs/heads/"+m.Branch+".zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write(body)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return DownloadOptions{BaseURL: srv.URL, Client: srv.Client()}
}

func TestDownload(t *testing.T) {
	m, _ := Lookup("flask-workforce")
	top := "ms-identity-docs-code-python-main/"
	env, _ := m.Upstream(".env.sample.entra-id")
	req, _ := m.Upstream("requirements.txt")
	body := makeZip(t, []zipEntry{
		{name: top, mode: fs.ModeDir | 0o755},
		{name: top + "README.md", body: "root readme"},
		{name: top + "django-web-app/.env.sample.external-id", body: "not ours"},
		{name: top + "flask-web-app/", mode: fs.ModeDir | 0o755},
		{name: top + "flask-web-app/.env.sample.entra-id", body: string(env)},
		{name: top + "flask-web-app/requirements.txt", body: string(req)},
		{name: top + "flask-web-app/templates/index.html", body: "<html>"},
	})
	opts := serveZip(t, m, body)
	var phases []string
	opts.Progress = func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}
	target := filepath.Join(t.TempDir(), "sample")
	dir, err := Download(context.Background(), m, target, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "templates", "index.html")); string(got) != "<html>" {
		t.Errorf("templates/index.html = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
		t.Error("a file outside the sample's folder was extracted")
	}
	if got, err := Locate(dir, m); err != nil || got != dir {
		t.Errorf("Locate(downloaded) = %s, %v", got, err)
	}
	if strings.Join(phases, ",") != "download,extract" {
		t.Errorf("progress phases = %v", phases)
	}
}

func TestDownloadRefuses(t *testing.T) {
	m, _ := Lookup("flask-workforce")
	top := "repo-main/"
	ok := zipEntry{name: top + "flask-web-app/requirements.txt", body: "Flask"}
	tests := []struct {
		name    string
		entries []zipEntry
		opts    func(*DownloadOptions)
	}{
		{"dot-dot path", []zipEntry{ok, {name: top + "flask-web-app/../../../evil.txt", body: "x"}}, nil},
		{"dot-dot at the top", []zipEntry{{name: "../evil.txt", body: "x"}, ok}, nil},
		{"absolute path", []zipEntry{ok, {name: "/tmp/evil.txt", body: "x"}}, nil},
		{"backslash path", []zipEntry{ok, {name: top + `flask-web-app\..\..\evil.txt`, body: "x"}}, nil},
		{"symlink", []zipEntry{ok, {name: top + "flask-web-app/link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, nil},
		{"over the extract limit", []zipEntry{ok, {name: top + "flask-web-app/big.bin", body: strings.Repeat("A", 4096)}},
			func(o *DownloadOptions) { o.MaxExtract = 1024 }},
		{"over the download limit", []zipEntry{ok, {name: top + "flask-web-app/big.bin", body: strings.Repeat("A", 4096)}},
			func(o *DownloadOptions) { o.MaxDownload = 100 }},
		{"too many files", []zipEntry{ok, {name: top + "flask-web-app/a", body: "1"}, {name: top + "flask-web-app/b", body: "2"}},
			func(o *DownloadOptions) { o.MaxFiles = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := serveZip(t, m, makeZip(t, tt.entries))
			if tt.opts != nil {
				tt.opts(&opts)
			}
			parent := t.TempDir()
			target := filepath.Join(parent, "sub", "sample")
			os.MkdirAll(filepath.Dir(target), 0o755)
			_, err := Download(context.Background(), m, target, opts)
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Fatalf("err = %v, want ErrUnsafeArchive", err)
			}
			// Nothing anywhere under parent: not the target, not an escaped file.
			filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if p != parent && p != filepath.Dir(target) {
					t.Errorf("left behind: %s", p)
				}
				return nil
			})
		})
	}
}

func TestDownloadErrors(t *testing.T) {
	m, _ := Lookup("flask-workforce")
	// Not a zip, a 404 and a zip without the folder are errors that say what to do.
	for name, opts := range map[string]DownloadOptions{
		"not a zip": serveZip(t, m, []byte("<html>rate limited</html>")),
		"no folder": serveZip(t, m, makeZip(t, []zipEntry{{name: "repo-main/other/x", body: "1"}})),
	} {
		_, err := Download(context.Background(), m, filepath.Join(t.TempDir(), "s"), opts)
		if err == nil || !strings.Contains(err.Error(), "--dir") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Download(context.Background(), m, filepath.Join(t.TempDir(), "s"), DownloadOptions{BaseURL: srv.URL, Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v", err)
	}
	// A folder that is not empty is refused before anything is fetched.
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "mine.txt"), []byte("keep"), 0o644)
	if _, err := Download(context.Background(), m, full, DownloadOptions{BaseURL: srv.URL, Client: srv.Client()}); err == nil {
		t.Error("a non-empty folder was accepted")
	}
	if b, _ := os.ReadFile(filepath.Join(full, "mine.txt")); string(b) != "keep" {
		t.Error("a file in a non-empty target was touched")
	}
}

// TestDownloadPinnedAndStalled: a pinned commit is fetched by its own archive path and must
// have the catalog's SHA-256, or nothing is extracted; a server that stops sending ends the
// download after StallTimeout with an error that says so.
func TestDownloadPinnedAndStalled(t *testing.T) {
	base, _ := Lookup("flask-workforce")
	body := makeZip(t, []zipEntry{{name: "repo-abc/" + base.Folder + "/app.py", body: "print(1)"}})
	sum := sha256.Sum256(body)
	mux := http.NewServeMux()
	mux.HandleFunc("/"+base.Repository+"/archive/abc123.zip", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	mux.HandleFunc("/"+base.Repository+"/archive/refs/heads/"+base.Branch+".zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(body[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then nothing more: a stalled transfer
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	opts := DownloadOptions{BaseURL: srv.URL, Client: srv.Client(), StallTimeout: 300 * time.Millisecond}

	pinned := *base
	pinned.Commit, pinned.ArchiveSHA256 = "abc123", hex.EncodeToString(sum[:])
	if _, err := Download(context.Background(), &pinned, filepath.Join(t.TempDir(), "ok"), opts); err != nil {
		t.Fatalf("pinned download with the right hash: %v", err)
	}
	pinned.ArchiveSHA256 = strings.Repeat("0", 64)
	dir := filepath.Join(t.TempDir(), "bad")
	if _, err := Download(context.Background(), &pinned, dir, opts); !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a wrong hash: %v; want a refusal naming the SHA-256", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused archive left %s behind", dir)
	}
	if _, err := Download(context.Background(), base, filepath.Join(t.TempDir(), "stall"), opts); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("a stalled transfer: %v; want an error saying it stalled", err)
	}
}
