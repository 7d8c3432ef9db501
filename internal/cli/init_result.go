package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/journey"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// InitResult is what init did, as --json prints it.
type InitResult struct {
	// The verdict, as verify --json gives it: OK when the configuration was written and the
	// sign-in check passed or was skipped; ExitCode is the process's.
	ui.Verdict
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
	// RunNote says what the run commands need (the emulator they run against), when they need it.
	RunNote string       `json:"run_note,omitempty"`
	Verify  *checkResult `json:"verify,omitempty"`
	// HandOffs are steps your role may not take, skipped and left to someone who may.
	HandOffs []HandOff `json:"hand_offs,omitempty"`
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
	// BackupMasked: the backup holds the original with its client secret replaced by the
	// sample's placeholder; NotBackedUp: a certificate's key, never copied.
	BackupMasked bool `json:"backup_masked,omitempty"`
	NotBackedUp  bool `json:"not_backed_up,omitempty"`
	Secret       bool `json:"secret,omitempty"`
}

// exitCodeOf is the exit code Main gives err.
func exitCodeOf(ctx context.Context, err error) int {
	var u usageError
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		code, _ := signalExit(ctx)
		return code
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

// nextCommand is an entra-quickstart command (verify, doctor) for the folder and sample, against
// the same cloud or emulator as this run, so that it works when pasted. After an --emulator
// run the follow-up says --emulator too: the in-process emulator stops with the command, but
// it keeps its directory in the config folder and listens on the same port again, so the next
// command with --emulator meets the same tenant and app (the sample's own server cannot reach
// it in between: that needs a standalone emulator, 'entra-quickstart emulator').
func (o *InitOptions) nextCommand(cmd, dir, sample string) string {
	c := "entra-quickstart " + cmd + " --dir " + shellQuote(dir)
	switch {
	case o.Emulator:
		c += " --emulator"
	case o.EmulatorURL != "":
		c += " --emulator-url " + shellQuote(o.EmulatorURL) + " --ca-file " + shellQuote(o.CAFile)
	case o.Cloud != "" && o.Cloud != "public":
		c += " --cloud " + shellQuote(o.Cloud)
	}
	c += " --sample " + shellQuote(sample)
	if o.Tenant != "" && cmd == "doctor" {
		c += " --tenant " + shellQuote(o.Tenant)
	}
	if cmd == "verify" && o.AutoSignIn {
		c += " --auto-sign-in"
	}
	return c
}

// runCommands are the commands that run the sample, from the folder it is in. Config-only output
// has no sample beside it: first get the sample and copy the written files into its folder.
// start are the commands that start it (the manifest's own, or `entra-quickstart run` for the
// emulator).
func runCommands(m *samples.Manifest, loc journey.Location, cred samples.CredentialKind, start []string) []string {
	if !loc.ConfigOnly {
		cmds := []string{"cd " + shellQuote(loc.Dir)}
		cmds = append(cmds, m.Install...)
		return append(cmds, start...)
	}
	sampleDir := path.Join(m.DownloadDir(), m.Folder) // in a clone, which is named after the repository
	cmds := []string{"git clone --depth 1 --branch " + shellQuote(m.Branch) + " " + m.RepositoryURL()}
	seen := map[string]bool{}
	for _, f := range m.FilesFor(cred) {
		src := filepath.Join(loc.Dir, filepath.FromSlash(f.Path))
		if _, err := os.Stat(src); err != nil || seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		cmds = append(cmds, "cp "+shellQuote(src)+" "+shellQuote(path.Join(sampleDir, f.Path)))
	}
	cmds = append(cmds, "cd "+shellQuote(sampleDir))
	cmds = append(cmds, m.Install...)
	return append(cmds, start...)
}

// emulatorRun makes the run commands start the sample with `entra-quickstart run`: the config
// names the emulator, which the sample's bare start command could neither reach nor trust, and
// the built-in emulator (--emulator) stopped when init ended. builtin: init ran with --emulator.
func (r *InitResult) emulatorRun(m *samples.Manifest, loc journey.Location, builtin bool) {
	if r.DryRun || len(r.Run) == 0 {
		return
	}
	args, note := "", "Run it while the emulator runs: 'entra-quickstart run' finds it, gives the sample what it needs to reach it and trust its CA, and watches the sign-in."
	if builtin {
		args = "--emulator"
		note = "The built-in emulator stopped when this command ended: 'entra-quickstart run --emulator' starts it again (same port and directory) for as long as the sample runs, gives the sample what it needs to reach it and trust its CA, and watches the sign-in."
	}
	r.Run = runCommands(m, loc, samples.CredentialKind(r.Credential), m.RunWithTool(args))
	r.RunNote = note
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '~' || r == ':' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Print is init's summary for a person; a dry run's plan was shown already.
// handOffStep names a handed-off action for --json and people.
func handOffStep(k provision.ActionKind) string {
	switch k {
	case provision.GrantConsent, provision.UpdateConsent:
		return "admin consent"
	case provision.LinkUserFlow:
		return "user-flow link"
	case provision.CreateUserFlow:
		return "user flow"
	}
	return string(k)
}

// printHandOffs names each handed-off step, who may take it, what it means, and where.
func printHandOffs(w io.Writer, st ui.Styles, hs []HandOff) {
	for _, h := range hs {
		fmt.Fprintf(w, "%s Handed off to %s: %s: %s.\n", ui.MarkWarn, h.To, h.Step, h.What)
		if h.URL != "" {
			fmt.Fprintf(w, "  %s\n", st.Code.Render(h.URL))
		}
	}
}

func (r *InitResult) Print(w io.Writer, st ui.Styles) {
	if r.DryRun {
		return
	}
	defer printHandOffs(w, st, r.HandOffs)
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
	case r.ClientSecret != "": // set only with --show-secret
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
			switch {
			case f.Action == "unchanged":
			case f.Backup != "" && f.BackupMasked:
				fmt.Fprintf(w, "              the original is in %s, its client secret replaced by the placeholder\n", filepath.Base(f.Backup))
			case f.NotBackedUp:
				fmt.Fprintln(w, "              the previous certificate's key was not kept (the app still holds its public part until it expires)")
			}
		}
	}
	if r.ConfigOnly {
		fmt.Fprintf(w, "\n  The config files are in %s, not in the sample: copy them into its folder.\n", r.Folder)
		// Copied into a clone, a secret file is git-ignored only if the sample's .gitignore
		// says so: say it, with the command that checks.
		if names := r.secretFileNames(); len(names) > 0 {
			fmt.Fprintf(w, "  %s holds the secret: git-ignore it there before any commit (git check-ignore -v %s names the rule; add any file it does not name to .gitignore).\n",
				strings.Join(names, ", "), strings.Join(names, " "))
		}
		if m, err := samples.Lookup(r.Sample); err == nil {
			fmt.Fprintf(w, "  Get and run the sample (or download %s instead of git clone):\n", m.ArchiveURL(""))
		}
	} else if len(r.Run) > 0 {
		fmt.Fprintln(w, "\n  Run the sample:")
	}
	for _, c := range r.Run {
		fmt.Fprintf(w, "    %s\n", st.Code.Render(c))
	}
	if r.RunNote != "" {
		fmt.Fprintf(w, "  %s\n", r.RunNote)
	}
}

// newInitResult is init's result from the journey's outcome (as far as it got: a dry run stops
// at the plan).
func newInitResult(m *samples.Manifest, out *journey.Outcome, showSecret bool) *InitResult {
	spec, plan, loc := out.Spec, out.Plan, out.Location
	res := &InitResult{Sample: m.ID, TenantID: plan.Tenant.ID, TenantDomain: plan.Tenant.Domain, TenantType: string(plan.Tenant.Type),
		DisplayName: spec.DisplayName, UniqueName: spec.UniqueName, Credential: string(spec.Credential.Kind), Folder: loc.Dir, ConfigOnly: loc.ConfigOnly,
		DryRun: out.Result == nil}
	for _, act := range plan.Actions {
		res.Plan = append(res.Plan, planAction{Kind: string(act.Kind), Summary: act.Summary, Changes: act.Changes})
	}
	r := out.Result
	if r == nil {
		return res
	}
	res.ClientID, res.ObjectID, res.ServicePrincipalID, res.UserFlowID = r.AppID, r.ObjectID, r.ServicePrincipalID, r.UserFlowID
	res.Created = r.Created
	res.Actions = journey.InPlanOrder(plan, r.Actions)
	for _, h := range r.HandOffs {
		res.HandOffs = append(res.HandOffs, HandOff{Step: handOffStep(h.Step), To: h.To, What: h.What, URL: h.URL})
	}
	if r.Secret != "" {
		exp := r.SecretExpires
		res.SecretExpires = &exp
		if showSecret {
			res.ClientSecret = r.Secret.Reveal()
		}
	}
	if r.Certificate != nil {
		res.Thumbprint = r.Certificate.Thumbprint
	}
	if out.Written != nil {
		for _, f := range out.Written.Files {
			res.Files = append(res.Files, fileResult{Path: f.Path, Action: string(f.Action), Backup: f.Backup,
				BackupMasked: f.BackupMasked, NotBackedUp: f.NoBackup, Secret: f.Secret})
		}
		res.Warnings = out.Written.Warnings
	}
	// What a tenant policy changed (a shorter secret, a certificate instead) is said in --json too.
	res.Warnings = append(res.Warnings, r.Notes...)
	res.Run = runCommands(m, loc, r.Credential, m.Run)
	if out.SignIn != nil && len(out.SignIn.Steps) > 0 {
		res.Verify = newCheckResult(*out.SignIn)
	}
	return res
}

// secretFileNames are the written files that hold the secret or key, relative to the folder.
func (r *InitResult) secretFileNames() []string {
	var names []string
	for _, f := range r.Files {
		if !f.Secret {
			continue
		}
		rel, err := filepath.Rel(r.Folder, f.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = filepath.Base(f.Path)
		}
		names = append(names, shellQuote(filepath.ToSlash(rel)))
	}
	return names
}
