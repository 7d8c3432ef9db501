package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// Info describes the emulator with URLs at its local base (the document GET /_emulator/info
// answers; the client package reads it).
func (e *Emulator) Info() emuclient.Info {
	in := emuclient.Info{URL: e.base, CAFile: e.caFile, Addr: e.Addr(), AdminToken: e.adminToken}
	e.store.View(func(d *Directory) {
		for _, t := range d.Tenants {
			ti := emuclient.TenantInfo{ID: t.ID, Domain: t.Domain, Subdomain: t.Subdomain(), Type: t.Type, DisplayName: t.DisplayName, AutomationClient: t.Automation}
			if t.Type == ExternalID {
				ti.Authority = e.base + "/ciam/" + t.Subdomain() + "/" + t.ID
			} else {
				ti.Authority = e.base + "/" + t.ID
			}
			for _, u := range t.Users {
				ti.Users = append(ti.Users, emuclient.UserInfo{DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName, Password: u.Password,
					Roles: append([]string{}, u.Roles...), Admin: u.IsGlobalAdmin()})
			}
			for _, f := range t.UserFlows {
				ti.UserFlows = append(ti.UserFlows, f.DisplayName)
			}
			in.Tenants = append(in.Tenants, ti)
		}
	})
	return in
}

// serveAdmin is the standalone emulator's control surface, under /_emulator:
//
//	GET    /info            the Info document
//	GET    /faults          the fault configuration
//	PUT    /faults          replace it (a FaultConfig)
//	POST   /faults          add one Fault
//	DELETE /faults          clear every fault
//	GET    /faults/events   the faults that hit requests
//	GET    /settings        every tenant's Settings, by domain
//	PUT    /settings        change settings: the properties given, in every tenant or in
//	                        ?tenant=<id|domain|subdomain>
//	POST   /keys/rotate     publish a new signing key
//	GET    /requests        the request log; DELETE empties it
//	GET    /routes          the route names faults can target
//
// Every one needs the admin token (Authorization: Bearer <admin_token>): the info alone holds
// every password and client secret, and any web page can send requests to a loopback port.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request, p string) {
	if !e.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="entra-quickstart emulator admin"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "the admin endpoints need the header 'Authorization: Bearer <admin_token>': admin_token is in the emulator's first JSON line and in the admin-token file beside its ca.pem"})
		return
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	bad := func(err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
	}
	switch {
	case p == "/info" && r.Method == http.MethodGet:
		reply(e.Info())
	case p == "/faults" && r.Method == http.MethodGet:
		reply(e.Faults())
	case p == "/faults" && r.Method == http.MethodPut:
		var c FaultConfig
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			bad(fmt.Errorf("fault configuration: %w", err))
			return
		}
		if err := validateFaults(c.Faults); err != nil {
			bad(err)
			return
		}
		e.SetFaults(c)
		reply(e.Faults())
	case p == "/faults" && r.Method == http.MethodPost:
		var f Fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			bad(fmt.Errorf("fault: %w", err))
			return
		}
		if err := validateFaults([]Fault{f}); err != nil {
			bad(err)
			return
		}
		e.AddFault(f)
		reply(e.Faults())
	case p == "/faults" && r.Method == http.MethodDelete:
		e.SetFaults(FaultConfig{})
		w.WriteHeader(http.StatusNoContent)
	case p == "/settings" && r.Method == http.MethodGet:
		reply(e.Settings())
	case p == "/settings" && r.Method == http.MethodPut:
		doc, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			bad(fmt.Errorf("settings: %w", err))
			return
		}
		if err := e.patchSettings(r.URL.Query().Get("tenant"), doc); err != nil {
			bad(err)
			return
		}
		reply(e.Settings())
	case p == "/faults/events" && r.Method == http.MethodGet:
		reply(e.FaultEvents())
	case p == "/keys/rotate" && r.Method == http.MethodPost:
		if err := e.RotateKeys(); err != nil {
			bad(err)
			return
		}
		reply(map[string]string{"kid": e.keys.current().KID})
	case p == "/requests" && r.Method == http.MethodGet:
		reply(e.Requests())
	case p == "/requests" && r.Method == http.MethodDelete:
		e.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	case p == "/routes" && r.Method == http.MethodGet:
		names := e.Routes()
		sort.Strings(names)
		reply(names)
	default:
		w.WriteHeader(http.StatusNotFound)
		reply(map[string]string{"error": "unknown admin endpoint; see GET /_emulator/routes and the README"})
	}
}

// adminAuthorized compares the bearer token in constant time, so its timing tells nothing.
func (e *Emulator) adminAuthorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && e.adminToken != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(e.adminToken)) == 1
}

// newAdminToken is 32 random bytes, URL-safe base64: unguessable, and safe in a header, a
// file and a shell variable.
func newAdminToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("emulator: admin token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func validateFaults(fs []Fault) error {
	for i, f := range fs {
		switch f.Kind {
		case FaultLatency:
			if f.Delay <= 0 {
				return fmt.Errorf("fault %d: a latency fault needs a delay, e.g. \"delay\": \"200ms\"", i)
			}
		case FaultStatus, FaultStatusAfterCommit:
			if f.Status < 400 || f.Status > 599 {
				return fmt.Errorf("fault %d: status must be 400-599, got %d", i, f.Status)
			}
		case FaultDrop, FaultDropAfterCommit:
		default:
			return fmt.Errorf("fault %d: unknown kind %q (latency, status, drop, status-after-commit, drop-after-commit)", i, f.Kind)
		}
		if f.Skip < 0 {
			return fmt.Errorf("fault %d: skip must not be negative", i)
		}
		if f.Route == "" {
			return fmt.Errorf("fault %d: route is empty; use a route name or glob such as \"graph.*\" (GET /_emulator/routes lists them)", i)
		}
	}
	return nil
}
