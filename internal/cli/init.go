package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/journey"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// InitOptions are the flags of init: one per question of the wizard, and what to do after.
type InitOptions struct {
	*GlobalOptions
	TenantType     string
	Sample         string
	Name           string
	Credential     string
	SecretLifetime lifetime
	Dir            string
	Download       bool
	DryRun         bool
	NoVerify       bool
	NoBrowser      bool
	ShowSecret     bool
	Yes            bool
	Adopt          bool
	AutoSignIn     bool
	Auth           string
	UserFlow       string
	Timeout        time.Duration
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
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(cmd.Context(), o) },
	}
	addInitFlags(cmd, o)
	return cmd
}

func addInitFlags(cmd *cobra.Command, o *InitOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.TenantType, "tenant-type", "t", "", "workforce (your organization's people) or external (External ID: customers)")
	f.StringVarP(&o.Sample, "sample", "s", "", "the sample: "+sampleIDs())
	f.StringVar(&o.Name, "name", "", "a name for this app; the same name again updates the same app (default \""+wizard.DefaultName+"\")")
	f.StringVar(&o.Credential, "credential", "", "secret or certificate (certificate only where the sample supports it; default: the sample's)")
	f.Var(&o.SecretLifetime, "secret-lifetime", fmt.Sprintf("lifetime of a new client secret or certificate, in days (30d) or hours (720h), up to %dd (default 30d for a secret, 90d for a certificate)", maxLifetimeDays))
	f.StringVar(&o.Dir, "dir", "", "the sample's folder (found from the current folder when not given), or where to download or write config")
	f.BoolVar(&o.Download, "download", false, "download the sample from GitHub into --dir (default ./<repository name>)")
	f.BoolVar(&o.DryRun, "dry-run", false, "show the plan and change nothing")
	f.BoolVar(&o.NoVerify, "no-verify", false, "skip the sign-in check at the end")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	f.BoolVar(&o.ShowSecret, "show-secret", false, "print the new client secret (it is in the sample's git-ignored config either way)")
	f.BoolVarP(&o.Yes, "yes", "y", false, "apply the plan without asking (needed with --no-input)")
	f.BoolVar(&o.Adopt, "adopt", false, "use an app found under the uniqueName that is not yours (not made by entra-quickstart, or another person's); its owners, secrets and redirect URIs stay")
	f.BoolVar(&o.AutoSignIn, "auto-sign-in", false, "emulator only: sign the emulator's demo user in without a browser")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment (AZURE_CLIENT_ID/SECRET/TENANT_ID)")
	f.StringVar(&o.UserFlow, "user-flow", "", "External ID: the sign-up/sign-in user flow to link (name or id; default the only or first one, created when there is none)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long the sign-in check waits for you in the browser")
}

func runInit(ctx context.Context, o *InitOptions) error {
	prog := ui.NewProgress(o.IO, false)
	if o.AutoSignIn && !o.Emulator && o.EmulatorURL == "" {
		return usagef("--auto-sign-in signs the emulator's demo user in; it is refused for a real cloud, where you sign in yourself")
	}
	if err := checkLifetime(o.SecretLifetime, true); err != nil {
		return err
	}
	a, m, err := o.answers(ctx)
	if err != nil {
		return err
	}
	if err := needYes(o.GlobalOptions, o.Yes, o.DryRun, "init applies its plan to the tenant"); err != nil {
		return err
	}
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: a.Tenant, Kind: a.TenantType, AuthMethod: o.Auth, Progress: prog, AutoSignIn: o.AutoSignIn, ConsentWhenGranting: true})
	if err != nil {
		return err
	}
	defer s.Close()

	req := journeyRequest(s, o.IO.Err, prog, m, a.Name, o.Dir)
	req.Credential, req.SecretLifetime, req.UserFlow = a.Credential, time.Duration(o.SecretLifetime), userFlowSpec(o.UserFlow)
	req.Download, req.DryRun, req.Adopt = o.Download, o.DryRun, o.Adopt
	if !o.Yes {
		req.Confirm = func(ctx context.Context, _ *provision.Plan) error {
			return o.confirm(ctx, "Apply this plan?", "",
				usagef("the plan needs a confirmation: pass --yes to apply it without asking"),
				errors.New("nothing was changed: you did not confirm the plan"))
		}
	}
	req.ConfirmRetire = func(ctx context.Context, inUse []journey.SecretInUse) (bool, error) {
		if o.Yes {
			return true, nil
		}
		refusal := usagef("the new client secret would remove %s: pass --yes to remove it anyway (run init there again afterwards), or run where you can answer. Nothing was changed", inUse[0])
		if o.NoInput {
			return false, refusal
		}
		declined := errors.New("kept")
		err := o.confirm(ctx, fmt.Sprintf("Remove %d older client secret(s) other folders still use, once the new one works?", len(inUse)), "Those folders stop signing in until you run init there again.",
			refusal, declined)
		if errors.Is(err, declined) {
			return false, nil
		}
		return err == nil, err
	}
	if !o.NoVerify {
		req.Verify = func(ctx context.Context, dir string) (verify.Report, error) {
			return runSignInCheck(ctx, signInCheck{g: o.GlobalOptions, t: s.target, m: m, dir: dir,
				noBrowser: o.NoBrowser, autoSignIn: o.AutoSignIn, timeout: o.Timeout, prog: prog})
		}
	}
	out, err := journey.Run(ctx, s.journey(), req)
	if err != nil && (out == nil || out.SignIn == nil) {
		if errors.Is(err, provision.ErrNotReady) && out != nil && out.Location.Dir != "" {
			// The files are written; the new credential has not replicated yet: the check, later,
			// with the flags that reach the same cloud and folder.
			return fmt.Errorf("%w\nCheck it in a few minutes with: %s", err, o.nextCommand("verify", out.Location.Dir, m.ID))
		}
		return journeyErr(err) // nothing to report beyond the error: the steps said what happened
	}
	res := newInitResult(m, out, o.ShowSecret)
	if o.Emulator || o.EmulatorURL != "" {
		res.emulatorRun(m, out.Location, o.Emulator)
	}
	render := func(exitCode int) error { return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, res, exitCode) }
	if o.DryRun {
		fmt.Fprintf(o.IO.Err, "Dry run: nothing was changed. The configuration would go to %s.\n", out.Location.Dir)
		return render(ExitOK)
	}
	switch {
	case o.NoVerify:
		res.SignInCheck = "skipped"
		res.Next = []string{o.nextCommand("verify", out.Location.Dir, m.ID)}
	case err == nil:
		res.SignInCheck = "passed"
	default:
		// The app and the files are in place: the result says so, and what to run once fixed.
		res.SignInCheck, res.SignInCheckFailure = checkFailure(*out.SignIn, err)
		res.Next = []string{o.nextCommand("verify", out.Location.Dir, m.ID), o.nextCommand("doctor", out.Location.Dir, m.ID)}
		_ = render(exitCodeOf(ctx, err))
		return err
	}
	return render(ExitOK)
}

// journeyRequest is the journey as init runs it for the sample m in dir (found when empty),
// reporting on w and prog; init and doctor --fix fill in the rest.
func journeyRequest(s *session, w io.Writer, prog *ui.Progress, m *samples.Manifest, name, dir string) journey.Request {
	return journey.Request{
		Sample: m, Name: name, Dir: dir, UserFlow: userFlowSpec(""),
		// One run at a time per folder and per app registration (lock.go).
		Lock: func(dir, uniqueName string) (func(), error) {
			return lockRun(dir, s.cloudKey()+"|"+s.TenantID+"|"+uniqueName)
		},
		Events: func(ev journey.Event) {
			switch {
			case ev.Step == journey.StepPlan:
				fmt.Fprintf(w, "\n%s\n", ev.Plan.String())
			case ev.Step == journey.StepApply: // the engine's own events showed it
			case ev.Step == journey.StepRetire:
				prog.Warn("could not remove older client secrets (%v); 'entra-quickstart doctor' lists them", ev.Err)
			case ev.Status == journey.Started:
				prog.Start(string(ev.Step))
			case ev.Status == journey.Done:
				prog.Done(string(ev.Step), ev.Detail)
			case ev.Status == journey.Failed:
				prog.Fail(string(ev.Step), ev.Err)
			case ev.Status == journey.Note:
				prog.Note("%s", ev.Detail)
			case ev.Status == journey.Warn:
				prog.Warn("%s", ev.Detail)
			}
		},
	}
}

// journeyErr says what a failed journey leaves in place and what to do, and makes a problem
// the person must fix a usage error (exit code 2).
func journeyErr(err error) error {
	var in *journey.InputError
	var step *journey.StepError
	var foreign *journey.ForeignAppError
	switch {
	case errors.As(err, &in), errors.As(err, &foreign):
		return usageError{err}
	case errors.As(err, &step) && step.Step == journey.StepApply:
		return fmt.Errorf("%w\nRun the same command again: it picks up where this one stopped and makes no duplicate", err)
	case errors.As(err, &step) && step.Step == journey.StepWrite:
		return fmt.Errorf("%w\nThe app registration is in place; fix the folder and run the same command again", err)
	}
	return err
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
			return a, nil, usagef("--sample %s is for %s tenant, not %s: pick %s sample or change --tenant-type", m.ID, withArticle(string(m.TenantType)), a.TenantType, withArticle(string(a.TenantType)))
		}
		a.TenantType = m.TenantType
	}
	if a.Name != "" {
		if err := checkName(a.Name); err != nil {
			return a, nil, err
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
