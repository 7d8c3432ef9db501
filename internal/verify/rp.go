package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryDoc is the part of the OpenID configuration the relying party uses.
type discoveryDoc struct {
	Issuer             string   `json:"issuer"`
	AuthorizationURL   string   `json:"authorization_endpoint"`
	TokenURL           string   `json:"token_endpoint"`
	JWKSURL            string   `json:"jwks_uri"`
	UserInfoURL        string   `json:"userinfo_endpoint"`
	EndSessionURL      string   `json:"end_session_endpoint"`
	Algorithms         []string `json:"id_token_signing_alg_values_supported"`
	FrontChannelLogout bool     `json:"frontchannel_logout_supported"`
}

// relyingParty is one configured client of one provider.
type relyingParty struct {
	cfg      Config
	client   *http.Client
	doc      discoveryDoc
	issuer   string
	provider *oidc.Provider
	oauth    oauth2.Config
	cred     *assertionSigner // nil for a secret
	now      func() time.Time
	skew     time.Duration
}

// ctx carries the injected HTTP client to go-oidc and x/oauth2.
func (rp *relyingParty) ctx(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, rp.client)
	return context.WithValue(ctx, oauth2.HTTPClient, rp.client)
}

// discover fetches the authority's document and its keys, and settles the issuer: the
// document's own (with the {tenantid} template of /common filled in), or the configured
// override. External ID documents name the tenant-id host as issuer while their endpoints stay
// on the subdomain host (facts/identity.md §1.3), so the issuer is taken from the document, not
// derived from the authority.
func discover(ctx context.Context, cfg Config, client *http.Client, now func() time.Time, skew time.Duration, hosts []string) (*relyingParty, string, error) {
	rp := &relyingParty{cfg: cfg, client: client, now: now, skew: skew}
	// The authority first, before anything is fetched from it.
	if err := checkSecretDestination(cfg.Authority, cfg.Authority, hosts); err != nil {
		return nil, "", err
	}
	durl := cfg.discoveryURL()
	body, err := getJSON(ctx, client, durl)
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", durl, err)
	}
	if err := json.Unmarshal(body, &rp.doc); err != nil {
		return nil, "", fmt.Errorf("read %s: %w", durl, err)
	}
	d := rp.doc
	if d.Issuer == "" || d.AuthorizationURL == "" || d.TokenURL == "" || d.JWKSURL == "" {
		return nil, "", fmt.Errorf("%s lacks issuer, authorization_endpoint, token_endpoint or jwks_uri", durl)
	}
	if err := checkSecretDestination(cfg.Authority, d.TokenURL, hosts); err != nil {
		return nil, "", err
	}
	rp.issuer = strings.ReplaceAll(d.Issuer, "{tenantid}", cfg.TenantID)
	if cfg.ExpectedIssuer != "" {
		rp.issuer = cfg.ExpectedIssuer
	}
	if cfg.TenantID != "" && !strings.Contains(strings.ToLower(rp.issuer), strings.ToLower(cfg.TenantID)) {
		return nil, "", fmt.Errorf("the issuer %s does not name the tenant %s: the authority points at another tenant", rp.issuer, cfg.TenantID)
	}
	// Fetch the keys once now: a wrong jwks_uri should fail discovery, not the ID token check.
	kb, err := getJSON(ctx, client, d.JWKSURL)
	if err != nil {
		return nil, "", fmt.Errorf("fetch the signing keys %s: %w", d.JWKSURL, err)
	}
	var keys struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(kb, &keys); err != nil || len(keys.Keys) == 0 {
		return nil, "", fmt.Errorf("the signing keys at %s are empty or unreadable", d.JWKSURL)
	}
	algs := d.Algorithms
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	// Only asymmetric algorithms: "none" and HMAC are never acceptable for an ID token.
	var safe []string
	for _, a := range algs {
		if a != "none" && !strings.HasPrefix(a, "HS") {
			safe = append(safe, a)
		}
	}
	pc := oidc.ProviderConfig{IssuerURL: rp.issuer, AuthURL: d.AuthorizationURL, TokenURL: d.TokenURL,
		JWKSURL: d.JWKSURL, UserInfoURL: d.UserInfoURL, Algorithms: safe}
	rp.provider = pc.NewProvider(rp.ctx(ctx))
	rp.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: d.AuthorizationURL, TokenURL: d.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       cfg.scopes(),
	}
	if cfg.ClientSecretBasic {
		rp.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	if cfg.ClientSecret == "" {
		s, err := newAssertionSigner(cfg)
		if err != nil {
			return nil, "", err
		}
		rp.cred = s
	}
	n := fmt.Sprintf("%d signing keys", len(keys.Keys))
	if len(keys.Keys) == 1 {
		n = "1 signing key"
	}
	return rp, fmt.Sprintf("issuer %s, %s", rp.issuer, n), nil
}

func getJSON(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("HTTP %d: %s", resp.StatusCode, firstLine(string(b)))
	}
	return b, nil
}

// attempt is one sign-in: what the callback must match.
type attempt struct {
	state    string
	nonce    string
	verifier string
	created  time.Time
	used     bool
}

// authURL is the authorize request for an attempt: code flow, PKCE S256, nonce, query mode.
func (rp *relyingParty) authURL(a *attempt, redirectURI string) string {
	c := rp.oauth
	c.RedirectURL = redirectURI
	return c.AuthCodeURL(a.state, oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier),
		oauth2.SetAuthURLParam("response_mode", "query"))
}

// exchange redeems the code with the secret or a fresh client assertion. The scope is sent as
// MSAL does, so Entra returns an access token for Graph.
func (rp *relyingParty) exchange(ctx context.Context, a *attempt, code, redirectURI string) (*oauth2.Token, error) {
	c := rp.oauth
	c.RedirectURL = redirectURI
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(a.verifier),
		oauth2.SetAuthURLParam("scope", strings.Join(rp.cfg.scopes(), " "))}
	if rp.cred != nil {
		jwt, err := rp.cred.assertion(rp.doc.TokenURL, rp.now())
		if err != nil {
			return nil, err
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", jwt))
	}
	return c.Exchange(rp.ctx(ctx), code, opts...)
}

// idTokenError classifies a verification failure for the diagnosis table.
type idTokenError struct {
	key string
	err error
}

func (e *idTokenError) Error() string { return e.err.Error() }
func (e *idTokenError) Unwrap() error { return e.err }

// verifyIDToken checks signature, issuer, audience, expiry (with skew), nonce and tenant.
func (rp *relyingParty) verifyIDToken(ctx context.Context, raw, nonce string) (*oidc.IDToken, map[string]any, error) {
	// The times are checked below with one allowance both ways: go-oidc compares exp with now
	// exactly and nbf with a fixed 5 minutes, so a clock a few minutes off one way or the
	// other would reject a good token or accept a stale one unevenly.
	v := rp.provider.VerifierContext(rp.ctx(ctx), &oidc.Config{ClientID: rp.cfg.ClientID, SkipExpiryCheck: true})
	tok, err := v.Verify(rp.ctx(ctx), raw)
	if err != nil {
		return nil, nil, &idTokenError{key: classifyVerify(err), err: err}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, nil, &idTokenError{key: "local:signature", err: err}
	}
	if err := checkTimes(claims, rp.now(), rp.skew); err != nil {
		return tok, claims, &idTokenError{key: "local:expired", err: err}
	}
	if tok.Nonce != nonce {
		return tok, claims, &idTokenError{key: "local:nonce", err: fmt.Errorf("the ID token's nonce %q is not this attempt's", tok.Nonce)}
	}
	if rp.cfg.TenantID != "" {
		// Entra always issues tid: a token without one did not come from the configured tenant.
		tid, _ := claims["tid"].(string)
		switch {
		case tid == "":
			return tok, claims, &idTokenError{key: "local:no_tid", err: fmt.Errorf("the ID token has no tid claim, so it cannot be from the tenant %s", rp.cfg.TenantID)}
		case !strings.EqualFold(tid, rp.cfg.TenantID):
			return tok, claims, &idTokenError{key: "local:tenant", err: fmt.Errorf("the ID token's tid %s is not the tenant %s", tid, rp.cfg.TenantID)}
		}
	}
	return tok, claims, nil
}

// checkTimes checks an ID token's exp, nbf and iat against now with the same allowance either
// way: exp must be after now-skew, nbf and iat before now+skew. exp is required (Entra always
// sets it); nbf and iat are checked when present.
func checkTimes(claims map[string]any, now time.Time, skew time.Duration) error {
	at := func(name string) (time.Time, bool) {
		switch v := claims[name].(type) {
		case float64:
			return time.Unix(int64(v), 0), true
		case json.Number:
			if n, err := v.Int64(); err == nil {
				return time.Unix(n, 0), true
			}
		}
		return time.Time{}, false
	}
	exp, ok := at("exp")
	if !ok {
		return errors.New("the ID token has no exp claim")
	}
	if !exp.After(now.Add(-skew)) {
		return fmt.Errorf("the ID token expired at %s; this machine's clock says %s (allowance %s): check the clock", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	}
	for _, name := range []string{"nbf", "iat"} {
		if t, ok := at(name); ok && t.After(now.Add(skew)) {
			return fmt.Errorf("the ID token's %s is %s, after this machine's clock (%s) by more than %s: check the clock", name, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
		}
	}
	return nil
}

func classifyVerify(err error) string {
	var exp *oidc.TokenExpiredError
	s := err.Error()
	switch {
	case errors.As(err, &exp):
		return "local:expired"
	case strings.Contains(s, "different provider"):
		return "local:issuer"
	case strings.Contains(s, "expected audience"):
		return "local:audience"
	case strings.Contains(s, "nbf"):
		return "local:expired"
	}
	return "local:signature"
}

// me calls Graph GET /v1.0/me with the access token.
func (rp *relyingParty) me(ctx context.Context, accessToken string) (map[string]any, *graphError, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.cfg.graphBase()+"/v1.0/me", nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := rp.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var env struct {
			Error graphError `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		env.Error.Status = resp.StatusCode
		return nil, &env.Error, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("the answer of Graph /me is not JSON: %w", err)
	}
	delete(m, "@odata.context")
	return m, nil, nil
}

// graphError is Graph's error envelope.
type graphError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// endSessionURL is the RP-initiated sign-out request.
func (rp *relyingParty) endSessionURL(postLogout, idToken, loginHint, state string) string {
	if rp.doc.EndSessionURL == "" {
		return ""
	}
	q := url.Values{}
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	if loginHint != "" {
		q.Set("logout_hint", loginHint)
	}
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", rp.cfg.ClientID)
	if state != "" {
		q.Set("state", state)
	}
	sep := "?"
	if strings.Contains(rp.doc.EndSessionURL, "?") {
		sep = "&"
	}
	return rp.doc.EndSessionURL + sep + q.Encode()
}
