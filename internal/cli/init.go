package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// InitOptions are the flags of init: one per question of the wizard, and what to do after.
type InitOptions struct {
	*GlobalOptions
	TenantType     string
	Sample         string
	Name           string
	Credential     string
	SecretLifetime time.Duration
	Dir            string
	Download       bool
	DryRun         bool
	NoVerify       bool
	NoBrowser      bool
	ShowSecret     bool
	Yes            bool
	AutoSignIn     bool
	Auth           string
	UserFlow       string
	Timeout        time.Duration

	// renew makes a new credential even when the files seem to hold a working one (doctor
	// --fix, when they do not).
	renew bool
}

func newInitCmd(g *GlobalOptions) *cobra.Command {
	o := &InitOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Register an app for a sample, write its configuration and prove a real sign-in works",
		Long: `init takes you from a tenant to a sample web app that signs you in:

  1. asks for what the flags did not say: the tenant type, the sample, the tenant, a name for
     the app, the credential and where the sample is;
  2. signs you in to Microsoft Graph and shows the plan: what it will create or change;
  3. creates or updates the app registration (redirect and logout URIs, Graph permissions,
     admin consent, a client secret or certificate, and for External ID the user-flow link);
  4. writes the sample's configuration files (comments and layout kept, secrets only in
     git-ignored files with mode 0600, the original kept once as .bak);
  5. waits until the new credential works, then runs a real sign-in through a built-in web
     server at the sample's redirect URI, calls Graph /me, signs out, and checks every step.

Running it again with the same sample and name updates the same app: no duplicates.
The client secret's default lifetime is 30 days (a dev tool's secret should not outlive the
demo); change it with --secret-lifetime. The secret is never printed unless --show-secret.`,
		Example: `  # the whole journey against the built-in emulator, no tenant needed
  entra-quickstart init --emulator --sample node-workforce --auto-sign-in

  # a workforce tenant, asking only what is missing
  entra-quickstart init --tenant contoso.onmicrosoft.com

  # an External ID tenant, no prompts, config written into an existing checkout
  entra-quickstart init --no-input --sample flask-external --tenant contosocustomers.onmicrosoft.com \
      --name demo --dir ./ms-identity-docs-code-python/flask-web-app --yes

  # what would change, without changing anything
  entra-quickstart init --sample node-workforce --tenant contoso.onmicrosoft.com --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(cmd.Context(), o) },
	}
	addInitFlags(cmd, o)
	return cmd
}

func addInitFlags(cmd *cobra.Command, o *InitOptions) {
	f := cmd.Flags()
	f.StringVar(&o.TenantType, "tenant-type", "", "workforce (your organization's people) or external (External ID: customers)")
	f.StringVar(&o.Sample, "sample", "", "the sample: "+sampleIDs())
	f.StringVar(&o.Name, "name", "", "a name for this app; the same name again updates the same app (default \""+wizard.DefaultName+"\")")
	f.StringVar(&o.Credential, "credential", "", "secret or certificate (certificate only where the sample supports it; default: the sample's)")
	f.DurationVar(&o.SecretLifetime, "secret-lifetime", 0, "lifetime of a new client secret, e.g. 720h (default 30 days)")
	f.StringVar(&o.Dir, "dir", "", "the sample's folder (found from the current folder when not given), or where to download or write config")
	f.BoolVar(&o.Download, "download", false, "download the sample from GitHub into --dir (default ./<repository name>)")
	f.BoolVar(&o.DryRun, "dry-run", false, "show the plan and change nothing")
	f.BoolVar(&o.NoVerify, "no-verify", false, "skip the sign-in check at the end")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.BoolVar(&o.ShowSecret, "show-secret", false, "print the new client secret (it is in the sample's git-ignored config either way)")
	f.BoolVar(&o.Yes, "yes", false, "apply the plan without asking")
	f.BoolVar(&o.AutoSignIn, "auto-sign-in", false, "emulator only: sign the emulator's demo user in without a browser")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment (AZURE_CLIENT_ID/SECRET/TENANT_ID)")
	f.StringVar(&o.UserFlow, "user-flow", "", "External ID: the sign-up/sign-in user flow to link (name or id; default the only or first one, created when there is none)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long the sign-in check waits for you in the browser")
}

// InitResult is what init did, as --json prints it.
type InitResult struct {
	// OK and ExitCode are the verdict, as verify --json gives them: OK when the configuration
	// was written and the sign-in check passed or was skipped; ExitCode is the process's.
	OK       bool `json:"ok"`
	ExitCode int  `json:"exit_code"`
	// SignInCheck is passed, failed, timeout, interrupted or skipped (--no-verify); empty for a
	// dry run. SignInCheckFailure says in one line where it failed and what to do.
	SignInCheck        string `json:"sign_in_check,omitempty"`
	SignInCheckFailure string `json:"sign_in_check_failure,omitempty"`
	// Next are the commands to run next: the check (again), and doctor when it failed.
	Next []string `json:"next,omitempty"`

	Sample             string       `json:"sample"`
	TenantID           string       `json:"tenant_id"`
	TenantDomain       string       `json:"tenant_domain"`
	TenantType         string       `json:"tenant_type"`
	DisplayName        string       `json:"display_name"`
	UniqueName         string       `json:"unique_name"`
	ClientID           string       `json:"client_id"`
	ObjectID           string       `json:"object_id"`
	ServicePrincipalID string       `json:"service_principal_id"`
	UserFlowID         string       `json:"user_flow_id,omitempty"`
	Credential         string       `json:"credential"`
	SecretExpires      *time.Time   `json:"secret_expires,omitempty"`
	ClientSecret       string       `json:"client_secret,omitempty"` // only with --show-secret
	Thumbprint         string       `json:"certificate_thumbprint,omitempty"`
	Created            bool         `json:"created"`
	Actions            []string     `json:"actions"`
	DryRun             bool         `json:"dry_run,omitempty"`
	Plan               []planAction `json:"plan,omitempty"`
	Folder             string       `json:"folder,omitempty"`
	// ConfigOnly: Folder holds the config files alone, to copy into the sample (Run says how).
	ConfigOnly bool         `json:"config_only,omitempty"`
	Files      []fileResult `json:"files,omitempty"`
	Warnings   []string     `json:"warnings,omitempty"`
	Run        []string     `json:"run,omitempty"`
	Verify     *checkReport `json:"verify,omitempty"`
}

// checkReport is the sign-in check's report in init's result, with the verdict verify --json
// adds to it (ok, exit_code), so a script reads both the same way.
type checkReport struct {
	Passed bool `json:"ok"`
	Exit   int  `json:"exit_code"`
	verify.Report
}

type planAction struct {
	Kind    string             `json:"kind"`
	Summary string             `json:"summary"`
	Changes []provision.Change `json:"changes,omitempty"`
}

type fileResult struct {
	Path   string `json:"path"`
	Action string `json:"action"`
	Backup string `json:"backup,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

func runInit(ctx context.Context, o *InitOptions) error {
	prog := ui.NewProgress(o.IO, false)
	if o.AutoSignIn && !o.Emulator && o.EmulatorURL == "" {
		return usagef("--auto-sign-in signs the emulator's demo user in; it is refused for a real cloud, where you sign in yourself")
	}
	if o.SecretLifetime < 0 || o.SecretLifetime > provision.MaxSecretLifetime {
		return usagef("--secret-lifetime %s: give a duration up to %s, e.g. 720h", o.SecretLifetime, provision.MaxSecretLifetime)
	}
	a, m, err := o.answers(ctx)
	if err != nil {
		return err
	}
	kind := provision.TenantType(a.TenantType)
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: a.Tenant, Kind: kind, AuthMethod: o.Auth, Progress: prog, AutoSignIn: o.AutoSignIn})
	if err != nil {
		return err
	}
	defer s.Close()

	// Where the files go, checked before anything is created: a wrong folder costs nothing.
	loc, err := o.location(a, m)
	if err != nil {
		return err
	}
	// One run at a time per folder and per app registration (lock.go); a dry run changes nothing.
	if !o.DryRun {
		release, err := lockRun(loc.dir, s.cloudKey()+"|"+s.TenantID+"|"+provision.UniqueName(m.ID, a.Name))
		if err != nil {
			return err
		}
		defer release()
	}
	rec, err := s.State.Load(ctx)
	if err != nil {
		return err
	}
	uniqueName := provision.UniqueName(m.ID, a.Name)
	prev := rec.Find(s.cloudKey(), s.TenantID, uniqueName)
	keyDir, err := configDir()
	if err != nil {
		return err
	}
	spec, err := provision.SpecFor(m, provision.Answers{
		Name:         a.Name,
		TenantID:     s.TenantID,
		Credential:   provision.CredentialKind(a.Credential),
		Lifetime:     o.SecretLifetime,
		Renew:        o.renew || needsRenew(prev, m, loc.dir),
		CurrentKeyID: currentKeyID(prev),
		KeyFile:      filepath.Join(keyDir, "keys", uniqueName+".pem"),
		UserFlow:     userFlowSpec(o.UserFlow),
	})
	if err != nil {
		return usageError{err}
	}

	plan, err := s.Engine.Plan(ctx, spec)
	if err != nil {
		return err
	}
	res := &InitResult{OK: true, Sample: m.ID, TenantID: plan.Tenant.ID, TenantDomain: plan.Tenant.Domain, TenantType: string(plan.Tenant.Type),
		DisplayName: spec.DisplayName, UniqueName: spec.UniqueName, Credential: string(spec.Credential.Kind), Folder: loc.dir, ConfigOnly: loc.configOnly}
	for _, act := range plan.Actions {
		res.Plan = append(res.Plan, planAction{Kind: string(act.Kind), Summary: act.Summary, Changes: act.Changes})
	}
	fmt.Fprintf(o.IO.Err, "\n%s\n", plan.String())
	if o.DryRun {
		res.DryRun = true
		fmt.Fprintf(o.IO.Err, "Dry run: nothing was changed. The configuration would go to %s.\n", loc.dir)
		return o.printResult(res)
	}
	if !plan.Empty() && !o.Yes && !o.NoInput {
		if err := o.confirm(ctx, "Apply this plan?", "",
			usagef("the plan needs a confirmation: pass --yes to apply it without asking"),
			errors.New("nothing was changed: you did not confirm the plan")); err != nil {
			return err
		}
	}

	result, err := s.Engine.Apply(ctx, plan)
	if err != nil {
		return fmt.Errorf("%w\nRun the same command again: it picks up where this one stopped and makes no duplicate", err)
	}
	res.ClientID, res.ObjectID, res.ServicePrincipalID, res.UserFlowID = result.AppID, result.ObjectID, result.ServicePrincipalID, result.UserFlowID
	res.Created = result.Created
	res.Actions = inPlanOrder(plan, result.Actions) // parallel steps finish in any order
	if result.Secret != "" {
		exp := result.SecretExpires
		res.SecretExpires = &exp
		if o.ShowSecret {
			res.ClientSecret = result.Secret.Reveal()
		}
	}
	if result.Certificate != nil {
		res.Thumbprint = result.Certificate.Thumbprint
	}

	// Recorded at once: a failure below must not leave an app that reset calls someone else's.
	if err := recordApp(ctx, s, result, m.ID, a.Name, loc.dir, prev, nil, false); err != nil {
		return err
	}

	// The sample's files.
	if loc.download {
		if err := o.download(ctx, m, loc.dir, prog); err != nil {
			return err
		}
	}
	if loc.configOnly {
		if err := os.MkdirAll(loc.dir, 0o755); err != nil {
			return fmt.Errorf("the output folder %s: %w; pick another with --dir and run again", loc.dir, err)
		}
	}
	written, err := o.writeConfig(ctx, s, m, loc.dir, result, prog)
	if err != nil {
		return err
	}
	for _, f := range written.Files {
		res.Files = append(res.Files, fileResult{Path: f.Path, Action: string(f.Action), Backup: f.Backup, Secret: f.Secret})
	}
	res.Warnings = written.Warnings
	for _, w := range written.Warnings {
		prog.Warn("%s", w)
	}
	if err := recordApp(ctx, s, result, m.ID, a.Name, loc.dir, prev, written.Created(), true); err != nil {
		return err
	}

	// The new credential must work before anyone signs in with it.
	if result.Secret != "" || result.Certificate != nil {
		if err := o.waitReady(ctx, s, plan.Tenant, result, prog); err != nil {
			return err
		}
		if err := s.Engine.Retire(ctx, result); err != nil {
			prog.Warn("could not remove older client secrets (%v); 'entra-quickstart doctor' lists them", err)
		}
	}
	res.Run = runCommands(m, loc, samples.CredentialKind(result.Credential))

	if o.NoVerify {
		res.SignInCheck = "skipped"
		res.Next = []string{o.nextCommand("verify", loc.dir)}
		return o.printResult(res)
	}
	rep, err := runSignInCheck(ctx, signInCheck{g: o.GlobalOptions, t: s.target, m: m, dir: loc.dir,
		noBrowser: o.NoBrowser, autoSignIn: o.AutoSignIn, timeout: o.Timeout, prog: prog})
	if len(rep.Steps) > 0 {
		res.Verify = &checkReport{Passed: rep.OK(), Exit: rep.ExitCode(), Report: rep}
	}
	if err == nil {
		res.SignInCheck = "passed"
		return o.printResult(res)
	}
	// The app and the files are in place: the result says so, and what to run once fixed.
	res.OK, res.ExitCode = false, exitCodeOf(ctx, err)
	res.SignInCheck, res.SignInCheckFailure = checkFailure(rep, err)
	res.Next = []string{o.nextCommand("verify", loc.dir), o.nextCommand("doctor", loc.dir)}
	_ = o.printResult(res)
	return err
}

// exitCodeOf is the exit code Main gives err.
func exitCodeOf(ctx context.Context, err error) int {
	var u usageError
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &u):
		return ExitUsage
	}
	return ExitError
}

// checkFailure names how the sign-in check ended (failed, timeout, interrupted) and says in
// one line where it failed and what to do: the failed step, its diagnosis and fix.
func checkFailure(rep verify.Report, err error) (outcome, line string) {
	outcome = rep.Outcome
	if outcome == "" || outcome == "passed" {
		outcome = "failed" // it could not start, or a step failed after all
	}
	f := rep.FirstFailure()
	switch {
	case f != nil && f.Diagnosis != nil:
		line = f.Title + ": " + strings.TrimSuffix(f.Diagnosis.Title, ".") + ". " + f.Diagnosis.Fix
	case f != nil && f.Detail != "":
		line = f.Title + ": " + f.Detail
	default:
		line = err.Error()
	}
	return outcome, strings.Join(strings.Fields(line), " ")
}

// nextCommand is an entra-quickstart command (verify, doctor) for the folder, against the same
// cloud or emulator as this run.
func (o *InitOptions) nextCommand(cmd, dir string) string {
	c := "entra-quickstart " + cmd + " --dir " + shellQuote(dir)
	switch {
	case o.Emulator:
		c += " --emulator"
	case o.EmulatorURL != "":
		c += " --emulator-url " + shellQuote(o.EmulatorURL) + " --ca-file " + shellQuote(o.CAFile)
	case o.Cloud != "" && o.Cloud != "public":
		c += " --cloud " + shellQuote(o.Cloud)
	}
	if cmd == "verify" && o.AutoSignIn {
		c += " --auto-sign-in"
	}
	return c
}

// inPlanOrder lists the kinds done in the order the plan lists them, then any others.
func inPlanOrder(p *provision.Plan, done []provision.ActionKind) []string {
	out := []string{}
	seen := map[provision.ActionKind]bool{}
	for _, a := range p.Actions {
		if !seen[a.Kind] && slices.Contains(done, a.Kind) {
			out = append(out, string(a.Kind))
			seen[a.Kind] = true
		}
	}
	for _, k := range done {
		if !seen[k] {
			out = append(out, string(k))
			seen[k] = true
		}
	}
	return out
}

// answers fills the answers from flags, asks for the rest when a person is there, and looks up
// the sample.
func (o *InitOptions) answers(ctx context.Context) (wizard.Answers, *samples.Manifest, error) {
	a := wizard.Answers{TenantType: samples.TenantType(strings.ToLower(o.TenantType)), Sample: o.Sample, Tenant: o.Tenant, Name: o.Name,
		Credential: samples.CredentialKind(strings.ToLower(o.Credential))}
	switch a.TenantType {
	case "", samples.Workforce, samples.External:
	default:
		return a, nil, usagef("--tenant-type %q: use workforce or external", o.TenantType)
	}
	if a.Sample != "" {
		m, err := samples.Lookup(a.Sample)
		if err != nil {
			return a, nil, usageError{err}
		}
		if a.TenantType != "" && a.TenantType != m.TenantType {
			return a, nil, usagef("--sample %s is for a %s tenant, not %s: pick a %s sample or change --tenant-type", m.ID, m.TenantType, a.TenantType, a.TenantType)
		}
		a.TenantType = m.TenantType
	}
	if a.Name != "" {
		if err := wizard.ValidateName(a.Name); err != nil {
			return a, nil, usagef("--name: %w", err)
		}
	}
	if a.Tenant != "" {
		if err := auth.ValidateTenant(a.Tenant); err != nil {
			return a, nil, usageError{fmt.Errorf("--tenant: %w", err)}
		}
	}
	// Against the emulator the tenant has a default; the name has one everywhere.
	emulated := o.Emulator || o.EmulatorURL != ""
	if o.Download || o.Dir != "" {
		a.Location = wizard.LocationExisting // decided by location(), not asked
	}
	if o.canPrompt() {
		st := ui.NewStyles(o.IO.Color)
		target := "your tenant"
		if emulated {
			target = "the built-in emulator"
		}
		fmt.Fprintf(o.IO.Err, "%s  %s\n\n", st.Title.Render("entra-quickstart"),
			st.Muted.Render("register an app, configure the sample, prove the sign-in · "+target))
		wo := o.wizardOptions()
		wo.NoTenantQuestion = emulated // the emulator's tenant of the chosen kind
		wo.FindSample = func(m *samples.Manifest) string {
			d, err := samples.Locate("", m)
			if err != nil {
				return ""
			}
			return d
		}
		var err error
		if a, err = wizard.Ask(ctx, a, wo); err != nil {
			if errors.Is(err, wizard.ErrInputEnded) {
				return a, nil, usageError{err}
			}
			return a, nil, err
		}
		if a.Location == wizard.LocationDownload {
			o.Download = true
		}
		if a.Dir != "" && o.Dir == "" {
			o.Dir = a.Dir
		}
	} else {
		if a.Name == "" {
			a.Name = wizard.DefaultName
		}
		if a.Sample == "" {
			return a, nil, o.missing("--sample", "one of "+sampleIDs())
		}
		if a.Tenant == "" && !emulated {
			return a, nil, o.missing("--tenant", "the tenant's id or domain")
		}
	}
	m, err := samples.Lookup(a.Sample)
	if err != nil {
		return a, nil, usageError{err}
	}
	if a.Credential == "" {
		a.Credential = m.DefaultCredential()
	}
	if !m.Supports(a.Credential) {
		return a, nil, usagef("--credential %s: the sample %s supports %v", a.Credential, m.ID, m.Credentials)
	}
	return a, m, nil
}

// missing is the usage error for an answer that no flag gave and no prompt may ask: with
// --no-input, or without a terminal, where flags double as prompts no more; --accessible then
// asks line by line on stdin.
func (o *InitOptions) missing(flag, what string) error {
	if o.NoInput {
		return usagef("%s is required with --no-input: %s", flag, what)
	}
	return usagef("%s is required without a terminal: %s; or pass --accessible to answer the questions line by line from stdin", flag, what)
}

func (o *InitOptions) canPrompt() bool {
	return !o.NoInput && (o.IO.Interactive() || o.Accessible)
}

// sampleLocation is where the sample is and what to do there.
type sampleLocation struct {
	dir        string
	existing   bool // a checkout of the sample
	download   bool // to download into dir first
	configOnly bool // an output folder for the config files alone
}

// location decides where the configuration goes: --download into --dir (default ./<repo>); a
// --dir that holds the sample (or the current folder when it does); else config-only output
// into --dir (default ./entra-quickstart-<sample>).
func (o *InitOptions) location(a wizard.Answers, m *samples.Manifest) (sampleLocation, error) {
	abs := func(p string) (string, error) {
		d, err := filepath.Abs(p)
		if err != nil {
			return "", usagef("--dir %s: %w", p, err)
		}
		return d, nil
	}
	if o.Download {
		d := o.Dir
		if d == "" {
			d = wizard.DefaultDownloadDir(m)
		}
		d, err := abs(d)
		if err != nil {
			return sampleLocation{}, err
		}
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			if found, err := samples.Locate(d, m); err == nil {
				// Already downloaded: configure it in place.
				return sampleLocation{dir: found, existing: true}, nil
			}
			return sampleLocation{}, usagef("--download into %s: the folder is not empty and holds no copy of %s; pick an empty or new folder with --dir", d, m.ID)
		}
		return sampleLocation{dir: d, download: true}, nil
	}
	if o.Dir != "" {
		d, err := abs(o.Dir)
		if err != nil {
			return sampleLocation{}, err
		}
		found, err := samples.Locate(d, m)
		switch {
		case err == nil:
			return sampleLocation{dir: found, existing: true}, nil
		case !errors.Is(err, samples.ErrNotSample) && !errors.Is(err, os.ErrNotExist):
			return sampleLocation{}, usageError{err}
		case emptyOrMissing(d):
			return sampleLocation{dir: d, configOnly: true}, nil
		}
		if _, rerr := templates.Read(m, d); rerr == nil || errors.Is(rerr, templates.ErrNotConfigured) && holdsOurFiles(m, d) {
			return sampleLocation{dir: d, configOnly: true}, nil // config-only output of an earlier run
		}
		return sampleLocation{}, usageError{fmt.Errorf("--dir %s: %w", d, err)}
	}
	if found, err := samples.Locate("", m); err == nil {
		return sampleLocation{dir: found, existing: true}, nil
	}
	d, err := abs(wizard.DefaultConfigDir(m))
	if err != nil {
		return sampleLocation{}, err
	}
	return sampleLocation{dir: d, configOnly: true}, nil
}

// holdsOurFiles reports whether every file in dir is one the sample's config consists of (an
// earlier config-only output, perhaps half restored).
func holdsOurFiles(m *samples.Manifest, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	ours := map[string]bool{".gitignore": true}
	for _, f := range m.Files {
		ours[filepath.Base(filepath.FromSlash(f.Path))] = true
		ours[filepath.Base(filepath.FromSlash(f.Path))+".bak"] = true
	}
	for _, e := range entries {
		if !ours[e.Name()] {
			return false
		}
	}
	return true
}

func emptyOrMissing(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Is(err, os.ErrNotExist) // a file is neither: refused before anything is made
	}
	return len(entries) == 0
}

func (o *InitOptions) download(ctx context.Context, m *samples.Manifest, dir string, prog *ui.Progress) error {
	step := "download the sample from GitHub"
	prog.Start(step)
	last := ""
	_, err := samples.Download(ctx, m, dir, samples.DownloadOptions{Progress: func(p samples.Progress) {
		if p.Phase != last {
			last = p.Phase
			prog.Note("%s…", p.Phase)
		}
	}})
	if err != nil {
		prog.Fail(step, err)
		return err
	}
	prog.Done(step, dir)
	return nil
}

// writeConfig writes the sample's files with the new ids and credential. When this run kept the
// existing credential, the one the files hold already is written back unchanged.
func (o *InitOptions) writeConfig(ctx context.Context, s *session, m *samples.Manifest, dir string, r *provision.Result, prog *ui.Progress) (*templates.Result, error) {
	step := "write the sample's configuration"
	prog.Start(step)
	v := templates.Values{
		TenantID: r.Tenant.ID, TenantDomain: r.Tenant.Domain, TenantSubdomain: r.Tenant.Subdomain,
		ClientID:  r.AppID,
		LoginBase: s.Cloud.LoginBase, CIAMBase: s.Cloud.CIAMBase(r.Tenant.Subdomain), GraphBase: s.Cloud.GraphBase,
	}
	switch {
	case r.Secret != "":
		v.ClientSecret = r.Secret.Reveal()
	case r.Certificate != nil:
		v.Certificate = &templates.Certificate{Cert: r.Certificate.Cert, Key: r.Certificate.Key}
	default:
		// No new credential: keep the one the files hold.
		if cur, err := templates.Read(m, dir); err == nil {
			v.ClientSecret = cur.ClientSecret
			if cur.Certificate != nil {
				cert, key, err := templates.LoadPFX(cur.Certificate.Path, cur.Certificate.Password)
				if err == nil {
					v.Certificate = &templates.Certificate{Cert: cert, Key: key}
				}
			}
		}
	}
	w, err := templates.Write(ctx, m, dir, v, templates.Options{Credential: samples.CredentialKind(r.Credential)})
	if err != nil {
		prog.Fail(step, err)
		return nil, fmt.Errorf("%w\nThe app registration is in place; fix the folder and run the same command again", err)
	}
	prog.Done(step, dir)
	return w, nil
}

// recordApp puts the app in the local record: its ids, folder, the files init created there (so
// reset --restore-files removes only those) and the credential the folder holds: the new one
// once written, else the previous one.
func recordApp(ctx context.Context, s *session, result *provision.Result, sample, name, dir string, prev *state.App, created []string, written bool) error {
	return s.State.Update(ctx, func(r *state.Record) error {
		app := result.StateApp(s.cloudKey(), sample, name, dir)
		old := r.Find(app.Cloud, app.TenantID, app.UniqueName)
		if old == nil {
			old = prev
		}
		if old != nil {
			app.CreatedFiles = mergeFiles(old.CreatedFiles, created)
			if !written || (result.Secret == "" && result.Certificate == nil) {
				app.SecretKeyID, app.SecretExpires = old.SecretKeyID, old.SecretExpires
				app.CertificateThumbprint, app.CertificateKeyFile = old.CertificateThumbprint, old.CertificateKeyFile
			}
		} else {
			app.CreatedFiles = created
			if !written {
				app.SecretKeyID, app.SecretExpires, app.CertificateThumbprint = "", time.Time{}, ""
			}
		}
		r.Put(app, time.Now())
		return nil
	})
}

// needsRenew tells whether a new credential must be made: the local record knows none for this
// folder, or the folder's configuration does not hold this app.
func needsRenew(prev *state.App, m *samples.Manifest, dir string) bool {
	if prev == nil || prev.Folder != dir || (prev.SecretKeyID == "" && prev.CertificateThumbprint == "") {
		return true
	}
	cur, err := templates.Read(m, dir)
	if err != nil || !strings.EqualFold(cur.ClientID, prev.AppID) {
		return true
	}
	if prev.SecretKeyID != "" && !prev.SecretExpires.IsZero() && time.Until(prev.SecretExpires) < 7*24*time.Hour {
		return true // close to expiry: renew now rather than fail next week
	}
	return cur.ClientSecret == "" && cur.Certificate == nil
}

func currentKeyID(prev *state.App) string {
	if prev == nil {
		return ""
	}
	return prev.SecretKeyID
}

func userFlowSpec(flag string) provision.UserFlowSpec {
	u := provision.UserFlowSpec{CreateIfNone: true}
	if flag == "" {
		return u
	}
	if isGUID(flag) {
		u.ID = flag
	} else {
		u.Name = flag
	}
	return u
}

func mergeFiles(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range append(append([]string(nil), a...), b...) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func (o *InitOptions) waitReady(ctx context.Context, s *session, t provision.Tenant, r *provision.Result, prog *ui.Progress) error {
	step := "wait until the new credential works"
	prog.Start(step)
	// Poll where the sample will sign in: External ID apps at <subdomain>.ciamlogin.com.
	tokenURL := s.Cloud.TokenURL(t.ID)
	if t.Type == provision.External {
		tokenURL = provision.TokenURL(s.Cloud.CIAMBase(t.Subdomain), t.ID)
	}
	err := provision.WaitReady(ctx, provision.ReadyConfig{
		TokenURL:   tokenURL,
		HTTPClient: s.Cloud.HTTPClient(),
		Progress: func(ev provision.ReadyEvent) {
			if !ev.OK && ev.Reason != "" {
				prog.Note("not yet (%s), %s so far", ev.Reason, ev.Elapsed.Round(time.Second))
			}
		},
	}, r)
	if err != nil {
		prog.Fail(step, err)
		return err
	}
	prog.Done(step, "")
	return nil
}

// runCommands are the commands that run the sample, from the folder it is in. Config-only output
// has no sample beside it: first get the sample and copy the written files into its folder.
func runCommands(m *samples.Manifest, loc sampleLocation, cred samples.CredentialKind) []string {
	if !loc.configOnly {
		cmds := []string{"cd " + shellQuote(loc.dir)}
		cmds = append(cmds, m.Install...)
		return append(cmds, m.Run...)
	}
	sampleDir := path.Join(wizard.DefaultDownloadDir(m), m.Folder) // in a clone, which is named after the repository
	cmds := []string{"git clone --depth 1 --branch " + shellQuote(m.Branch) + " " + m.RepositoryURL()}
	seen := map[string]bool{}
	for _, f := range m.FilesFor(cred) {
		src := filepath.Join(loc.dir, filepath.FromSlash(f.Path))
		if _, err := os.Stat(src); err != nil || seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		cmds = append(cmds, "cp "+shellQuote(src)+" "+shellQuote(path.Join(sampleDir, f.Path)))
	}
	cmds = append(cmds, "cd "+shellQuote(sampleDir))
	cmds = append(cmds, m.Install...)
	return append(cmds, m.Run...)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '~' || r == ':' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printResult prints the summary to stderr and, with --json, the result to stdout.
func (o *InitOptions) printResult(r *InitResult) error {
	if o.JSON {
		return writeJSON(o.IO.Out, r)
	}
	printInitSummary(o.IO.Out, ui.NewStyles(false), r, o.ShowSecret)
	return nil
}

func printInitSummary(w io.Writer, st ui.Styles, r *InitResult, showSecret bool) {
	if r.DryRun {
		return
	}
	fmt.Fprintln(w)
	switch r.SignInCheck {
	case "passed":
		fmt.Fprintln(w, st.Title.Render("Done. Sign-in check passed: the sample's configuration signs people in."))
	case "skipped":
		fmt.Fprintln(w, st.Title.Render("Done. The sign-in check was skipped (--no-verify)."))
		for _, c := range r.Next {
			fmt.Fprintf(w, "  Run it with: %s\n", st.Code.Render(c))
		}
	default:
		what := map[string]string{"timeout": "timed out", "interrupted": "was interrupted"}[r.SignInCheck]
		if what == "" {
			what = "failed"
		}
		fmt.Fprintln(w, st.Fail.Render("The configuration was written, but the sign-in check "+what+"."))
		fmt.Fprintf(w, "  %s\n", r.SignInCheckFailure)
		for i, c := range r.Next {
			lead := "Fix it, then check again: "
			if i > 0 {
				lead = "Or let doctor look:       "
			}
			fmt.Fprintf(w, "  %s%s\n", lead, st.Code.Render(c))
		}
	}
	fmt.Fprintln(w)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-22s %s\n", k, v)
		}
	}
	kv("app", r.DisplayName)
	kv("client id", r.ClientID)
	kv("tenant", r.TenantDomain+" ("+r.TenantID+")")
	kv("object id", r.ObjectID)
	kv("service principal id", r.ServicePrincipalID)
	kv("user flow", r.UserFlowID)
	switch {
	case r.ClientSecret != "" && showSecret:
		kv("client secret", r.ClientSecret)
	case r.SecretExpires != nil:
		kv("client secret", "in the sample's config (git-ignored), expires "+r.SecretExpires.Format(time.DateOnly))
	case r.Thumbprint != "":
		kv("certificate", "thumbprint "+r.Thumbprint)
	}
	if len(r.Files) > 0 {
		fmt.Fprintln(w, "\n  Files:")
		for _, f := range r.Files {
			fmt.Fprintf(w, "    %-9s %s\n", f.Action, f.Path)
		}
	}
	if r.ConfigOnly {
		fmt.Fprintf(w, "\n  The config files are in %s, not in the sample: copy them into its folder.\n", r.Folder)
		if m, err := samples.Lookup(r.Sample); err == nil {
			fmt.Fprintf(w, "  Get and run the sample (or download %s instead of git clone):\n", m.ArchiveURL(""))
		}
	} else if len(r.Run) > 0 {
		fmt.Fprintln(w, "\n  Run the sample:")
	}
	for _, c := range r.Run {
		fmt.Fprintf(w, "    %s\n", st.Code.Render(c))
	}
}
