package emulatortest

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T) []Option
	}{
		{"defaults", func(*testing.T) []Option { return nil }},
		{"data file", func(t *testing.T) []Option { return []Option{WithDataFile(filepath.Join(t.TempDir(), "d.json"))} }},
		{"from a seed", func(t *testing.T) []Option { return []Option{FromSeed(Seed(t))} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			t.Run("started", func(t *testing.T) {
				e := New(t, tt.opts(t)...)
				addr = e.Addr()
				if first, second := e.Transport(), e.Transport(); first != second {
					t.Error("Transport is not the same transport on every call")
				}
				// The real host name reaches the emulator through the client.
				resp, err := e.Client().Get("https://login.microsoftonline.com/" + e.Tenant(t, emuclient.Workforce).ID + "/v2.0/.well-known/openid-configuration")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("discovery: %s", resp.Status)
				}
				if _, u := e.Admin(t, emuclient.ExternalID); u.UserPrincipalName == "" {
					t.Error("no admin in the External ID tenant")
				}
			})
			// The subtest's cleanup stopped it.
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Fatalf("the emulator at %s still listens after its test ended", addr)
			}
		})
	}
}
