package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// authenticator is a user credential of azidentity: a token, and an interactive sign-in that
// returns the record of who signed in.
type authenticator interface {
	azcore.TokenCredential
	Authenticate(ctx context.Context, opts *policy.TokenRequestOptions) (azidentity.AuthenticationRecord, error)
}

// keeper is a browser or device-code credential whose sign-in is kept: it asks the encrypted
// cache first (silently: the credential never signs in by itself), and signs in interactively
// only when the cache cannot answer (no kept sign-in, an expired one, or permissions not yet
// granted); each interactive sign-in's record is saved for the next command.
type keeper struct {
	inner   authenticator
	signIns *SignIns
	cloud   Cloud
	tenant  string
	method  Method
	cache   string
	notice  func(format string, a ...any)

	mu   sync.Mutex
	kept *Kept // nil until a sign-in is known
}

// GetToken answers from the kept sign-in, signing in (and keeping it) when it cannot.
func (k *keeper) GetToken(ctx context.Context, tro policy.TokenRequestOptions) (azcore.AccessToken, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept != nil {
		tro.Scopes = coveringScopes(tro.Scopes, k.kept.Scopes)
		tok, err := k.inner.GetToken(ctx, tro)
		var need *azidentity.AuthenticationRequiredError
		if errors.As(err, &need) && !tro.EnableCAE {
			// azidentity keeps CAE tokens apart; the kept sign-in is in the CAE cache, where
			// the Graph client (kiota enables CAE) asks. A caller without CAE gets from there.
			cae := tro
			cae.EnableCAE = true
			tok, err = k.inner.GetToken(ctx, cae)
		}
		if !errors.As(err, &need) {
			if err == nil {
				k.noteScopes(tok)
			}
			return tok, err
		}
		if k.notice != nil {
			k.notice("Graph sign-in: the kept sign-in of %s cannot answer without you (expired, or new permissions asked): signing in again", k.kept.Username())
		}
	}
	tro.EnableCAE = true // the sign-in goes to the CAE cache, as SignIn's does
	if err := k.signIn(ctx, tro); err != nil {
		return azcore.AccessToken{}, err
	}
	tok, err := k.inner.GetToken(ctx, tro)
	if err == nil {
		k.noteScopes(tok)
	}
	return tok, err
}

// signIn signs in interactively for the scopes and keeps the sign-in. The caller holds k.mu.
func (k *keeper) signIn(ctx context.Context, tro policy.TokenRequestOptions) error {
	rec, err := k.inner.Authenticate(ctx, &tro)
	if err != nil {
		return err
	}
	k.kept = &Kept{
		Record: rec, Cloud: k.cloud.Name, LoginBase: k.cloud.LoginBase, TenantID: k.tenant,
		Method: k.method, Scopes: mergeScopes(nil, permissionNames(tro.Scopes)...), SignedIn: time.Now().UTC(), CacheName: k.cache,
	}
	if err := k.signIns.Save(k.cloud, k.kept); err != nil {
		return fmt.Errorf("%w: the sign-in worked but is not kept; check that the config folder is writable", err)
	}
	return nil
}

// noteScopes adds the permissions a token was granted to the kept sign-in. The caller holds
// k.mu.
func (k *keeper) noteScopes(tok azcore.AccessToken) {
	if k.kept == nil {
		return
	}
	c := readClaims(tok.Token)
	if len(c.scopes()) == 0 {
		return
	}
	merged := mergeScopes(k.kept.Scopes, c.scopes()...)
	if strings.Join(merged, " ") == strings.Join(k.kept.Scopes, " ") {
		return
	}
	k.kept.Scopes = merged
	_ = k.signIns.Save(k.cloud, k.kept) // what status shows; the sign-in itself is kept already
}

// coveringScopes asks, for a read permission, the read-write one of the same name when the
// kept sign-in was granted it and so covers the read: a read-only command after a sign-in that
// was granted write permissions then needs no new consent (Entra answers a refresh for a
// permission never consented with AADSTS65001, which would mean signing in again).
func coveringScopes(requested, granted []string) []string {
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		base, perm := "", s
		if i := strings.LastIndex(s, "/"); i >= 0 {
			base, perm = s[:i+1], s[i+1:]
		}
		if name, ok := strings.CutSuffix(perm, ".Read.All"); ok {
			rw := name + ".ReadWrite.All"
			if slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, rw) }) {
				s = base + rw
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// permissionNames are the Graph permissions of scopes: https://graph.microsoft.com/User.Read
// is User.Read.
func permissionNames(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if i := strings.LastIndex(s, "/"); i >= 0 {
			s = s[i+1:]
		}
		out = append(out, s)
	}
	return out
}

// claims are the parts of an access token the tool shows (who, which tenant, which
// permissions): read, not validated, and never the token itself. Graph's access tokens are
// JWTs; a token that is not one has no claims here.
type claims struct {
	Scp               string   `json:"scp"`
	Roles             []string `json:"roles"`
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	UniqueName        string   `json:"unique_name"`
	AppID             string   `json:"appid"`
	Azp               string   `json:"azp"`
	Tid               string   `json:"tid"`
}

func readClaims(token string) claims {
	var c claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	_ = json.Unmarshal(b, &c)
	return c
}

// scopes are the delegated permissions (scp), else the application permissions (roles).
func (c claims) scopes() []string {
	if f := strings.Fields(c.Scp); len(f) > 0 {
		return slices.DeleteFunc(f, func(s string) bool {
			switch strings.ToLower(s) {
			case "openid", "profile", "email", "offline_access":
				return true
			}
			return false
		})
	}
	return c.Roles
}

// who is the signed-in person's name, else the client's id.
func (c claims) who() string {
	for _, s := range []string{c.PreferredUsername, c.UPN, c.UniqueName} {
		if s != "" {
			return s
		}
	}
	if c.AppID != "" {
		return "app " + c.AppID
	}
	if c.Azp != "" {
		return "app " + c.Azp
	}
	return ""
}

// SignInResult says who signed in: what `auth login` reports. It holds no token.
type SignInResult struct {
	Username string
	TenantID string
	Method   Method
	Scopes   []string
	// Kept is true when the sign-in is kept for the next commands; NotKept says why not.
	Kept    bool
	NotKept error
}

// SignIn signs in now, interactively for a browser or device-code credential even when a
// sign-in is kept (`auth login` starts afresh, as `gh auth login` does), and keeps it. For the
// Azure CLI and the environment it proves a token can be had: they keep their own sign-in.
func (c *Credential) SignIn(ctx context.Context) (*SignInResult, error) {
	// EnableCAE as the Graph client asks (kiota's Azure provider enables CAE): azidentity keeps
	// CAE tokens in a cache of their own, and a sign-in kept in the other one would not serve
	// the next command's Graph calls.
	tro := policy.TokenRequestOptions{Scopes: c.ConsentScopes, EnableCAE: true}
	if len(tro.Scopes) == 0 {
		tro.Scopes = c.Scopes
	}
	r := &SignInResult{Method: c.Method, NotKept: c.NotKept}
	if k := c.keeper; k != nil {
		k.mu.Lock()
		err := k.signIn(ctx, tro)
		var tok azcore.AccessToken
		if err == nil {
			tok, err = k.inner.GetToken(ctx, tro)
		}
		if err == nil {
			k.noteScopes(tok)
		}
		kept := k.kept
		k.mu.Unlock()
		if err != nil {
			return nil, err
		}
		r.Username, r.TenantID, r.Scopes, r.Kept = kept.Username(), kept.TenantID, kept.Scopes, true
		return r, nil
	}
	tok, err := c.GetToken(ctx, tro)
	if err != nil {
		return nil, err
	}
	cl := readClaims(tok.Token)
	r.Username, r.TenantID = cl.who(), cl.Tid
	r.Scopes = mergeScopes(nil, cl.scopes()...)
	if len(r.Scopes) == 0 {
		r.Scopes = mergeScopes(nil, permissionNames(tro.Scopes)...)
	}
	return r, nil
}

// KeptSignIn is the sign-in this credential keeps (nil when none is known yet, or none is kept).
func (c *Credential) KeptSignIn() *Kept {
	if c.keeper == nil {
		return nil
	}
	c.keeper.mu.Lock()
	defer c.keeper.mu.Unlock()
	if c.keeper.kept == nil {
		return nil
	}
	k := *c.keeper.kept
	return &k
}

// keepOptions are what a browser or device-code credential needs to keep its sign-in.
type keepOptions struct {
	keep    bool // the sign-in is kept
	cache   azidentity.Cache
	record  azidentity.AuthenticationRecord
	kept    *Kept // the kept sign-in of an earlier command, nil when none
	name    string
	notKept error
}

// kept is the kept sign-in of the target tenant that this sign-in may use: of the same cloud
// base and tenant, and of the person asked for (User) if any. Nil when there is none.
func (o CredentialOptions) kept() *Kept {
	if o.SignIns == nil {
		return nil
	}
	k, err := o.SignIns.Load(o.Cloud, o.TenantID)
	if err != nil || k == nil {
		return nil
	}
	if o.User != "" && !strings.EqualFold(k.Username(), o.User) {
		return nil
	}
	if k.Method != MethodBrowser && k.Method != MethodDeviceCode {
		return nil
	}
	return k
}

// keepOptions opens the encrypted cache and the kept sign-in. A system without encrypted
// storage (or TokenCacheEnv=none) is no error: the sign-in is then not kept, and NotKept says so.
func (o CredentialOptions) keepOptions(clientID string) (keepOptions, error) {
	if o.SignIns == nil {
		return keepOptions{}, nil
	}
	name := o.SignIns.CacheName(o.Cloud, o.TenantID)
	c, err := o.SignIns.Cache(name)
	var unavailable *CacheUnavailableError
	if errors.As(err, &unavailable) {
		return keepOptions{notKept: err}, nil
	}
	if err != nil {
		return keepOptions{}, err
	}
	ko := keepOptions{keep: true, cache: c, name: name}
	if k := o.kept(); k != nil && strings.EqualFold(k.Record.ClientID, clientID) {
		ko.kept, ko.record = k, k.Record
	}
	return ko, nil
}

// keepSignIn wraps a browser or device-code credential so that its sign-in is kept, when it can be.
func (o CredentialOptions) keepSignIn(inner authenticator, ko keepOptions, c *Credential) *Credential {
	c.NotKept = ko.notKept
	if !ko.keep {
		return c
	}
	c.keeper = &keeper{inner: inner, signIns: o.SignIns, cloud: o.Cloud, tenant: o.TenantID, method: c.Method, cache: ko.name, notice: o.Notice, kept: ko.kept}
	c.TokenCredential = c.keeper
	return c
}
