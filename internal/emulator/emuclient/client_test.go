package emuclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsEmulatedHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"login.microsoftonline.com", true},
		{"LOGIN.microsoftonline.com", true},
		{"graph.microsoft.com", true},
		{"contoso.ciamlogin.com", true},
		{"ciamlogin.com", false},
		{"login.microsoftonline.com.evil.example", false},
		{"localhost", false},
		{"example.com", false},
	}
	for _, tt := range tests {
		if got := IsEmulatedHost(tt.host); got != tt.want {
			t.Errorf("IsEmulatedHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestAppLink(t *testing.T) {
	page := `<p><a id="signin" href="/start?x=1&amp;y=2">Sign in</a> <a href="/nowhere">x</a> <a id='signout' href='https://localhost:3000/out'>out</a></p>`
	tests := []struct {
		id      string
		want    string
		wantErr bool
	}{
		{"signin", "https://localhost:3000/start?x=1&y=2", false},
		{"signout", "https://localhost:3000/out", false},
		{"missing", "", true},
	}
	for _, tt := range tests {
		got, err := appLink("https://localhost:3000/page", page, tt.id)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("appLink(%q) = %q, %v; want %q (error %v)", tt.id, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFetchInfo(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		body    string
		wantErr error
		tenants int
	}{
		{"an emulator", "tok", `{"url":"https://localhost:1","tenants":[{"id":"t1","type":"workforce"}]}`, nil, 1},
		{"a wrong token", "other", `{"url":"https://localhost:1","tenants":[{"id":"t1","type":"workforce"}]}`, ErrAdminToken, 0},
		{"no tenants", "tok", `{"url":"https://localhost:1","tenants":[]}`, ErrNotEmulator, 0},
		{"not JSON", "tok", `<html>hello</html>`, ErrNotEmulator, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/_emulator/info" {
					http.NotFound(w, r)
					return
				}
				if r.Header.Get("Authorization") != "Bearer tok" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			info, err := FetchInfo(context.Background(), srv.Client(), srv.URL+"/", tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FetchInfo error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(info.Tenants) != tt.tenants {
				t.Errorf("tenants = %d, want %d", len(info.Tenants), tt.tenants)
			}
		})
	}
}

func TestFetchInfoNoAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := FetchInfo(context.Background(), http.DefaultClient, url, "tok"); err == nil || errors.Is(err, ErrNotEmulator) {
		t.Fatalf("FetchInfo of a closed server = %v, want the request's error", err)
	}
}

// TestReadAdminToken: the token file beside the CA is read only when it is a regular file no
// one else may read; a link or a readable file is refused.
func TestReadAdminToken(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		want    string
		wantErr string
	}{
		{"0600 file", func(t *testing.T, dir string) { write(t, filepath.Join(dir, AdminTokenFile), "tok\n", 0o600) }, "tok", ""},
		{"missing", func(t *testing.T, dir string) {}, "", "--emulator-token"},
		{"readable by others", func(t *testing.T, dir string) { write(t, filepath.Join(dir, AdminTokenFile), "tok", 0o644) }, "", "readable only by you"},
		{"empty", func(t *testing.T, dir string) { write(t, filepath.Join(dir, AdminTokenFile), "\n", 0o600) }, "", "empty"},
		{"a link", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "elsewhere"), "tok", 0o600)
			if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, AdminTokenFile)); err != nil {
				t.Fatal(err)
			}
		}, "", "readable only by you"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			got, err := ReadAdminToken(filepath.Join(dir, "ca.pem"))
			if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ReadAdminToken = %q, %v; want %q, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func write(t *testing.T, path, s string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}
