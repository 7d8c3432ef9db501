package emuclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// TenantType is the kind of tenant: a workforce tenant (Graph tenantType "AAD") or an External ID
// tenant ("CIAM").
type TenantType string

const (
	Workforce  TenantType = "workforce"
	ExternalID TenantType = "external"
	// B2C is an Azure AD B2C tenant (Options.B2CTenant, --b2c): served as a workforce tenant,
	// told apart only by organization.tenantType (tenants.md §6).
	B2C TenantType = "b2c"
)

// AutomationClient is an app registration seeded in every tenant whose service principal holds
// the application permissions the wizard needs, so scripts can get a Graph token by client
// credentials.
type AutomationClient struct {
	AppID    string   `json:"client_id"`
	Secret   string   `json:"client_secret"`
	Roles    []string `json:"roles"`
	ObjectID string   `json:"objectId"`
}

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
	// Roles are the directory roles' display names; empty for a member without a role.
	Roles []string `json:"roles"`
	// Admin marks the Global Administrator, the person who may do everything.
	Admin bool `json:"admin,omitempty"`
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

// ErrNotEmulator says the server answered, but not with an emulator's info document.
var ErrNotEmulator = errors.New("not an entra-quickstart emulator")

// FetchInfo asks a running emulator at base (its local base URL) for its Info. An error from
// the request itself comes back as the client gave it; an answer that is no emulator's info is
// ErrNotEmulator.
func FetchInfo(ctx context.Context, client *http.Client, base string) (*Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_emulator/info", nil)
	if err != nil {
		return nil, fmt.Errorf("emulator info: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || len(info.Tenants) == 0 {
		return nil, ErrNotEmulator
	}
	return &info, nil
}
