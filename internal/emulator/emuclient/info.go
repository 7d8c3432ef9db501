package emuclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
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
	URL    string `json:"url"`
	CAFile string `json:"ca_file"`
	Addr   string `json:"addr"`
	// AdminToken is the bearer token the admin endpoints (/_emulator/...) require, made at
	// each start; the emulator also writes it to AdminTokenFile beside CAFile (mode 0600).
	AdminToken string       `json:"admin_token"`
	Tenants    []TenantInfo `json:"tenants"`
}

// AdminTokenFile is the name of the file, beside the emulator's ca.pem, that holds its admin
// token (mode 0600): a client given the CA file finds the token without more flags.
const AdminTokenFile = "admin-token"

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

// ErrAdminToken says the emulator refused the admin token (a missing one, or one from another
// run of the emulator).
var ErrAdminToken = errors.New("the emulator refused the admin token")

// NewAdminRequest is a request to an admin endpoint (path such as "/faults") of the emulator at
// base, carrying its admin token.
func NewAdminRequest(ctx context.Context, method, base, path, token string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+"/_emulator"+path, body)
	if err != nil {
		return nil, fmt.Errorf("emulator admin request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

// FetchInfo asks a running emulator at base (its local base URL) for its Info, with its admin
// token. An error from the request itself comes back as the client gave it; a refused token is
// ErrAdminToken; an answer that is no emulator's info is ErrNotEmulator.
func FetchInfo(ctx context.Context, client *http.Client, base, token string) (*Info, error) {
	req, err := NewAdminRequest(ctx, http.MethodGet, base, "/info", token, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, ErrAdminToken
	}
	var info Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || len(info.Tenants) == 0 {
		return nil, ErrNotEmulator
	}
	return &info, nil
}

// ReadAdminToken reads the admin token the emulator wrote beside its CA file caFile. The file
// is opened without following a link and must be a regular file no one else may read: a token
// planted by someone else, or one others could read, is refused.
func ReadAdminToken(caFile string) (string, error) {
	p := filepath.Join(filepath.Dir(caFile), AdminTokenFile)
	b, mode, err := atomicfile.ReadFile(p)
	if errors.Is(err, atomicfile.ErrNotRegular) || (err == nil && mode&0o077 != 0) {
		return "", fmt.Errorf("emulator admin token: %s is not a regular file readable only by you; restart the emulator to rewrite it, or pass --emulator-token", p)
	}
	if err != nil {
		return "", fmt.Errorf("emulator admin token: %w; pass --emulator-token with the admin_token of the emulator's first JSON line", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("emulator admin token: %s is empty; restart the emulator, or pass --emulator-token", p)
	}
	return tok, nil
}
