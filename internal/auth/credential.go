package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// GraphCommandLineToolsClientID is the public client the wizard signs in with: Microsoft Graph
// Command Line Tools, which allows dynamic consent for any delegated Graph permission and has
// http://localhost registered for the browser flow (facts/identity.md §7).
const GraphCommandLineToolsClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// Method is how the wizard signs in to Graph.
type Method string

const (
	MethodAuto        Method = "auto"        // the first that fits: environment, a signed-in Azure CLI, browser, device code
	MethodBrowser     Method = "browser"     // interactive browser (a local redirect server)
	MethodDeviceCode  Method = "device-code" // a code typed at the verification page, for SSH and headless
	MethodAzureCLI    Method = "azure-cli"   // the account of `az login`
	MethodEnvironment Method = "environment" // AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID
)

// Methods lists the --auth values.
func Methods() []Method {
	return []Method{MethodAuto, MethodBrowser, MethodDeviceCode, MethodAzureCLI, MethodEnvironment}
}

// Permissions are the delegated Graph permissions the wizard asks for when it does everything:
// it reads the tenant (GET /organization needs User.Read at least), registers apps and their
// secrets, grants admin consent, and in External ID tenants links the app to a user flow.
func Permissions(externalID bool) []string {
	return PermissionsFor(Access{ExternalID: externalID, Write: true, Consent: true})
}

// Access says what a command does with Graph, so that its sign-in asks no more than that.
type Access struct {
	ExternalID bool // user flows: EventListener.*
	Write      bool // registers, changes or deletes apps (else read scopes only)
	Consent    bool // grants tenant-wide consent (DelegatedPermissionGrant.ReadWrite.All)
}

// PermissionsFor are the least delegated Graph permissions for an access: read scopes for a
// read-only command (list, doctor), the consent-granting one only when consent is granted.
func PermissionsFor(a Access) []string {
	p := []string{"User.Read", "Application.Read.All", "DelegatedPermissionGrant.Read.All"}
	if a.Write {
		p[1] = "Application.ReadWrite.All"
	}
	if a.Consent {
		p[2] = "DelegatedPermissionGrant.ReadWrite.All"
	}
	if a.ExternalID {
		if a.Write {
			p = append(p, "EventListener.ReadWrite.All")
		} else {
			p = append(p, "EventListener.Read.All")
		}
	}
	return p
}

// CredentialOptions choose and configure the wizard's sign-in.
type CredentialOptions struct {
	Cloud Cloud
	// TenantID is always set to the target tenant's GUID: External ID admins are usually guests
	// from a workforce tenant, and "organizations" would sign them in to the wrong one.
	TenantID string
	Method   Method
	// ExternalID adds the user-flow permission to the scopes.
	ExternalID bool
	// ReadOnly asks read scopes only (list, doctor without --fix); NoConsent leaves out the
	// consent-granting permission from Scopes (it is in ConsentScopes, asked when a grant is
	// made). Neither changes an app's client credentials (.default).
	ReadOnly, NoConsent bool
	// ClientID overrides the public client (default GraphCommandLineToolsClientID).
	ClientID string
	// DeviceCodePrompt shows the device-code message (required for the device-code method).
	DeviceCodePrompt func(ctx context.Context, m azidentity.DeviceCodeMessage) error
	// CanOpenBrowser tells auto whether a browser can open here.
	CanOpenBrowser bool
	// Notice hears auto's choice and why, a line for the person (a progress note); nil: silent.
	Notice func(format string, a ...any)
	// SignIns keeps a browser or device-code sign-in between commands (nil: never kept).
	SignIns *SignIns
	// User, when set, is who must be signed in: a kept sign-in of someone else is not used
	// (the emulator's --emulator-user).
	User string
	// Getenv and LookPath are os.Getenv and exec.LookPath unless a test sets them.
	Getenv   func(string) string
	LookPath func(string) (string, error)

	// azTimeout bounds auto's look at the Azure CLI's accounts (default azCheckTimeout).
	azTimeout time.Duration
}

// Credential is the chosen sign-in and the scopes to ask it for.
type Credential struct {
	azcore.TokenCredential
	Method Method
	// Scopes are what the Graph client must request with this credential: the explicit
	// delegated permissions for the public client, ".default" for the Azure CLI and for an app's
	// client credentials.
	Scopes []string
	// ConsentScopes are Scopes with the consent-granting permission: what granting tenant-wide
	// consent asks for (the same as Scopes unless NoConsent).
	ConsentScopes []string
	// Reason says why auto chose Method; empty when the method was asked for.
	Reason string
	// NotKept says why a browser or device-code sign-in will not be kept between commands
	// (nil when it will be, or when the method keeps its own).
	NotKept error

	keeper *keeper // the kept sign-in's credential, nil when none is kept
}

// NewCredential picks and builds the credential. Nothing signs in until the first token request.
// It is NewCredentialContext without a context: auto's look at the Azure CLI is then bounded by
// its own timeout alone.
func NewCredential(o CredentialOptions) (*Credential, error) {
	return NewCredentialContext(context.Background(), o)
}

// NewCredentialContext picks and builds the credential; ctx bounds auto's look at the Azure CLI
// (it runs az). Nothing signs in until the first token request.
func NewCredentialContext(ctx context.Context, o CredentialOptions) (*Credential, error) {
	if o.TenantID == "" {
		return nil, fmt.Errorf("no tenant id: pass --tenant with the tenant's GUID or domain")
	}
	getenv, lookPath := o.Getenv, o.LookPath
	if getenv == nil {
		getenv = os.Getenv
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	m, reason := o.Method, ""
	if m == "" {
		m = MethodAuto
	}
	if m == MethodAuto {
		m, reason = pickMethod(ctx, o, getenv, lookPath)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("choose how to sign in to Microsoft Graph: %w", err)
		}
		if o.Notice != nil {
			o.Notice("Graph sign-in: %s, because %s; --auth chooses another way", m, reason)
		}
	}
	c, err := newCredential(o, m, getenv)
	if err != nil {
		return nil, err
	}
	c.Reason = reason
	return c, nil
}

// newCredential builds the credential of a chosen method.
func newCredential(o CredentialOptions, m Method, getenv func(string) string) (*Credential, error) {
	clientID := o.ClientID
	if clientID == "" {
		clientID = GraphCommandLineToolsClientID
	}
	copts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: o.Cloud.LoginBase + "/"}}
	if o.Cloud.Transport != nil {
		copts.Transport = o.Cloud.HTTPClient()
	}
	// Instance discovery asks the public cloud about the authority host: pointless for the
	// Microsoft clouds, which azidentity knows, and a leak off the machine for the emulator.
	noDiscovery := o.Cloud.Emulated()
	scopes := func(a Access) []string {
		var out []string
		for _, p := range PermissionsFor(a) {
			out = append(out, o.Cloud.GraphScope(p))
		}
		return out
	}
	delegated := scopes(Access{ExternalID: o.ExternalID, Write: !o.ReadOnly, Consent: !o.ReadOnly && !o.NoConsent})
	consent := scopes(Access{ExternalID: o.ExternalID, Write: true, Consent: true})
	dflt := []string{o.Cloud.GraphScope(".default")}

	switch m {
	case MethodEnvironment:
		id, secret, tenant := getenv("AZURE_CLIENT_ID"), getenv("AZURE_CLIENT_SECRET"), getenv("AZURE_TENANT_ID")
		if id == "" || secret == "" {
			return nil, fmt.Errorf("sign-in from the environment needs AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (and AZURE_TENANT_ID): set them, or choose another --auth method")
		}
		if tenant != "" && !strings.EqualFold(tenant, o.TenantID) {
			return nil, fmt.Errorf("AZURE_TENANT_ID is %s but the target tenant is %s: make them the same", tenant, o.TenantID)
		}
		c, err := azidentity.NewClientSecretCredential(o.TenantID, id, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: noDiscovery})
		if err != nil {
			return nil, fmt.Errorf("client secret from the environment: %w", err)
		}
		return &Credential{TokenCredential: c, Method: m, Scopes: dflt, ConsentScopes: dflt}, nil
	case MethodAzureCLI:
		if o.Cloud.Emulated() {
			return nil, fmt.Errorf("the Azure CLI cannot sign in to the emulator: use --auth device-code or browser")
		}
		c, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
		if err != nil {
			return nil, fmt.Errorf("the Azure CLI credential: %w", err)
		}
		return &Credential{TokenCredential: c, Method: m, Scopes: dflt, ConsentScopes: dflt}, nil
	case MethodBrowser:
		ko, err := o.keepOptions(clientID)
		if err != nil {
			return nil, err
		}
		c, err := azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions: copts, ClientID: clientID, TenantID: o.TenantID, DisableInstanceDiscovery: noDiscovery,
			Cache: ko.cache, AuthenticationRecord: ko.record, DisableAutomaticAuthentication: ko.keep,
		})
		if err != nil {
			return nil, fmt.Errorf("browser sign-in: %w", err)
		}
		return o.keepSignIn(c, ko, &Credential{TokenCredential: c, Method: m, Scopes: delegated, ConsentScopes: consent}), nil
	case MethodDeviceCode:
		if o.DeviceCodePrompt == nil {
			return nil, fmt.Errorf("device-code sign-in needs a prompt to show the code")
		}
		ko, err := o.keepOptions(clientID)
		if err != nil {
			return nil, err
		}
		c, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: copts, ClientID: clientID, TenantID: o.TenantID, DisableInstanceDiscovery: noDiscovery,
			UserPrompt: o.DeviceCodePrompt,
			Cache:      ko.cache, AuthenticationRecord: ko.record, DisableAutomaticAuthentication: ko.keep,
		})
		if err != nil {
			return nil, fmt.Errorf("device-code sign-in: %w", err)
		}
		return o.keepSignIn(c, ko, &Credential{TokenCredential: c, Method: m, Scopes: delegated, ConsentScopes: consent}), nil
	}
	return nil, fmt.Errorf("unknown sign-in method %q: use one of %v", m, Methods())
}

// pickMethod is auto: automation first (the environment), then the Azure CLI when it is signed
// in to the target tenant of a workforce tenant (its app is not pre-authorized for user flows, so
// not for External ID), then the browser where one can open, else the device code. It says why.
func pickMethod(ctx context.Context, o CredentialOptions, getenv func(string) string, lookPath func(string) (string, error)) (Method, string) {
	if getenv("AZURE_CLIENT_ID") != "" && getenv("AZURE_CLIENT_SECRET") != "" {
		return MethodEnvironment, "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set"
	}
	if k := o.kept(); k != nil {
		m := k.Method
		if m == MethodBrowser && !o.CanOpenBrowser {
			m = MethodDeviceCode // the kept tokens serve either; a new sign-in needs what works here
		}
		return m, fmt.Sprintf("you signed in as %s on %s and that sign-in is kept ('entra-quickstart auth logout' forgets it)", k.Username(), k.SignedIn.Format(time.DateOnly))
	}
	why := ""
	if !o.Cloud.Emulated() && !o.ExternalID {
		if az, err := lookPath("az"); err == nil {
			ok, detail := azSignedIn(ctx, az, o)
			if ok {
				return MethodAzureCLI, detail
			}
			why = detail + "; "
		}
	}
	if o.CanOpenBrowser {
		return MethodBrowser, why + "a browser can open here"
	}
	return MethodDeviceCode, why + "no browser can open here (no terminal)"
}

// azCheckTimeout bounds `az account list`: it reads the Azure CLI's local profile and asks the
// network nothing, but az is a Python program that can take seconds to start.
const azCheckTimeout = 10 * time.Second

// azAccount is the part of an `az account list` entry auto needs.
type azAccount struct {
	TenantID  string `json:"tenantId"`
	CloudName string `json:"cloudName"`
	User      struct {
		Name string `json:"name"`
	} `json:"user"`
}

// azSignedIn tells whether the Azure CLI at path is signed in to the target tenant in the target
// cloud, from the accounts its profile lists (az account list, which lists only the active
// cloud's and prints [] when signed out), and says why. A token is not asked for: that could
// prompt, and the first Graph call asks soon enough.
func azSignedIn(ctx context.Context, path string, o CredentialOptions) (bool, string) {
	timeout := o.azTimeout
	if timeout <= 0 {
		timeout = azCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "account", "list", "--output", "json", "--only-show-errors")
	cmd.WaitDelay = time.Second // a child of az holding the pipes open must not hold us too
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	switch {
	case ctx.Err() != nil:
		return false, fmt.Sprintf("the Azure CLI did not answer 'az account list' within %s", timeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return false, fmt.Sprintf("'az account list' failed (%s)", firstLine(msg))
	}
	var accounts []azAccount
	if err := json.Unmarshal(out, &accounts); err != nil {
		return false, "'az account list' printed no list of accounts"
	}
	login := fmt.Sprintf("az login --tenant %s --allow-no-subscriptions", o.TenantID)
	if len(accounts) == 0 {
		return false, fmt.Sprintf("the Azure CLI is installed but not signed in ('%s' lets auto use it)", login)
	}
	for _, a := range accounts {
		sameCloud := a.CloudName == "" || o.Cloud.AzureCLIName == "" || strings.EqualFold(a.CloudName, o.Cloud.AzureCLIName)
		if sameCloud && strings.EqualFold(a.TenantID, o.TenantID) {
			who := ""
			if a.User.Name != "" {
				who = " as " + a.User.Name
			}
			return true, fmt.Sprintf("the Azure CLI is signed in to tenant %s%s", o.TenantID, who)
		}
	}
	return false, fmt.Sprintf("the Azure CLI is signed in, but not to tenant %s in this cloud ('%s' would add it)", o.TenantID, login)
}

// TokenOptions are the options of a Graph token request with this credential.
func (c *Credential) TokenOptions() policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: c.Scopes}
}
