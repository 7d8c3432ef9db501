// Package journey is the setup journey as one function: locate the sample -> plan -> confirm
// (a callback) -> apply -> write the configuration -> wait for the new credential -> verify the
// sign-in (a callback) -> record, with progress as events. init, doctor --fix and every attendee
// of lab provision go through Run, so the steps cannot drift apart again.
//
// The package never touches the terminal: progress goes to Request.Events, questions to
// Request.Confirm, and a problem the person must fix comes back as an *InputError.
package journey

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// Session is what the journey works with: a signed-in engine for one tenant of one cloud.
type Session struct {
	Engine   *provision.Engine
	Cloud    auth.Cloud
	TenantID string
	// Record is the local record of what this tool made; nil records nothing (a lab keeps its
	// own index). CloudKey names the cloud in it.
	Record   *state.Store
	CloudKey string
}

// Request is one run of the journey.
type Request struct {
	Sample         *samples.Manifest
	Name           string                 // the app's name; the same name again updates the same app
	Credential     samples.CredentialKind // empty: the sample's default
	SecretLifetime time.Duration          // 0: provision's default
	UserFlow       provision.UserFlowSpec
	Renew          Renew
	// KeyFile is where a certificate's key is kept; empty: <home>/keys/<uniqueName>.pem.
	KeyFile string
	// Lab, UniqueName and DisplayName name a workshop attendee's app; empty: derived from the
	// sample and Name.
	Lab, UniqueName, DisplayName string

	// Dir and Download say where the sample is (see Locate); At, when set, is used as it is.
	Dir      string
	Download bool
	At       *Location
	// Git is templates.Options.Git: "" makes sure the secret files are git-ignored, "none"
	// leaves git alone (a lab's bundle is no repository).
	Git string
	// NewCredential refuses to write files without a new credential: a lab bundle never holds
	// an older one.
	NewCredential bool

	// DryRun stops after the plan: nothing is created or written.
	DryRun bool
	// Adopt uses an app found under the uniqueName that is not the signed-in person's (not
	// tagged by this tool, or owned by others and not on this machine's record); without it the
	// run stops before any write with a *ForeignAppError.
	Adopt bool
	// Confirm is asked before a plan that changes something is applied; nil applies without
	// asking. Its error ends the run unchanged (a refusal or a no).
	Confirm func(ctx context.Context, plan *provision.Plan) error
	// ConfirmRetire is asked, after Confirm, when the new secret would retire older secrets that
	// other folders on this machine's record still use (the plan's Notes name them): true removes
	// them once the new one works, false keeps them, an error ends the run unchanged. Nil keeps
	// them.
	ConfirmRetire func(ctx context.Context, inUse []SecretInUse) (bool, error)
	// Lock, when set, is taken once the folder is known (not for a dry run): one run at a time
	// per folder and per app.
	Lock func(dir, uniqueName string) (release func(), err error)
	// Slot, when set, is held around the Graph writes (a lab's governor); release says whether
	// they succeeded.
	Slot func(ctx context.Context) (release func(ok bool), err error)
	// Retire says when the older client secrets are removed.
	Retire Retire
	// Wait says how to wait for the new credential.
	Wait Wait
	// Written, when set, runs once the configuration is written, before the wait (a lab
	// finishes its bundle there).
	Written func(ctx context.Context, out *Outcome) error
	// Verify, when set, signs in with the configuration written in dir: the command supplies it,
	// because the sign-in needs a browser. Nil skips the check.
	Verify func(ctx context.Context, dir string) (verify.Report, error)
	// Events hears the progress; nil is silent.
	Events func(Event)
}

// Renew says when a new credential is made.
type Renew int

const (
	// RenewIfNeeded makes one when the record and the folder do not hold a working one.
	RenewIfNeeded Renew = iota
	// RenewAlways makes one whatever the folder holds (doctor --fix, when it does not work).
	RenewAlways
	// RenewNever leaves it to the engine (a certificate on disk is reused).
	RenewNever
)

// Retire says when older client secrets are removed.
type Retire int

const (
	// RetireWhenReady removes them once the new credential works: the folder may still use one.
	RetireWhenReady Retire = iota
	// RetireAtOnce removes them right after apply when the app existed: nobody holds them.
	RetireAtOnce
)

// Wait is the readiness wait for a new credential (provision.ReadyConfig's defaults for zeros).
type Wait struct {
	Skip              bool
	Successes         int
	Interval, Timeout time.Duration
	// Optional: a wait that ends without success is reported in Outcome.ReadyErr, not as the
	// run's error.
	Optional bool
}

// Outcome is what a run did. Run returns it as far as it got, with its error.
type Outcome struct {
	// Caller is who signed in: the app is theirs.
	Caller   provision.Caller
	Location Location
	Spec     provision.Spec
	Plan     *provision.Plan
	Result   *provision.Result // nil for a dry run
	Written  *templates.Result
	// Ready: the new credential got a token; ReadyErr says why not when Wait.Optional.
	Ready    bool
	ReadyErr error
	// SignIn is the sign-in check's report; nil when it did not run.
	SignIn *verify.Report
}

// Step names a step of the journey, as a person reads it.
type Step string

const (
	StepPlan     Step = "plan"
	StepApply    Step = "apply the plan"
	StepDownload Step = "download the sample from GitHub"
	StepWrite    Step = "write the sample's configuration"
	StepWait     Step = "wait until the new credential works"
	StepRetire   Step = "remove older client secrets"
	StepVerify   Step = "check the sign-in"
	// StepInUse notes what happens to older secrets other folders still use.
	StepInUse Step = "older client secrets other folders use"
	// StepPolicy notes what a tenant policy changed (a certificate instead of a secret).
	StepPolicy Step = "the tenant's app management policy"
)

// SecretInUse is an older client secret of the app that the run's new secret would retire,
// while other folders on this machine's record still hold it.
type SecretInUse struct {
	KeyID, Hint string
	Folders     []string
}

func (u SecretInUse) String() string {
	return fmt.Sprintf("the client secret %s (%s…) that %s still uses", u.KeyID, u.Hint, strings.Join(u.Folders, ", "))
}

// secretsInUse lists the secrets the plan retires that another folder on record holds: a
// folder other than dir, still configured for this app.
func secretsInUse(plan *provision.Plan, prev *state.App, m *samples.Manifest, dir string) []SecretInUse {
	if prev == nil || plan.App == nil {
		return nil
	}
	var out []SecretInUse
	for _, pc := range plan.Retiring() {
		folders := prev.FoldersUsing(pc.KeyID)
		if strings.EqualFold(prev.SecretKeyID, pc.KeyID) && prev.Folder != "" {
			folders = append(folders, prev.Folder)
		}
		u := SecretInUse{KeyID: pc.KeyID, Hint: pc.Hint}
		for _, f := range folders {
			if filepath.Clean(f) == filepath.Clean(dir) || slices.Contains(u.Folders, f) {
				continue
			}
			if cfg, err := templates.Read(m, f); err == nil && strings.EqualFold(cfg.ClientID, plan.App.AppID) {
				u.Folders = append(u.Folders, f)
			}
		}
		if len(u.Folders) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// Status is where a step is.
type Status string

const (
	Started Status = "started"
	Done    Status = "done"
	Failed  Status = "failed"
	Note    Status = "note" // on the way: Detail says what
	Warn    Status = "warn" // the step went on; Detail or Err says what is not right
)

// Event reports progress. Plan is set on StepPlan's and StepApply's Done, Result on StepApply's
// Done. No event
// holds a secret.
type Event struct {
	Step   Step
	Status Status
	Detail string
	Err    error
	Plan   *provision.Plan
	Result *provision.Result
}

// InputError is a problem with what the person asked for (a folder, an answer): they change it
// and run again. Commands exit with their usage code (2) for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ForeignAppError stops a run before any write: the app under the uniqueName is not the
// signed-in person's. Commands exit with their usage code (2): the person decides (another
// --name, or --adopt).
type ForeignAppError struct {
	UniqueName, DisplayName, AppID string
	// Untagged: the app does not carry this tool's tag (someone made it by hand).
	Untagged bool
	// Owners are the app's owners as a person reads them; empty: none (made by an admin).
	Owners []string
	// Changes are what the plan would do to it; Holds what it holds that the tool did not make.
	Changes, Holds []string
}

func (e *ForeignAppError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the app registration %q (uniqueName %s, client id %s) is not yours", e.DisplayName, e.UniqueName, e.AppID)
	switch {
	case e.Untagged:
		b.WriteString(": entra-quickstart did not make it (it has no entra-quickstart tag)")
	default:
		b.WriteString(": it is not on this machine's record")
	}
	if len(e.Owners) > 0 {
		fmt.Fprintf(&b, ", and its owners are %s", strings.Join(e.Owners, ", "))
	} else {
		b.WriteString(", and it has no owners")
	}
	if len(e.Changes) > 0 {
		fmt.Fprintf(&b, ". Using it would: %s", strings.Join(e.Changes, "; "))
	}
	if len(e.Holds) > 0 {
		fmt.Fprintf(&b, ". It holds what this tool would leave in place: %s", strings.Join(e.Holds, "; "))
	}
	b.WriteString(". Nothing was changed. Next: choose another --name for your own app, or pass --adopt to take this one over (its owners, secrets and redirect URIs stay)")
	return b.String()
}

// foreign says why an existing app is not the caller's, or nil when it is: it carries the tag
// and the caller owns it, or this machine's record holds it by object id.
func foreign(plan *provision.Plan, caller provision.Caller, prev *state.App) *ForeignAppError {
	a := plan.App
	if a == nil {
		return nil
	}
	onRecord := prev != nil && strings.EqualFold(prev.ObjectID, a.ID)
	if plan.Tagged() && (plan.OwnedBy(caller.ObjectID) || onRecord) {
		return nil
	}
	e := &ForeignAppError{UniqueName: a.UniqueName, DisplayName: a.DisplayName, AppID: a.AppID, Untagged: !plan.Tagged(), Holds: plan.Foreign()}
	for _, o := range plan.Owners {
		e.Owners = append(e.Owners, o.Name())
	}
	for _, x := range plan.Actions {
		e.Changes = append(e.Changes, x.Summary)
	}
	return e
}

// StepError is a step that failed once Graph was being changed: Step says which, so the command
// can say what is already in place.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// ErrNoNewCredential: Request.NewCredential was set and the app got none.
var ErrNoNewCredential = errors.New("the app has no new credential to hand out; run again (a new secret is made for an app without a bundle)")

// Run goes through the journey. The outcome is returned as far as it got, also with an error.
func Run(ctx context.Context, s Session, req Request) (*Outcome, error) {
	emit := func(ev Event) {
		if req.Events != nil {
			req.Events(ev)
		}
	}
	m := req.Sample
	out := &Outcome{}
	if req.At != nil {
		out.Location = *req.At
	} else {
		loc, err := Locate(m, req.Dir, req.Download)
		if err != nil {
			return out, err
		}
		out.Location = loc
	}
	dir := out.Location.Dir
	caller, err := s.Engine.Caller(ctx)
	if err != nil {
		return out, err
	}
	out.Caller = caller
	uniqueName := req.UniqueName
	if uniqueName == "" {
		if uniqueName, err = s.personalName(ctx, m.ID, req.Name, caller); err != nil {
			return out, err
		}
	}
	if !req.DryRun && req.Lock != nil {
		release, err := req.Lock(dir, uniqueName)
		if err != nil {
			return out, err
		}
		defer release()
	}
	var prev *state.App
	if s.Record != nil {
		rec, err := s.Record.Load(ctx)
		if err != nil {
			return out, err
		}
		prev = rec.Find(s.CloudKey, s.TenantID, uniqueName)
	}
	spec, err := req.spec(s, prev, uniqueName, dir)
	if err != nil {
		return out, err
	}
	spec.Owner = caller.ObjectID
	out.Spec = spec

	release := func(bool) {}
	if req.Slot != nil && !req.DryRun {
		if release, err = req.Slot(ctx); err != nil {
			return out, err
		}
	}
	plan, err := s.Engine.Plan(ctx, spec)
	if err != nil {
		release(false)
		return out, err
	}
	out.Plan = plan
	inUse := secretsInUse(plan, prev, m, dir)
	for _, u := range inUse {
		plan.Notes = append(plan.Notes, u.String()+": the new secret would remove it once it works, and that folder would stop signing in until configured again")
	}
	emit(Event{Step: StepPlan, Status: Done, Plan: plan})
	if f := foreign(plan, caller, prev); f != nil && !req.Adopt && req.Lab == "" {
		release(false)
		return out, f
	}
	if req.DryRun {
		return out, nil
	}
	if !plan.Empty() && req.Confirm != nil {
		if err := req.Confirm(ctx, plan); err != nil {
			release(false)
			return out, err
		}
	}
	if len(inUse) > 0 {
		retire := false
		if req.ConfirmRetire != nil {
			if retire, err = req.ConfirmRetire(ctx, inUse); err != nil {
				release(false)
				return out, err
			}
		}
		for _, u := range inUse {
			if retire {
				emit(Event{Step: StepInUse, Status: Note, Detail: "removing " + u.String() + " once the new secret works, as confirmed: run entra-quickstart init there again"})
			} else {
				plan.Keep(u.KeyID)
				emit(Event{Step: StepInUse, Status: Note, Detail: "keeping " + u.String()})
			}
		}
	}
	res, err := s.Engine.Apply(ctx, plan)
	if pe := (*provision.PolicyError)(nil); errors.As(err, &pe) && pe.PasswordsBlocked && spec.Credential.Kind == samples.Secret && m.Supports(samples.Certificate) {
		// The tenant allows no client secret and the sample accepts a certificate: switch,
		// and say so. The app made so far is the same one: plan again and finish.
		note := "the tenant's app management policy does not allow client secrets: using a certificate instead, which this sample accepts"
		emit(Event{Step: StepPolicy, Status: Note, Detail: note})
		spec.Credential.Kind = samples.Certificate
		if req.SecretLifetime == 0 {
			spec.Credential.Lifetime = provision.DefaultCertificateLifetime
		}
		out.Spec = spec
		first := res
		if plan, err = s.Engine.Plan(ctx, spec); err == nil {
			out.Plan = plan
			emit(Event{Step: StepPlan, Status: Done, Plan: plan})
			if res, err = s.Engine.Apply(ctx, plan); res != nil {
				res.Created = res.Created || first.Created
				res.Actions = append(slices.Clone(first.Actions), res.Actions...)
				res.Notes = append(append(slices.Clone(first.Notes), note), res.Notes...)
			}
		}
	}
	if err == nil && req.Retire == RetireAtOnce && plan.App != nil && res.Secret != "" {
		// A secret made by an interrupted run reached no file: remove it now rather than leave a
		// credential nobody holds (Retire keeps one older secret).
		if rerr := s.Engine.Retire(ctx, res); rerr != nil {
			emit(Event{Step: StepRetire, Status: Warn, Err: rerr})
		}
	}
	release(err == nil)
	if err != nil {
		if res != nil && res.ObjectID != "" {
			// What was made so far is this person's: on the record, reset finds it.
			_ = s.record(ctx, req, res, dir, prev, nil, false)
		}
		return out, &StepError{Step: StepApply, Err: err}
	}
	out.Result = res
	for i, h := range res.HandOffs {
		if h.Step == provision.GrantConsent {
			res.HandOffs[i].URL = AdminConsentURL(s.Cloud, s.TenantID, res.AppID)
		}
	}
	emit(Event{Step: StepApply, Status: Done, Detail: "client id " + res.AppID, Plan: plan, Result: res})

	// Recorded at once: a failure below must not leave an app that reset calls someone else's.
	if err := s.record(ctx, req, res, dir, prev, nil, false); err != nil {
		return out, err
	}
	if err := req.write(ctx, s, out, emit); err != nil {
		return out, err
	}
	if err := s.record(ctx, req, res, dir, prev, out.Written.Created(), true); err != nil {
		return out, err
	}
	if req.Written != nil {
		if err := req.Written(ctx, out); err != nil {
			return out, err
		}
	}

	// The new credential must work before anyone signs in with it.
	if res.Secret != "" || res.Certificate != nil {
		if err := req.wait(ctx, s, out, emit); err != nil {
			return out, err
		}
		if out.Ready && req.Retire == RetireWhenReady {
			if err := s.Engine.Retire(ctx, res); err != nil {
				emit(Event{Step: StepRetire, Status: Warn, Err: err})
			}
		}
	}

	if req.Verify == nil {
		return out, nil
	}
	rep, err := req.Verify(ctx, dir)
	out.SignIn = &rep
	return out, err
}

// AdminConsentURL is the page where an admin grants tenant-wide consent to an app
// (facts/tenants.md §3.4, v1: every permission in its requiredResourceAccess).
func AdminConsentURL(c auth.Cloud, tenantID, appID string) string {
	return c.LoginBase + "/" + url.PathEscape(tenantID) + "/adminconsent?client_id=" + url.QueryEscape(appID)
}

// personalName is the default uniqueName of the caller's app for a sample and name: with the
// caller's id (provision.PersonalUniqueName), unless this machine's record holds the app under
// the name used before (without it), which is carried over rather than made again.
func (s Session) personalName(ctx context.Context, sample, name string, caller provision.Caller) (string, error) {
	who := caller.ObjectID
	if caller.App {
		who = caller.AppID
	}
	personal := provision.PersonalUniqueName(sample, name, who)
	if s.Record == nil {
		return personal, nil
	}
	rec, err := s.Record.Load(ctx)
	if err != nil {
		return "", err
	}
	if rec.Find(s.CloudKey, s.TenantID, personal) == nil {
		if legacy := provision.UniqueName(sample, name); rec.Find(s.CloudKey, s.TenantID, legacy) != nil {
			return legacy, nil
		}
	}
	return personal, nil
}

// spec is the desired app registration: the request's answers, the record's credential and
// where the certificate's key is kept.
func (req Request) spec(s Session, prev *state.App, uniqueName, dir string) (provision.Spec, error) {
	keyFile := req.KeyFile
	if keyFile == "" {
		h, err := appdir.Dir()
		if err != nil {
			return provision.Spec{}, err
		}
		keyFile = filepath.Join(h, "keys", uniqueName+".pem")
	}
	renew := false
	switch req.Renew {
	case RenewAlways:
		renew = true
	case RenewIfNeeded:
		renew = needsRenew(prev, req.Sample, dir)
	}
	spec, err := provision.SpecFor(req.Sample, provision.Answers{
		Name:         req.Name,
		Lab:          req.Lab,
		TenantID:     s.TenantID,
		Credential:   req.Credential,
		Lifetime:     req.SecretLifetime,
		Renew:        renew,
		CurrentKeyID: currentKeyID(prev),
		KeyFile:      keyFile,
		UserFlow:     req.UserFlow,
	})
	if err != nil {
		return spec, &InputError{err}
	}
	if spec.UniqueName != uniqueName || req.DisplayName != "" {
		spec.UniqueName = uniqueName
		if req.DisplayName != "" {
			spec.DisplayName = req.DisplayName
		}
		if err := spec.Validate(); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// write downloads the sample when asked and writes its configuration with the new ids and
// credential. When this run kept the existing credential, the one the files hold is written
// back unchanged.
func (req Request) write(ctx context.Context, s Session, out *Outcome, emit func(Event)) error {
	loc, r, m := out.Location, out.Result, req.Sample
	if req.NewCredential && r.Secret == "" && r.Certificate == nil {
		return ErrNoNewCredential
	}
	if loc.Download {
		emit(Event{Step: StepDownload, Status: Started})
		if m.Commit == "" {
			// [Unpinned] the catalog could not hold a commit and hash yet (make pin-samples needs GitHub):
			// say that what arrives is the branch's current head, checked by HTTPS alone.
			emit(Event{Step: StepDownload, Status: Note, Detail: "the head of " + m.Repository + " " + m.Branch + ": the catalog pins no commit for this sample yet, so only HTTPS vouches for the archive"})
		}
		last := ""
		_, err := samples.Download(ctx, m, loc.Dir, samples.DownloadOptions{Progress: func(p samples.Progress) {
			if p.Phase != last {
				last = p.Phase
				emit(Event{Step: StepDownload, Status: Note, Detail: p.Phase + "…"})
			}
		}})
		if err != nil {
			emit(Event{Step: StepDownload, Status: Failed, Err: err})
			return &StepError{Step: StepDownload, Err: err}
		}
		emit(Event{Step: StepDownload, Status: Done, Detail: loc.Dir})
	}
	if loc.ConfigOnly {
		mode := os.FileMode(0o755)
		if loc.Private {
			mode = 0o700
		}
		if err := os.MkdirAll(loc.Dir, mode); err != nil {
			return fmt.Errorf("the output folder %s: %w; pick another with --dir and run again", loc.Dir, err)
		}
	}
	emit(Event{Step: StepWrite, Status: Started})
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
		if cur, err := templates.Read(m, loc.Dir); err == nil {
			v.ClientSecret = cur.ClientSecret
			if cur.Certificate != nil {
				cert, key, err := templates.LoadPFX(cur.Certificate.Path, cur.Certificate.Password)
				if err == nil {
					v.Certificate = &templates.Certificate{Cert: cert, Key: key}
				}
			}
		}
	}
	w, err := templates.Write(ctx, m, loc.Dir, v, templates.Options{Credential: r.Credential, Git: req.Git})
	if err != nil {
		emit(Event{Step: StepWrite, Status: Failed, Err: err})
		return &StepError{Step: StepWrite, Err: err}
	}
	out.Written = w
	emit(Event{Step: StepWrite, Status: Done, Detail: loc.Dir})
	for _, warning := range w.Warnings {
		emit(Event{Step: StepWrite, Status: Warn, Detail: warning})
	}
	return nil
}

// wait polls a client-credentials token for the new credential where the sample will sign in:
// External ID apps at <subdomain>.ciamlogin.com, others at the cloud's login host.
func (req Request) wait(ctx context.Context, s Session, out *Outcome, emit func(Event)) error {
	if req.Wait.Skip {
		return nil
	}
	t := out.Result.Tenant
	tokenURL := s.Cloud.TokenURL(t.ID)
	if t.Type == samples.External {
		tokenURL = provision.TokenURL(s.Cloud.CIAMBase(t.Subdomain), t.ID)
	}
	emit(Event{Step: StepWait, Status: Started})
	err := provision.WaitReady(ctx, provision.ReadyConfig{
		TokenURL:   tokenURL,
		HTTPClient: s.Cloud.HTTPClient(),
		Successes:  req.Wait.Successes,
		Interval:   req.Wait.Interval,
		Timeout:    req.Wait.Timeout,
		Progress: func(ev provision.ReadyEvent) {
			if !ev.OK && ev.Reason != "" {
				emit(Event{Step: StepWait, Status: Note, Detail: fmt.Sprintf("not yet (%s), %s so far", ev.Reason, ev.Elapsed.Round(time.Second))})
			}
		},
	}, out.Result)
	if err != nil {
		emit(Event{Step: StepWait, Status: Failed, Err: err})
		if req.Wait.Optional {
			out.ReadyErr = err
			return nil
		}
		return &StepError{Step: StepWait, Err: err}
	}
	out.Ready = true
	emit(Event{Step: StepWait, Status: Done})
	return nil
}

// InPlanOrder lists the kinds done in the order the plan lists them, then any others: parallel
// steps finish in any order.
func InPlanOrder(p *provision.Plan, done []provision.ActionKind) []string {
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
