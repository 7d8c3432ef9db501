package emulator

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// TestFaultSkipHitsTheNthRequest: Skip lets that many matching requests through, then the fault
// hits Times requests, so a test can aim at one call of a route used several times in a run
// (the third token request, say). A negative Skip is refused by the admin endpoint.
func TestFaultSkipHitsTheNthRequest(t *testing.T) {
	e := start(t, Options{})
	e.AddFault(Fault{Route: "login.discovery", Kind: FaultStatus, Status: 503, Skip: 2, Times: 1})
	c := e.Client()
	wf, _ := e.Info().Tenant(Workforce)
	var got []int
	for range 4 {
		resp, err := c.Get(wf.Authority + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	want := []int{200, 200, 503, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	if ev := e.FaultEvents(); len(ev) != 1 {
		t.Fatalf("fault events %+v, want one", ev)
	}
	req, _ := emuclient.NewAdminRequest(context.Background(), http.MethodPost, e.URL(), "/faults", e.AdminToken(), strings.NewReader(`{"route":"graph.*","kind":"drop","skip":-1}`))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a negative skip answered %d, want 400", resp.StatusCode)
	}
}
