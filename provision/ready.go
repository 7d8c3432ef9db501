package provision

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// ReadyConfig says where and how to check that a new credential works.
type ReadyConfig struct {
	// TokenURL is the tenant's token endpoint, e.g.
	// https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token (see TokenURL).
	TokenURL string
	// HTTPClient reaches it (the emulator's client in tests); default http.DefaultClient.
	HTTPClient *http.Client
	// Scope asked for; default https://graph.microsoft.com/.default (needs no permission).
	Scope string
	// Successes in a row required; default 3 (see WaitReady for why).
	Successes int
	// Interval is the base of the wait between polls while the credential does not work yet,
	// on graph.LagWait's short steady schedule, capped at MaxInterval; defaults 250 ms, 1 s.
	Interval, MaxInterval time.Duration
	// ConfirmInterval is the wait between the successes once one came; default 200 ms.
	ConfirmInterval time.Duration
	// Timeout bounds the whole wait; default 5 minutes.
	Timeout time.Duration
	// Progress hears each poll; nil is silent.
	Progress func(ReadyEvent)
}

// ReadyEvent reports one poll.
type ReadyEvent struct {
	Attempt   int
	OK        bool
	Successes int    // in a row so far
	Reason    string // why not yet, e.g. "AADSTS700016: the app has not replicated yet"
	Elapsed   time.Duration
}

// TokenURL is the v2.0 token endpoint of a tenant under an authority base (a workforce cloud's
// login base, or https://<subdomain>.ciamlogin.com for External ID).
func TokenURL(authorityBase, tenant string) string {
	return strings.TrimRight(authorityBase, "/") + "/" + tenant + "/oauth2/v2.0/token"
}

// notYet are the AADSTS codes that mean "the new app or credential has not replicated yet".
var notYet = map[string]string{
	"700016":  "the app has not reached the sign-in service yet",
	"7000215": "the new secret has not reached the sign-in service yet",
	"7000222": "the new secret has not reached the sign-in service yet",
	"700027":  "the new certificate has not reached the sign-in service yet",
	"700024":  "the client assertion is not yet within its valid time",
	"50012":   "the new certificate has not reached the sign-in service yet",
}

// ErrNotReady is wrapped by WaitReady's error when the deadline passes.
var ErrNotReady = errors.New("the new credential does not work yet")

// WaitReady polls a client-credentials token for the new app with its new credential (the
// secret, or a client assertion signed with the certificate) until it succeeds Successes times
// in a row. AADSTS700016 (app unknown) and AADSTS7000215 (secret unknown) mean "not yet", as do
// 429s, 5xx and dropped connections; any other refusal fails at once with Entra's words.
//
// The rule, and why no more: the token service answers from many replicas and a new secret
// reaches them one by one (4 to 18 s observed, facts/identity.md "Replication"; a brand-new
// secret can even be called expired, AADSTS7000222, facts/tenants.md §5), so one success
// proves only that one replica has it, and the browser's code redemption a moment later may
// meet another. Three successes in a row, ConfirmInterval apart, sample three answers for
// 0.4 s once the credential works, where the earlier rule (1 s apart) cost 2 s with no lag at
// all. While it does not work yet, polls follow the same short steady schedule as Graph's lag
// retries (graph.LagWait), so the wait ends within a fraction of a second of the credential
// working instead of overshooting it by a doubling backoff.
func WaitReady(ctx context.Context, cfg ReadyConfig, r *Result) error {
	if r == nil || r.AppID == "" {
		return errors.New("provision: nothing to wait for: Apply made no app")
	}
	if cfg.TokenURL == "" {
		return errors.New("provision: WaitReady needs the token endpoint (provision.TokenURL)")
	}
	if r.Secret == "" && r.Certificate == nil {
		return errors.New("provision: WaitReady needs the new credential; this run kept the existing one, which the sample's configuration already holds")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Scope == "" {
		cfg.Scope = "https://graph.microsoft.com/.default"
	}
	if cfg.Successes <= 0 {
		cfg.Successes = 3
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	if cfg.MaxInterval <= 0 {
		cfg.MaxInterval = time.Second
	}
	if cfg.ConfirmInterval <= 0 {
		cfg.ConfirmInterval = 200 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	inRow := 0
	lastReason := ""
	var failingSince time.Time
	for attempt := 1; ; attempt++ {
		ok, reason, err := tryToken(ctx, cfg, r)
		if err != nil {
			return err
		}
		if ok {
			inRow++
		} else {
			inRow = 0
			if reason != "" {
				// A poll cut short by the deadline says nothing: keep the last real answer.
				lastReason = reason
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(ReadyEvent{Attempt: attempt, OK: ok, Successes: inRow, Reason: reason, Elapsed: time.Since(start)})
		}
		if inRow >= cfg.Successes {
			return nil
		}
		next := cfg.ConfirmInterval
		if !ok {
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			next = min(graph.LagWait(cfg.Interval, time.Since(failingSince)), cfg.MaxInterval)
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			if parent.Err() == nil {
				return fmt.Errorf("provision: %w after %s (%d attempts; last: %s); Entra can take several minutes to replicate a new app: run entra-quickstart verify in a few minutes", ErrNotReady, cfg.Timeout, attempt, orNone(lastReason))
			}
			return fmt.Errorf("provision: waiting for the new credential: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
}

// Probe asks once for a client-credentials token with the result's credential (a secret, or a
// certificate's client assertion), as WaitReady does on each poll: ok when a token came; reason
// when not yet (replication, 429, 5xx, a dropped connection); err when the credential was
// refused for good. lab status uses it to show whether each attendee's credential works.
func Probe(ctx context.Context, cfg ReadyConfig, r *Result) (ok bool, reason string, err error) {
	if r == nil || r.AppID == "" || (r.Secret == "" && r.Certificate == nil) {
		return false, "", errors.New("provision: nothing to probe: no app id or credential")
	}
	if cfg.TokenURL == "" {
		return false, "", errors.New("provision: Probe needs the token endpoint (provision.TokenURL)")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Scope == "" {
		cfg.Scope = "https://graph.microsoft.com/.default"
	}
	return tryToken(ctx, cfg, r)
}

// tryToken asks once. ok: a token came; reason: why not (when it is worth asking again); err:
// a refusal that waiting will not fix.
func tryToken(ctx context.Context, cfg ReadyConfig, r *Result) (ok bool, reason string, err error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {r.AppID}, "scope": {cfg.Scope}}
	if r.Secret != "" {
		form.Set("client_secret", r.Secret.Reveal())
	} else {
		a, err := clientAssertion(r.Certificate, r.AppID, cfg.TokenURL, time.Now())
		if err != nil {
			return false, "", fmt.Errorf("provision: signing the client assertion: %w", err)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, "", fmt.Errorf("provision: token endpoint %q: %w", cfg.TokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, "", nil // the loop reports the deadline
		}
		return false, "connection failed: " + err.Error(), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
			return true, "", nil
		}
		return false, "the token endpoint answered 200 without a token", nil
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return false, fmt.Sprintf("the token endpoint answered %d", resp.StatusCode), nil
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
	}
	_ = json.Unmarshal(body, &oe)
	codes := map[string]bool{}
	for _, c := range oe.Codes {
		codes[fmt.Sprint(c)] = true
	}
	if strings.HasPrefix(oe.Description, "AADSTS") {
		n := strings.TrimPrefix(oe.Description, "AADSTS")
		if i := strings.IndexByte(n, ':'); i > 0 {
			codes[n[:i]] = true
		}
	}
	for code, why := range notYet {
		if codes[code] {
			return false, "AADSTS" + code + ": " + why, nil
		}
	}
	first, _, _ := strings.Cut(oe.Description, "\r\n")
	if first == "" {
		first = fmt.Sprintf("HTTP %d %s", resp.StatusCode, oe.Error)
	}
	return false, "", fmt.Errorf("provision: the new credential was refused: %s; run entra-quickstart doctor, or reset and run again", first)
}

// clientAssertion is the JWT a certificate credential authenticates with: RS256, x5t and
// x5t#S256 headers (Entra accepts either), aud the token endpoint, iss and sub the client id.
func clientAssertion(c *Cert, clientID, aud string, now time.Time) (string, error) {
	if c == nil {
		return "", errors.New("no certificate")
	}
	key, ok := c.Key.(*rsa.PrivateKey)
	if !ok {
		return "", errors.New("the certificate's key is not RSA")
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").
		WithHeader("x5t", base64.RawURLEncoding.EncodeToString(c.sha1())).
		WithHeader("x5t#S256", base64.RawURLEncoding.EncodeToString(c.sha256()))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": aud, "iss": clientID, "sub": clientID, "jti": uuid.NewString(),
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
