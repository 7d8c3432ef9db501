package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
)

// Info describes a running emulator: what the standalone command prints as its first line, and
// what GET /_emulator/info answers. It holds the seeded passwords and automation secrets: the
// emulator is for local testing only.
type Info struct {
	URL     string       `json:"url"`
	CAFile  string       `json:"ca_file"`
	Addr    string       `json:"addr"`
	Tenants []TenantInfo `json:"tenants"`
}

// TenantInfo is one tenant in Info.
type TenantInfo struct {
	ID               string           `json:"id"`
	Domain           string           `json:"domain"`
	Subdomain        string           `json:"subdomain"`
	Type             TenantType       `json:"type"`
	DisplayName      string           `json:"display_name"`
	Authority        string           `json:"authority"`
	Users            []UserInfo       `json:"users"`
	AutomationClient AutomationClient `json:"automation_client"`
	UserFlows        []string         `json:"user_flows,omitempty"`
}

// UserInfo is a user, the password to sign in with and the person's directory roles.
type UserInfo struct {
	DisplayName       string `json:"display_name"`
	UserPrincipalName string `json:"username"`
	Password          string `json:"password"`
	// Roles are display names (Role* constants); empty for a member without a role.
	Roles []string `json:"roles"`
	// Admin marks the Global Administrator, the person who may do everything.
	Admin bool `json:"admin,omitempty"`
}

// Info describes the emulator with URLs at its local base.
func (e *Emulator) Info() Info {
	in := Info{URL: e.base, CAFile: e.caFile, Addr: e.Addr()}
	e.store.View(func(d *Directory) {
		for _, t := range d.Tenants {
			ti := TenantInfo{ID: t.ID, Domain: t.Domain, Subdomain: t.Subdomain(), Type: t.Type, DisplayName: t.DisplayName, AutomationClient: t.Automation}
			if t.Type == ExternalID {
				ti.Authority = e.base + "/ciam/" + t.Subdomain() + "/" + t.ID
			} else {
				ti.Authority = e.base + "/" + t.ID
			}
			for _, u := range t.Users {
				ti.Users = append(ti.Users, UserInfo{DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName, Password: u.Password,
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

// Tenant returns the info of the first tenant of a type.
func (in Info) Tenant(t TenantType) (TenantInfo, bool) {
	for _, x := range in.Tenants {
		if x.Type == t {
			return x, true
		}
	}
	return TenantInfo{}, false
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
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request, p string) {
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
