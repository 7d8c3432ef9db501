package templates

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestDownloadThenConfigure: every sample's archive, served over local HTTPS, is extracted and
// configured, and reads back.
func TestDownloadThenConfigure(t *testing.T) {
	all, _ := samples.All()
	cert := testCert(t)
	for _, m := range all {
		src := fixtureDir(t, m)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		_, repo, _ := strings.Cut(m.Repository, "/")
		filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			w, _ := zw.Create(repo + "-" + m.Branch + "/" + m.Folder + "/" + filepath.ToSlash(rel))
			b, _ := os.ReadFile(p)
			w.Write(b)
			return nil
		})
		zw.Close()
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/"+m.Repository+"/archive/refs/heads/"+m.Branch+".zip" {
				http.NotFound(w, r)
				return
			}
			w.Write(buf.Bytes())
		}))
		dir, err := samples.Download(context.Background(), m, filepath.Join(t.TempDir(), m.ID),
			samples.DownloadOptions{BaseURL: srv.URL, Client: srv.Client()})
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if _, err := samples.Locate(dir, m); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if _, err := Write(context.Background(), m, dir, testValues(m, cert), Options{}); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		cfg, err := Read(m, dir)
		if err != nil || cfg.ClientID != clientID {
			t.Errorf("%s: Read = %+v, %v", m.ID, cfg, err)
		}
	}
}
