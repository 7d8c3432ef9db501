package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// TestEmulatorCommandFirstLine runs `emulator --listen 127.0.0.1:0 --data F` and checks the
// contract of its first stdout line, then that the emulator answers and stops on cancel.
func TestEmulatorCommandFirstLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	s, _, errOut := ui.Test("")
	s.Out = pw
	data := filepath.Join(t.TempDir(), "emu.json")
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--data", data}, s) }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	var info struct {
		URL     string `json:"url"`
		CAFile  string `json:"ca_file"`
		Tenants []struct {
			ID, Domain, Type string
			Users            []struct{ Username, Password string }
			AutomationClient struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			} `json:"automation_client"`
		}
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %v: %q", err, line)
	}
	if !strings.HasPrefix(info.URL, "https://localhost:") || strings.HasSuffix(info.URL, ":0") {
		t.Errorf("url %q: want https://localhost:<real port>", info.URL)
	}
	types := map[string]bool{}
	for _, tn := range info.Tenants {
		types[tn.Type] = true
		if tn.ID == "" || !strings.HasSuffix(tn.Domain, ".onmicrosoft.com") || len(tn.Users) == 0 || tn.Users[0].Password == "" ||
			tn.AutomationClient.ClientID == "" || tn.AutomationClient.ClientSecret == "" {
			t.Errorf("tenant incomplete: %+v", tn)
		}
	}
	if !types["workforce"] || !types["external"] {
		t.Errorf("tenant types %v, want workforce and external", types)
	}
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatalf("ca_file: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := c.Get(info.URL + "/_emulator/info")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("emulator does not answer at its url with its CA: %v %v", err, resp)
	}
	resp.Body.Close()
	if st, err := os.Stat(data); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--data file: %v %v, want mode 0600", err, st)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit code %d, stderr: %s", code, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop on cancel")
	}
	if !strings.Contains(errOut.String(), "CA certificate:") {
		t.Errorf("no human help on stderr: %s", errOut)
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	s, _, errOut := ui.Test("")
	if code := Main(context.Background(), []string{"emulator", "--nope"}, s); code != ExitUsage {
		t.Fatalf("exit code %d, want %d; stderr %s", code, ExitUsage, errOut)
	}
}
