package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
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
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "the sample's folder, or a folder init --dir accepts: a clone of the sample's repository, or a folder inside the sample")
	f.StringVarP(&o.Sample, "sample", "s", "", "the sample (default: recognised from the folder's files)")
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
	m, dir, err := sampleInDir(ctx, o.Sample, dir, targetFlags(o.GlobalOptions, ""))
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
	// In a terminal the progress already showed each step on the same screen: the checklist is
	// printed once, and the result is its verdict.
	res.verdictOnly = o.IO.OutTTY && o.IO.StdoutTTY
	st := ui.NewStyles(false)
	if res.verdictOnly {
		st = ui.NewStyles(o.IO.Color)
	}
	if werr := ui.Render(o.IO.Out, st, o.JSON, res, rep.ExitCode()); werr != nil {
		return werr
	}
	return err
}

// sampleInDir finds which sample a folder is, and the sample's folder: every folder init --dir
// accepts (the sample's folder, a clone of its repository, a folder inside the sample) is
// found the way init finds it (samples.Locate). target are the flags of this run's cloud, for
// the init command the error shows.
func sampleInDir(ctx context.Context, id, dir string, target []string) (*samples.Manifest, string, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		why := "does not exist"
		if err == nil {
			why = "is a file, not a folder"
		} else if !errors.Is(err, fs.ErrNotExist) {
			why = "cannot be read (" + err.Error() + ")"
		}
		return nil, "", usagef("the folder %s %s: pass --dir with the sample's folder (the one init configured)", safetext.Line(dir), why)
	}
	m, first := sampleAt(ctx, id, dir)
	switch {
	case first == nil:
		return m, dir, nil
	case id != "" && m == nil: // an unknown sample
		return nil, "", first
	case id == "" && !errors.Is(first, errNoSample): // several samples fit
		return nil, "", first
	}
	// Not configured here: the folder init would have used for it, from this one.
	cands := []*samples.Manifest{m}
	if id == "" {
		var err error
		if cands, err = samples.All(); err != nil {
			return nil, "", err
		}
	}
	found := map[string]bool{}
	var dirs []string
	for _, c := range cands {
		d, lerr := samples.Locate(dir, c)
		if lerr != nil || d == dir || found[d] {
			continue
		}
		if _, rerr := templates.Read(c, d); rerr == nil || configuredEnough(c, d) {
			found[d] = true
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 1 {
		m, err := sampleAt(ctx, id, dirs[0])
		return m, dirs[0], err
	}
	if m == nil {
		// A checkout of exactly one sample: the init command can name it.
		sample := ""
		for _, c := range cands {
			if ok, _ := c.Matches(dir); ok {
				if sample != "" {
					sample = ""
					break
				}
				sample = c.ID
			}
		}
		return nil, "", notConfigured(dir, sample, target)
	}
	return m, dir, nil
}

// notConfigured is the error for a folder where no sample is configured, with the init command
// that configures it against the same cloud.
func notConfigured(dir, id string, target []string) error {
	args := []string{"entra-quickstart", "init"}
	if id != "" {
		args = append(args, "--sample", id)
	}
	args = append(args, "--dir", shellQuote(dir))
	for _, t := range target {
		args = append(args, shellQuote(t))
	}
	return usagef("%s holds no configured sample: run '%s' first, or pass --dir with the sample's folder (and --sample)", dir, strings.Join(args, " "))
}

// configuredEnough reports whether the sample's files in dir name an app (a client id that is
// a GUID) even though a value the sign-in needs is missing: doctor still checks such a folder,
// and verify says what is missing.
func configuredEnough(m *samples.Manifest, dir string) bool {
	cfg, err := templates.Read(m, dir)
	return cfg != nil && errors.Is(err, templates.ErrNotConfigured) && isGUID(strings.TrimSpace(cfg.ClientID))
}

// sampleAt is which sample dir is: the one named (a nil manifest only when id is unknown);
// else the one init recorded for this folder; else the one whose files it has (its markers,
// then its configuration).
func sampleAt(ctx context.Context, id, dir string) (*samples.Manifest, error) {
	if id != "" {
		m, err := samples.Lookup(id)
		if err != nil {
			return nil, usageError{err}
		}
		if _, err := templates.Read(m, dir); err != nil && !configuredEnough(m, dir) {
			return m, err
		}
		return m, nil
	}
	if h, err := appdir.Dir(); err == nil {
		if st, err := state.Open(filepath.Join(h, state.FileName)); err == nil {
			if rec, err := st.Load(ctx); err == nil {
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
		if _, err := templates.Read(m, dir); err == nil || configuredEnough(m, dir) {
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
		return nil, errNoSample
	}
	var ids []string
	for _, m := range configured {
		ids = append(ids, m.ID)
	}
	return nil, usagef("%s fits several samples (%s): pass --sample", dir, strings.Join(ids, ", "))
}

// errNoSample is sampleAt's answer for a folder with no configured sample; sampleInDir says it
// with the command that configures one.
var errNoSample = errors.New("no configured sample")

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
		if configuredEnough(c.m, c.dir) {
			// The app is named: doctor finds what else is wrong, and --fix writes what is missing.
			return verify.Report{}, fmt.Errorf("%w\nRun '%s': it checks the app and writes what is missing", err, doctorFix(c.g, c.dir, c.g.Tenant))
		}
		return verify.Report{}, fmt.Errorf("%w\nRun '%s' first", err, initCommand(c.m, c.dir, "", targetFlags(c.g, c.g.Tenant)))
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
		// Nobody at a terminal (neither stdin nor stderr is one) reads a printed URL: when no
		// browser opens either, the check stops at once.
		Unattended: !c.g.IO.InTTY && !c.g.IO.OutTTY,
	}
	if c.t.Info != nil && !c.autoSignIn {
		// The emulator's users are its own, with one demo password: say who to sign in as.
		if user, err := demoUser(c.t.Info, vc.TenantID); err == nil {
			opts.SignInAs = user.UserPrincipalName + " with the password " + user.Password
		}
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
func demoUser(info *emuclient.Info, tenantID string) (emuclient.UserInfo, error) {
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
	return emuclient.UserInfo{}, fmt.Errorf("the emulator has no user in tenant %s to sign in", tenantID)
}

// autoSignIn plays the person at the browser against the emulator: the client package's
// scripted browser signs the demo user in through the check's start page and out again. Every
// address it reaches is on this machine.
func autoSignIn(t *target, user emuclient.UserInfo) func(ctx context.Context, start string) error {
	return func(ctx context.Context, start string) error {
		return emuclient.SignInThroughApp(ctx, loopbackBrowser(t), start, emuclient.SignInOptions{Username: user.UserPrincipalName, Password: user.Password})
	}
}

// loopbackBrowser is a browser that reaches only this machine and verifies the emulator by the
// CA the target trusts.
func loopbackBrowser(t *target) *http.Client {
	var roots *x509.CertPool
	if base, _ := t.Cloud.Transport.(*http.Transport); base != nil && base.TLSClientConfig != nil {
		roots = base.TLSClientConfig.RootCAs
	}
	return emuclient.LoopbackBrowser(roots)
}
