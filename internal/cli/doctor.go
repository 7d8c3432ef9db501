package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
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
app registration in Graph: the client id exists, the redirect and front-channel logout URIs are
registered, the credential works and is not about to expire, the service principal and admin
consent are there, and for External ID the app is linked to a user flow. Each finding comes with
its fix; --fix applies them (it runs init for the folder again, which converges on one app).

Exit code 0 when it finds nothing, 1 otherwise.`,
		Example: `  entra-quickstart doctor --dir ./ms-identity-node/App
  entra-quickstart doctor --dir ./App --fix`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "the sample's folder")
	f.StringVar(&o.Sample, "sample", "", "the sample (default: recognised from the folder's files)")
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
	m, err := sampleInDir(o.Sample, dir)
	if err != nil {
		return err
	}
	cfg, err := templates.Read(m, dir)
	if err != nil {
		return fmt.Errorf("%w\nRun 'entra-quickstart init --dir %s' first", err, dir)
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
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: tenant, Kind: provision.TenantType(m.TenantType), AuthMethod: o.Auth, Progress: prog})
	if err != nil {
		return err
	}
	res, name, err := diagnose(ctx, s, m, dir, cfg)
	s.Close()
	if err != nil {
		return err
	}
	problems := 0
	for _, f := range res.Findings {
		if !f.OK {
			problems++
		}
	}
	if problems > 0 && o.Fix {
		fmt.Fprintf(o.IO.Err, "Fixing %d problem(s) by running init for %s again…\n", problems, dir)
		quiet := *o.IO
		quiet.Out = discard{} // init's own summary would mix with doctor's
		g := *o.GlobalOptions
		g.IO = &quiet
		g.JSON = false
		g.Tenant = tenant
		in := &InitOptions{GlobalOptions: &g, Sample: m.ID, Name: name, Dir: dir, NoVerify: true, Yes: true, Auth: o.Auth, Timeout: 5 * time.Minute,
			renew: !credentialWorks(res)}
		if err := runInit(ctx, in); err != nil {
			return fmt.Errorf("doctor --fix: %w", err)
		}
		res.Fixed = true
		// Check again: the fixes must show.
		cfg, err = templates.Read(m, dir)
		if err != nil {
			return err
		}
		s2, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: tenant, Kind: provision.TenantType(m.TenantType), AuthMethod: o.Auth, Progress: prog})
		if err != nil {
			return err
		}
		again, _, err := diagnose(ctx, s2, m, dir, cfg)
		s2.Close()
		if err != nil {
			return err
		}
		again.Fixed = true
		res = again
		problems = 0
		for _, f := range res.Findings {
			if !f.OK {
				problems++
			}
		}
	}
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printFindings(o.IO.Out, ui.NewStyles(false), res)
	}
	if problems > 0 {
		return errFindings
	}
	return nil
}

func credentialWorks(r *DoctorResult) bool {
	for _, f := range r.Findings {
		if !f.OK && (f.Check == "the credential in the files works" || f.Check == "no secret expires within 14 days") {
			return false
		}
	}
	return true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// diagnose runs the checks; it returns the app's name (from its tag) for --fix.
func diagnose(ctx context.Context, s *session, m *samples.Manifest, dir string, cfg *templates.Config) (*DoctorResult, string, error) {
	res := &DoctorResult{Sample: m.ID, Folder: dir, ClientID: cfg.ClientID}
	add := func(check string, ok bool, problem, fix string) {
		f := Finding{Check: check, OK: ok}
		if !ok {
			f.Problem, f.Fix = problem, fix
		}
		res.Findings = append(res.Findings, f)
	}
	fixInit := "entra-quickstart doctor --fix (runs init for this folder again)"
	apps, err := s.Graph.ListApplications(ctx, "appId eq '"+cfg.ClientID+"'")
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
	for _, u := range m.RedirectURIs {
		add("redirect URI "+u+" is registered", slices.Contains(app.Web.RedirectURIs, u),
			"the app does not list "+u+" under Authentication > Web > Redirect URIs (sign-in fails with AADSTS50011)", fixInit)
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
	if probe.Secret != "" || probe.Certificate != nil {
		ok, reason, err := provision.Probe(ctx, provision.ReadyConfig{TokenURL: s.Cloud.TokenURL(s.TenantID), HTTPClient: s.Cloud.HTTPClient()}, probe)
		problem := reason
		if err != nil {
			problem = err.Error()
		}
		add("the credential in the files works", ok, "no token with it: "+problem, fixInit)
	}
	soon := time.Now().Add(14 * 24 * time.Hour)
	expiring := ""
	for _, p := range l.Secrets {
		if p.End.Before(soon) {
			expiring = p.End.UTC().Format(time.DateOnly)
		}
	}
	add("no secret expires within 14 days", expiring == "", "a client secret expires on "+expiring, fixInit+" (makes a new secret and retires the old one)")
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

func printFindings(w io.Writer, st ui.Styles, r *DoctorResult) {
	fmt.Fprintf(w, "%s in %s (client id %s)\n", r.Sample, r.Folder, r.ClientID)
	for _, f := range r.Findings {
		if f.OK {
			fmt.Fprintf(w, "  %s %s\n", st.OK.Render(ui.MarkOK), f.Check)
			continue
		}
		fmt.Fprintf(w, "  %s %s: %s\n      fix: %s\n", st.Fail.Render(ui.MarkFail), f.Check, f.Problem, f.Fix)
	}
}
