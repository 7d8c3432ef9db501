package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/journey"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// DoctorOptions are the flags of doctor.
type DoctorOptions struct {
	*GlobalOptions
	Dir    string
	Sample string
	Fix    bool
	Auth   string
}

func newDoctorCmd(g *GlobalOptions) *cobra.Command {
	o := &DoctorOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Compare a sample's configuration with its app registration and say what to fix",
		Long: `doctor reads a configured sample's files the way the sample does and checks them against the
app registration in Graph: the client id exists, the redirect URIs the files send (sign-in and
post-logout) are registered, the front-channel logout URL is set, the credential works and is
not about to expire, the service principal and admin consent are there, and for External ID the
app is linked to a user flow. Each finding comes with its fix; --fix applies them (it runs init for the folder again, which converges on one app).

Exit code 0 when it finds nothing, 1 otherwise.`,
		Example: `  entra-quickstart doctor --dir ./ms-identity-node/App
  entra-quickstart doctor --dir ./App --fix`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "the sample's folder, or a folder init --dir accepts: a clone of the sample's repository, or a folder inside the sample")
	f.StringVarP(&o.Sample, "sample", "s", "", "the sample (default: recognised from the folder's files)")
	f.BoolVar(&o.Fix, "fix", false, "apply the fixes")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	return cmd
}

// Finding is one check of doctor.
type Finding struct {
	Check   string `json:"check"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// DoctorResult is doctor's JSON.
type DoctorResult struct {
	ui.Verdict
	Sample   string    `json:"sample"`
	Folder   string    `json:"folder"`
	ClientID string    `json:"client_id"`
	Findings []Finding `json:"findings"`
	Fixed    bool      `json:"fixed,omitempty"`
}

// errFindings makes the exit code 1 without another message: the findings said it.
var errFindings = errors.New("doctor found problems (see above)")

func runDoctor(ctx context.Context, o *DoctorOptions) error {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return usagef("--dir: %w", err)
	}
	m, dir, err := sampleInDir(ctx, o.Sample, dir, targetFlags(o.GlobalOptions, o.Tenant))
	if err != nil {
		return err
	}
	cfg, err := templates.Read(m, dir)
	// A folder that names its app but misses a value (an empty client secret) is checked all
	// the same: the missing value is one finding, and --fix writes it.
	if err != nil && !configuredEnough(m, dir) {
		return fmt.Errorf("%w\nRun '%s' first", err, initCommand(m, dir, "", targetFlags(o.GlobalOptions, o.Tenant)))
	}
	tenant := o.Tenant
	if tenant == "" {
		tenant = cfg.TenantID
	}
	if tenant == "" {
		tenant = cfg.TenantDomain
	}
	if o.Emulator || o.EmulatorURL != "" {
		tenant = o.Tenant // the emulator's tenant of the sample's kind unless named
	}
	prog := ui.NewProgress(o.IO, true)
	// check signs in and runs the checks on the folder's configuration cfg.
	check := func(cfg *templates.Config) (*DoctorResult, string, error) {
		// The checks only read; --fix opens its own session (fixFolder) that may write.
		s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: tenant, Kind: samples.TenantType(m.TenantType), AuthMethod: o.Auth, Progress: prog, ReadOnly: true})
		if err != nil {
			return nil, "", err
		}
		defer s.Close()
		return diagnose(ctx, s, m, dir, cfg, targetFlags(o.GlobalOptions, tenant), doctorFix(o.GlobalOptions, dir, tenant))
	}
	res, name, err := check(cfg)
	if err != nil {
		return err
	}
	problems := res.problems()
	if problems > 0 && o.Fix {
		fmt.Fprintf(o.IO.Err, "Fixing %s by running init for %s again…\n", plural(problems, "problem", "problems"), dir)
		if err := fixFolder(ctx, o, m, dir, tenant, name, !credentialWorks(res)); err != nil {
			return fmt.Errorf("doctor --fix: %w", err)
		}
		res.Fixed = true
		// Check again: the fixes must show.
		cfg, err = templates.Read(m, dir)
		if err != nil {
			return err
		}
		again, _, err := check(cfg)
		if err != nil {
			return err
		}
		again.Fixed = true
		res = again
		problems = res.problems()
	}
	var result error
	if problems > 0 {
		result = errFindings
	}
	if err := ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, res, exitCodeOf(ctx, result)); err != nil {
		return err
	}
	return result
}

// fixFolder runs the setup journey for the folder again, as init would with --yes and
// --no-verify: it converges on the same app, and renew makes a new credential.
func fixFolder(ctx context.Context, o *DoctorOptions, m *samples.Manifest, dir, tenant, name string, renew bool) error {
	if name == "" {
		name = wizard.DefaultName
	}
	if err := wizard.ValidateName(name); err != nil {
		return usagef("--name: %w", err)
	}
	prog := ui.NewProgress(o.IO, false)
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: tenant, Kind: m.TenantType, AuthMethod: o.Auth, Progress: prog, ConsentWhenGranting: true})
	if err != nil {
		return err
	}
	defer s.Close()
	req := journeyRequest(s, o.IO.Err, prog, m, name, dir)
	if renew {
		req.Renew = journey.RenewAlways
	}
	_, err = journey.Run(ctx, s.journey(), req)
	return journeyErr(err)
}

// problems counts the findings that are not OK.
func (r *DoctorResult) problems() int {
	n := 0
	for _, f := range r.Findings {
		if !f.OK {
			n++
		}
	}
	return n
}

func credentialWorks(r *DoctorResult) bool {
	for _, f := range r.Findings {
		if !f.OK && (f.Check == checkCredential || f.Check == "no secret expires within 14 days") {
			return false
		}
	}
	return true
}

// checkCredential is the name of doctor's check of the folder's credential.
const checkCredential = "the credential in the files works"

// doctorFix is the doctor --fix command line for the folder, against the same cloud and
// tenant: what every finding's fix names.
func doctorFix(g *GlobalOptions, dir, tenant string) string {
	args := []string{"entra-quickstart", "doctor", "--fix", "--dir", shellQuote(dir)}
	for _, t := range targetFlags(g, tenant) {
		args = append(args, shellQuote(t))
	}
	return strings.Join(args, " ")
}

// diagnose runs the checks; it returns the app's name (from its tag) for --fix.
// target is the flags that name the cloud and tenant, for the commands the fixes show; fix is
// the doctor --fix command for the folder.
func diagnose(ctx context.Context, s *session, m *samples.Manifest, dir string, cfg *templates.Config, target []string, fix string) (*DoctorResult, string, error) {
	res := &DoctorResult{Sample: m.ID, Folder: dir, ClientID: cfg.ClientID}
	add := func(check string, ok bool, problem, fix string) {
		f := Finding{Check: check, OK: ok}
		if !ok {
			f.Problem, f.Fix = problem, fix
		}
		res.Findings = append(res.Findings, f)
	}
	fixInit := fix + " (runs init for this folder again)"
	fixWith := func(what string) string { return fix + " (runs init for this folder again, which " + what + ")" }
	if !auth.IsGUID(cfg.ClientID) || len(strings.TrimSpace(cfg.ClientID)) != 36 {
		add("the client id is a GUID", false, fmt.Sprintf("the sample's configuration holds the client id %s, which is not a GUID", safetext.Line(strconv.Quote(cfg.ClientID))), fixInit)
		return res, "", nil
	}
	apps, err := s.Graph.ListApplications(ctx, graph.AppFilter{AppID: cfg.ClientID})
	if err != nil {
		return nil, "", err
	}
	if len(apps) == 0 {
		add("the client id exists", false, fmt.Sprintf("no app registration with client id %s in tenant %s (deleted, or another tenant)", cfg.ClientID, s.TenantID), fixInit)
		return res, "", nil
	}
	app := apps[0]
	add("the client id exists", true, "", "")
	listed, err := s.Engine.List(ctx, provision.Filter{Keep: func(l provision.Listed) bool { return strings.EqualFold(l.AppID, app.AppID) }})
	if err != nil {
		return nil, "", err
	}
	var l provision.Listed
	if len(listed) > 0 {
		l = listed[0]
	}
	// What the folder's files send, not what the manifest says: a hand edit of the files is what
	// breaks sign-in most often, and the app registration is what Entra checks it against.
	reinit := initCommand(m, dir, l.Name, target)
	for _, c := range []struct {
		check, value, want, field, effect string
	}{
		{"redirect URI " + cfg.RedirectURI + " is registered", cfg.RedirectURI, m.RedirectURI, m.ReadBack.Fields.RedirectURI,
			"sign-in fails with AADSTS50011"},
		{"post-logout redirect URI " + cfg.PostLogoutRedirectURI + " is registered", cfg.PostLogoutRedirectURI, m.PostLogoutRedirectURI, m.ReadBack.Fields.PostLogoutRedirectURI,
			"after sign-out Entra does not send the browser back to the sample"},
	} {
		if c.value == "" {
			continue // the sample sends none
		}
		ok := redirectRegistered(app.Web.RedirectURIs, c.value)
		problem, fix := "", ""
		if !ok {
			problem, fix = redirectFinding(m, cfg, app.Web.RedirectURIs, c.value, c.want, c.field, c.effect, reinit)
		}
		add(c.check, ok, problem, fix)
	}
	if m.FrontChannelLogoutURL != "" {
		add("front-channel logout URL", app.Web.LogoutURL == m.FrontChannelLogoutURL,
			fmt.Sprintf("the logout URL is %q, the sample serves %s", app.Web.LogoutURL, m.FrontChannelLogoutURL), fixInit)
	}
	// The credential: does a token come with what the files hold?
	probe := &provision.Result{AppID: cfg.ClientID, Secret: graph.Secret(cfg.ClientSecret)}
	if cfg.Certificate != nil {
		cert, key, err := templates.LoadPFX(cfg.Certificate.Path, cfg.Certificate.Password)
		if err != nil {
			add("the credential in the files works", false, "the certificate file does not load: "+err.Error(), fixInit)
		} else {
			probe.Certificate = &provision.Cert{Cert: cert, Key: key, Thumbprint: templates.Thumbprint(cert)}
		}
	}
	switch {
	case cfg.Certificate == nil && cfg.SecretMissingFrom != "":
		add(checkCredential, false, "the client secret is missing from "+cfg.SecretMissingFrom, fixWith("writes a new secret there"))
	case cfg.Certificate == nil && cfg.ClientSecret != "" && hasPlaceholder(m, cfg.ClientSecret):
		add(checkCredential, false, "the client secret in the files is still the sample's placeholder", fixWith("writes a new secret"))
	case probe.Secret != "" || probe.Certificate != nil:
		ok, reason, err := provision.Probe(ctx, provision.ReadyConfig{TokenURL: s.Cloud.TokenURL(s.TenantID), HTTPClient: s.Cloud.HTTPClient()}, probe)
		problem := "no token with it: " + reason
		if err != nil {
			problem = "no token with it: " + err.Error()
		}
		if !ok && probe.Secret != "" {
			problem = secretProblem(app.Passwords, cfg.ClientSecret, problem, time.Now())
		}
		add(checkCredential, ok, problem, fixInit)
	}
	soon := time.Now().Add(14 * 24 * time.Hour)
	expiring := ""
	for _, p := range l.Secrets {
		if p.End.Before(soon) {
			expiring = p.End.UTC().Format(time.DateOnly)
		}
	}
	add("no secret expires within 14 days", expiring == "", "a client secret expires on "+expiring, fixWith("makes a new secret and retires the old one"))
	add("service principal", l.ServicePrincipalID != "", "the app has no service principal in the tenant (sign-in fails with AADSTS700016)", fixInit)
	missing := []string{}
	for _, sc := range append(provision.BaseScopes(), m.GraphScopes...) {
		if !slices.ContainsFunc(strings.Fields(l.Consent), func(x string) bool { return strings.EqualFold(x, sc) }) {
			missing = append(missing, sc)
		}
	}
	missing = slices.Compact(missing)
	add("admin consent", len(missing) == 0, "no admin consent for "+strings.Join(missing, " ")+" (users see a consent prompt; External ID customers cannot consent: AADSTS90094)", fixInit)
	if m.TenantType == samples.External {
		add("linked to a user flow", l.UserFlowID != "", "the app is not in a sign-up/sign-in user flow: customers cannot sign up", fixInit)
	}
	return res, l.Name, nil
}

// hasPlaceholder reports whether a value is still one of the sample's placeholders.
func hasPlaceholder(m *samples.Manifest, v string) bool {
	_, has := m.HasPlaceholder(v)
	return has
}

// secretProblem says why the folder's secret gets no token. Entra answers a wrong secret and a
// new one that has not replicated yet alike (AADSTS7000215, facts/identity.md §4), so the
// answer alone cannot tell them apart; the app's secrets can: Graph shows each one's first three
// characters (hint) and when it was made (facts/graph.md). No secret of the app starts like
// the folder's: it is not one the app has. One does and was made minutes ago: it may still be
// on its way. Otherwise the answer is said as it came.
func secretProblem(passwords []graph.PasswordCredential, secret, answer string, now time.Time) string {
	if len(secret) < 3 {
		return "this secret is not one the app has (it is too short to be a client secret)"
	}
	var match *graph.PasswordCredential
	for i, p := range passwords {
		if p.Hint != "" && p.Hint == secret[:3] {
			match = &passwords[i]
		}
	}
	switch {
	case match == nil && len(passwords) == 0:
		return "this secret is not one the app has (the app has no client secret)"
	case match == nil && len(passwords) == 1:
		return "this secret is not one the app has (its one client secret starts with other characters)"
	case match == nil:
		return fmt.Sprintf("this secret is not one the app has (none of its %d client secrets starts with the same characters)", len(passwords))
	case !match.Start.IsZero() && now.Sub(match.Start) < 5*time.Minute:
		return "the app got this secret at " + match.Start.UTC().Format("15:04 MST") + " and it does not work yet: a new secret can take a few minutes to reach the sign-in service; check again shortly (" + answer + ")"
	case !match.End.IsZero() && now.After(match.End):
		return "this secret expired on " + match.End.UTC().Format(time.DateOnly)
	}
	return answer
}

// redirectRegistered reports whether Entra accepts uri against the registered web redirect URIs.
// Its rule (facts/identity.md §2.1, the one the emulator applies): scheme and host compared
// without case, the path with case, the query exactly; http only for a loopback host, whose port
// is ignored (localhost and 127.0.0.1 still differ); a URI without a path is the one with "/".
// The emulator has its own copy on purpose: it stands in for Entra, so it must not share the
// code it checks.
func redirectRegistered(registered []string, uri string) bool {
	return slices.ContainsFunc(registered, func(r string) bool { return redirectMatches(r, uri) })
}

func redirectMatches(registered, requested string) bool {
	reg, err1 := url.Parse(registered)
	req, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || req.Fragment != "" || req.User != nil {
		return false
	}
	if !strings.EqualFold(reg.Scheme, req.Scheme) || !strings.EqualFold(reg.Hostname(), req.Hostname()) {
		return false
	}
	host := strings.ToLower(req.Hostname())
	loopback := host == "localhost" || host == "127.0.0.1"
	if strings.EqualFold(req.Scheme, "http") && !loopback {
		return false
	}
	if !loopback && portOf(reg) != portOf(req) {
		return false
	}
	return pathOf(reg) == pathOf(req) && reg.RawQuery == req.RawQuery
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

func pathOf(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// redirectFinding says what is wrong with a redirect URI the folder sends and the app does not
// register, and how to fix it. When the files hold the sample's own value, the app lost it and
// init registers it again; when they hold another, the files were edited: init writes the
// sample's value back where it writes that key, else the person edits the file (or registers
// their value).
func redirectFinding(m *samples.Manifest, cfg *templates.Config, registered []string, value, want, field, effect, reinit string) (problem, fix string) {
	has := "it has none"
	if len(registered) > 0 {
		has = "it has " + strings.Join(registered, ", ")
	}
	keys := readKeys(field)
	if len(keys) == 0 {
		// The sample's code fixes the value: only the registration can be wrong.
		problem = fmt.Sprintf("the sample uses %s, which the app does not list under Authentication > Web > Redirect URIs (%s): %s", value, has, effect)
		return problem, fmt.Sprintf("run '%s': it registers %s on the app again", reinit, value)
	}
	file, key := sourceOf(cfg, keys), strings.Join(keys, " and ")
	problem = fmt.Sprintf("%s in %s gives %s, which the app does not list under Authentication > Web > Redirect URIs (%s): %s", key, file, value, has, effect)
	switch {
	case want == "" || redirectMatches(want, value):
		return problem, fmt.Sprintf("run '%s': it registers %s on the app again", reinit, value)
	case initWrites(m, keys):
		return problem, fmt.Sprintf("run '%s': it writes the sample's %s back, giving %s (or edit %s in %s yourself; to keep %s, add it to the app's web redirect URIs instead)",
			reinit, key, want, key, file, value)
	default:
		// init leaves this key to the sample (a default it ships): only an edit puts it back.
		return problem, fmt.Sprintf("edit %s in %s so that it gives %s, the URI the app registers (or, to keep %s, add it to the app's web redirect URIs)", key, file, want, value)
	}
}

// initWrites reports whether init writes one of the configuration keys (read-back keys are
// "A:B", the files' JSON keys "/A/B"; ASP.NET Core ignores their case).
func initWrites(m *samples.Manifest, keys []string) bool {
	norm := func(k string) string {
		return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "/"), "/", ":"))
	}
	for _, f := range m.Files {
		for _, v := range f.Values {
			if v.Remove {
				continue
			}
			for _, k := range keys {
				if norm(v.Key) == norm(k) {
					return true
				}
			}
		}
	}
	return false
}

// readKeyRE finds the configuration keys a read-back field takes its value from.
var readKeyRE = regexp.MustCompile(`get "([^"]+)"`)

func readKeys(field string) []string {
	var keys []string
	for _, m := range readKeyRE.FindAllStringSubmatch(field, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// sourceOf names the file, relative to the folder, that sets a key: the first in the sample's
// precedence order that mentions it (a nested JSON key by its last part), else the first read.
func sourceOf(cfg *templates.Config, keys []string) string {
	rel := func(p string) string {
		if r, err := filepath.Rel(cfg.Dir, p); err == nil {
			return r
		}
		return p
	}
	for _, p := range cfg.Sources {
		b, _, err := atomicfile.ReadFile(p)
		if err != nil {
			continue
		}
		for _, k := range keys {
			if i := strings.LastIndex(k, ":"); i >= 0 {
				k = k[i+1:]
			}
			if strings.Contains(string(b), k) {
				return rel(p)
			}
		}
	}
	if len(cfg.Sources) > 0 {
		return rel(cfg.Sources[0])
	}
	return "the sample's configuration"
}

// targetFlags are the flags that name the cloud and tenant doctor ran against.
func targetFlags(g *GlobalOptions, tenant string) []string {
	var f []string
	switch {
	case g.Emulator:
		f = append(f, "--emulator")
	case g.EmulatorURL != "":
		f = append(f, "--emulator-url", g.EmulatorURL, "--ca-file", g.CAFile)
	case g.Cloud != "" && g.Cloud != "public":
		f = append(f, "--cloud", g.Cloud)
	}
	if tenant != "" {
		f = append(f, "--tenant", tenant)
	}
	return f
}

// initCommand is the init command line that applies the folder's configuration again: the same
// sample, folder, app name and tenant.
func initCommand(m *samples.Manifest, dir, name string, target []string) string {
	args := []string{"entra-quickstart", "init", "--sample", m.ID, "--dir", shellQuote(dir)}
	if name != "" && name != wizard.DefaultName {
		args = append(args, "--name", shellQuote(name))
	}
	for _, t := range target {
		args = append(args, shellQuote(t))
	}
	return strings.Join(args, " ")
}

// Print lists the findings, each problem with its fix.
func (r *DoctorResult) Print(w io.Writer, st ui.Styles) {
	fmt.Fprintf(w, "%s in %s (client id %s)\n", r.Sample, r.Folder, r.ClientID)
	for _, f := range r.Findings {
		if f.OK {
			fmt.Fprintf(w, "  %s %s\n", st.OK.Render(ui.MarkOK), f.Check)
			continue
		}
		fmt.Fprintf(w, "  %s %s: %s\n      fix: %s\n", st.Fail.Render(ui.MarkFail), f.Check, safetext.Text(f.Problem), safetext.Text(f.Fix))
	}
}
