package emuclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
		body    string
		wantErr error
		tenants int
	}{
		{"an emulator", `{"url":"https://localhost:1","tenants":[{"id":"t1","type":"workforce"}]}`, nil, 1},
		{"no tenants", `{"url":"https://localhost:1","tenants":[]}`, ErrNotEmulator, 0},
		{"not JSON", `<html>hello</html>`, ErrNotEmulator, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/_emulator/info" {
					http.NotFound(w, r)
					return
				}
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			info, err := FetchInfo(context.Background(), srv.Client(), srv.URL+"/")
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
	if _, err := FetchInfo(context.Background(), http.DefaultClient, url); err == nil || errors.Is(err, ErrNotEmulator) {
		t.Fatalf("FetchInfo of a closed server = %v, want the request's error", err)
	}
}
