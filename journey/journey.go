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
	"os"
	"path/filepath"
	"slices"
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
	// Confirm is asked before a plan that changes something is applied; nil applies without
	// asking. Its error ends the run unchanged (a refusal or a no).
	Confirm func(ctx context.Context, plan *provision.Plan) error
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
)

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
	uniqueName := req.UniqueName
	if uniqueName == "" {
		uniqueName = provision.UniqueName(m.ID, req.Name)
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
	emit(Event{Step: StepPlan, Status: Done, Plan: plan})
	if req.DryRun {
		return out, nil
	}
	if !plan.Empty() && req.Confirm != nil {
		if err := req.Confirm(ctx, plan); err != nil {
			release(false)
			return out, err
		}
	}
	res, err := s.Engine.Apply(ctx, plan)
	if err == nil && req.Retire == RetireAtOnce && plan.App != nil && res.Secret != "" {
		// A secret made by an interrupted run reached no file: remove it now rather than leave a
		// credential nobody holds (Retire keeps one older secret).
		if rerr := s.Engine.Retire(ctx, res); rerr != nil {
			emit(Event{Step: StepRetire, Status: Warn, Err: rerr})
		}
	}
	release(err == nil)
	if err != nil {
		return out, &StepError{Step: StepApply, Err: err}
	}
	out.Result = res
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
	if req.UniqueName != "" || req.DisplayName != "" {
		if req.UniqueName != "" {
			spec.UniqueName = req.UniqueName
		}
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
