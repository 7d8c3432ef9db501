package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// VerifyOptions are the flags of verify.
type VerifyOptions struct {
	*GlobalOptions
	Dir        string
	Sample     string
	NoBrowser  bool
	AutoSignIn bool
	Timeout    time.Duration
}

func newVerifyCmd(g *GlobalOptions) *cobra.Command {
	o := &VerifyOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Sign in with a configured sample's files, to prove they work",
		Long: `verify reads the configuration a sample will use from its files (the way the sample reads
them), starts a sign-in server at the sample's redirect URI on this machine, opens your browser,
and checks each step of a real OpenID Connect sign-in: discovery, authorize, callback, code
exchange, ID token, Graph /me, sign-out and front-channel logout. When a step fails it says
why and what to do. Exit code 0 only when every step passed.

Stop the sample first: the check listens on the sample's port (or another free port, since
Entra ignores the port of a localhost redirect URI).`,
		Example: `  entra-quickstart verify --dir ./ms-identity-node/App
  entra-quickstart verify --dir ./App --sample node-workforce --no-browser --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "the sample's folder")
	f.StringVar(&o.Sample, "sample", "", "the sample (default: recognised from the folder's files)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.BoolVar(&o.AutoSignIn, "auto-sign-in", false, "emulator only: sign the emulator's demo user in without a browser")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the sign-in in the browser")
	return cmd
}

func runVerify(ctx context.Context, o *VerifyOptions) error {
	if o.AutoSignIn && !o.Emulator && o.EmulatorURL == "" {
		return usagef("--auto-sign-in signs the emulator's demo user in; it is refused for a real cloud, where you sign in yourself")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return usagef("--dir: %w", err)
	}
	m, err := sampleInDir(o.Sample, dir)
	if err != nil {
		return err
	}
	t, err := openTarget(ctx, o.GlobalOptions)
	if err != nil {
		return err
	}
	defer t.Close()
	prog := ui.NewProgress(o.IO, o.JSON)
	rep, err := runSignInCheck(ctx, signInCheck{
		g: o.GlobalOptions, t: t, m: m, dir: dir, noBrowser: o.NoBrowser, autoSignIn: o.AutoSignIn, timeout: o.Timeout, prog: prog,
	})
	res := newCheckResult(rep)
	if werr := ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, res, rep.ExitCode()); werr != nil {
		return werr
	}
	return err
}

// sampleInDir finds which sample a folder is: the one named; else the one init recorded for
// this folder; else the one whose files it has (its markers, then its configuration).
func sampleInDir(id, dir string) (*samples.Manifest, error) {
	if id != "" {
		m, err := samples.Lookup(id)
		if err != nil {
			return nil, usageError{err}
		}
		return m, nil
	}
	if h, err := appdir.Dir(); err == nil {
		if st, err := state.Open(filepath.Join(h, state.FileName)); err == nil {
			if rec, err := st.Load(context.Background()); err == nil {
				for _, a := range rec.Apps {
					if a.Folder == dir {
						if m, err := samples.Lookup(a.Sample); err == nil {
							return m, nil
						}
					}
				}
			}
		}
	}
	all, err := samples.All()
	if err != nil {
		return nil, err
	}
	var configured, checkout []*samples.Manifest
	for _, m := range all {
		if _, err := templates.Read(m, dir); err == nil {
			configured = append(configured, m)
			if ok, _ := m.Matches(dir); ok {
				checkout = append(checkout, m)
			}
		}
	}
	for _, found := range [][]*samples.Manifest{checkout, configured} {
		if len(found) == 1 {
			return found[0], nil
		}
	}
	if len(configured) == 0 {
		return nil, usagef("%s holds no configured sample: run 'entra-quickstart init' first, or pass --dir with the sample's folder (and --sample)", dir)
	}
	var ids []string
	for _, m := range configured {
		ids = append(ids, m.ID)
	}
	return nil, usagef("%s fits several samples (%s): pass --sample", dir, strings.Join(ids, ", "))
}

// signInCheck is one run of the built-in sign-in check on a configured folder.
type signInCheck struct {
	g          *GlobalOptions
	t          *target
	m          *samples.Manifest
	dir        string
	noBrowser  bool
	autoSignIn bool
	timeout    time.Duration
	prog       *ui.Progress
}

// runSignInCheck reads the folder's configuration back, the way the sample reads it, and signs
// in with exactly that.
func runSignInCheck(ctx context.Context, c signInCheck) (verify.Report, error) {
	cfg, err := templates.Read(c.m, c.dir)
	if err != nil {
		return verify.Report{}, fmt.Errorf("%w\nRun 'entra-quickstart init' for this folder first", err)
	}
	vc := verify.Config{
		Authority:             cfg.Authority,
		TenantID:              cfg.TenantID,
		TenantKind:            c.m.TenantType,
		ClientID:              cfg.ClientID,
		ClientSecret:          cfg.ClientSecret,
		RedirectURI:           cfg.RedirectURI,
		PostLogoutRedirectURI: cfg.PostLogoutRedirectURI,
		FrontChannelLogoutURL: c.m.FrontChannelLogoutURL,
		CallsGraph:            cfg.GraphEndpoint != "",
		GraphBaseURL:          graphBaseOf(cfg.GraphEndpoint),
	}
	if vc.TenantID == "" {
		vc.TenantID = tenantFromAuthority(cfg.Authority)
	}
	if cfg.Certificate != nil {
		cert, key, err := templates.LoadPFX(cfg.Certificate.Path, cfg.Certificate.Password)
		if err != nil {
			return verify.Report{}, fmt.Errorf("the sample's certificate %s: %w", cfg.Certificate.Path, err)
		}
		vc.Certificate, vc.PrivateKey = cert, key
	}
	if vc.TenantID == "" || !isGUID(vc.TenantID) {
		// External ID authorities name the domain; the ID token's tid is checked against the id.
		id, err := resolveTenantID(ctx, c.t, cfg)
		if err != nil {
			return verify.Report{}, fmt.Errorf("find the tenant id of the authority %s: %w; run the check again", cfg.Authority, err)
		}
		vc.TenantID = id
	}
	var checklist *ui.Checklist
	if !c.g.JSON {
		checklist = ui.NewChecklist(c.g.IO.Err, ui.NewStyles(c.g.IO.Color))
	} else {
		checklist = ui.NewChecklist(io.Discard, ui.NewStyles(false))
	}
	certDir, err := appdir.Dir()
	if err != nil {
		return verify.Report{}, err
	}
	opts := verify.Options{
		CertDir:    certDir, // the localhost certificate for https redirect URIs, kept between runs
		HTTPClient: &http.Client{Transport: withGetRetries(c.t.Cloud.Transport), Timeout: 60 * time.Second},
		NoBrowser:  c.noBrowser,
		Progress:   checklistProgress(checklist),
		Timeout:    c.timeout,
		// The sample's secret goes only to the chosen cloud's sign-in service.
		SignInHosts: c.t.Cloud.SignInHosts(),
	}
	if c.g.JSON {
		// Messages to stderr still: the URL to open is needed when no browser opens.
		opts.Progress = func(ev verify.Event) {
			if ev.Kind == verify.EventNotice {
				fmt.Fprintln(c.g.IO.Err, ev.Message)
			}
		}
	}
	if c.autoSignIn {
		if c.t.Info == nil {
			return verify.Report{}, usagef("--auto-sign-in works only against the emulator")
		}
		user, err := demoUser(c.t.Info, vc.TenantID)
		if err != nil {
			return verify.Report{}, err
		}
		opts.AutoSignIn = autoSignIn(c.t, user)
	}
	rep, err := verify.Run(ctx, vc, opts)
	return rep, err
}

func graphBaseOf(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	if i := strings.Index(endpoint, "/v1.0"); i > 0 {
		return endpoint[:i]
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// tenantFromAuthority takes the tenant out of an authority's path: its last segment.
func tenantFromAuthority(a string) string {
	u, err := url.Parse(strings.TrimRight(a, "/"))
	if err != nil {
		return ""
	}
	return filepath.Base(u.Path)
}

// resolveTenantID asks the authority's discovery document for the tenant id.
func resolveTenantID(ctx context.Context, t *target, cfg *templates.Config) (string, error) {
	u := strings.TrimRight(cfg.Authority, "/") + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := t.Cloud.HTTPClient().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// An error body has GUIDs too (trace and correlation ids): none of them is the tenant.
		return "", fmt.Errorf("%s answered %s", u, resp.Status)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if m := guidInURL.FindString(string(b)); m != "" {
		return strings.ToLower(m), nil
	}
	return "", errors.New("no tenant id in the discovery document")
}

var guidInURL = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

func isGUID(s string) bool { return len(s) == 36 && guidInURL.MatchString(s) }

// demoUser is the emulator user --auto-sign-in signs in: a non-admin member of the tenant.
func demoUser(info *emulator.Info, tenantID string) (emulator.UserInfo, error) {
	for _, t := range info.Tenants {
		if !strings.EqualFold(t.ID, tenantID) && !strings.EqualFold(t.Domain, tenantID) {
			continue
		}
		for _, u := range t.Users {
			if !u.Admin {
				return u, nil
			}
		}
		if len(t.Users) > 0 {
			return t.Users[0], nil
		}
	}
	return emulator.UserInfo{}, fmt.Errorf("the emulator has no user in tenant %s to sign in", tenantID)
}

// autoSignIn plays the person at the browser against the emulator: it opens the check's start
// page, follows Sign in, fills the emulator's sign-in (and consent) page as the demo user, lands
// back on the check's server, then follows Sign out through the emulator's end-session page.
// Every address it reaches is on this machine.
func autoSignIn(t *target, user emulator.UserInfo) func(ctx context.Context, start string) error {
	return func(ctx context.Context, start string) error {
		c := loopbackBrowser(t)
		page, err := get(ctx, c, start)
		if err != nil {
			return err
		}
		signIn, err := link(start, page, "signin")
		if err != nil {
			return err
		}
		// The check's sign-in link redirects to the emulator's authorize endpoint: the driver
		// starts there (it stops at the first redirect that leaves the emulator).
		authorize, err := redirectTarget(ctx, c, signIn)
		if err != nil {
			return err
		}
		arrival, err := emulator.SignIn(ctx, c, authorize, emulator.SignInOptions{Username: user.UserPrincipalName, Password: user.Password})
		if err != nil {
			return fmt.Errorf("auto sign-in: %w", err)
		}
		signedIn, err := arrive(ctx, c, arrival)
		if err != nil {
			return err
		}
		signOut, err := link(arrival.URL.String(), signedIn, "signout")
		if err != nil {
			return nil // the check ended on this page: a failure it reports itself
		}
		logout, err := redirectTarget(ctx, c, signOut) // the emulator's end-session URL
		if err != nil {
			return fmt.Errorf("auto sign-out: %w", err)
		}
		back, err := emulator.SignOut(ctx, c, logout)
		if err != nil || back == nil {
			return err
		}
		_, err = get(ctx, c, back.String())
		return err
	}
}

// loopbackBrowser is an HTTP client with cookies that reaches only this machine: the emulator
// (trusted by its CA) and the check's own server, whose generated localhost certificate it
// accepts as a browser would after the warning.
func loopbackBrowser(t *target) *http.Client {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	base, _ := t.Cloud.Transport.(*http.Transport)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if host != "localhost" {
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					return nil, fmt.Errorf("auto sign-in stays on this machine; refused %s", addr)
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback only, see DialContext
	}
	if base != nil && base.TLSClientConfig != nil && base.TLSClientConfig.RootCAs != nil {
		// Verify the emulator by its CA; accept the check's own self-signed localhost certificate.
		pool := base.TLSClientConfig.RootCAs
		tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			leaf := cs.PeerCertificates[0]
			if leaf.Issuer.String() == leaf.Subject.String() {
				return nil // the check's self-signed localhost certificate
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: cs.ServerName})
			return err
		}
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second}
}

func get(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("auto sign-in: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b), err
}

// redirectTarget fetches u and returns where it redirects, without following.
func redirectTarget(ctx context.Context, c *http.Client, u string) (string, error) {
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := nc.Do(req)
	if err != nil {
		return "", fmt.Errorf("auto sign-in: %w", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("auto sign-in: %s answered %s, not a redirect", u, resp.Status)
	}
	return loc.String(), nil
}

// arrive delivers the emulator's answer to the check's redirect URI, as the browser would.
func arrive(ctx context.Context, c *http.Client, a *emulator.Arrival) (string, error) {
	if a.Method == http.MethodPost {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL.String(), strings.NewReader(a.Form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		return string(b), err
	}
	return get(ctx, c, a.URL.String())
}

var anchorRE = regexp.MustCompile(`<a\b[^>]*>`)
var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// link finds the href of the anchor with this id on a page, resolved against the page's URL.
func link(pageURL, page, id string) (string, error) {
	for _, a := range anchorRE.FindAllString(page, -1) {
		if !strings.Contains(a, `id="`+id+`"`) {
			continue
		}
		m := hrefRE.FindStringSubmatch(a)
		if m == nil {
			break
		}
		base, err := url.Parse(pageURL)
		if err != nil {
			return "", err
		}
		ref, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return "", err
		}
		return base.ResolveReference(ref).String(), nil
	}
	return "", fmt.Errorf("auto sign-in: no %q link on the page", id)
}
