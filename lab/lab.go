// Package lab is workshop mode: one app registration per attendee of a room, made concurrently
// under Graph's throttling budget (Governor), each with a bundle (the sample's configuration
// filled in, a one-page handout in Markdown and printable HTML, a zip), an index for the
// instructor, a status check of every attendee's credential, and a reset that deletes and
// purges the lab's apps and nothing else.
//
// A run is resumable: it reads what exists first (the lab's apps in the tenant, the bundles on
// disk), leaves every attendee whose app and bundle are complete untouched, and finishes the
// rest. Secrets go only into the bundles (mode 0600), never into the index or an event.
//
// The package prints nothing: progress goes to a callback, results come back as data.
package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/journey"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// DefaultSecretLifetime is a lab secret's lifetime: a workshop lasts days, not a month.
const DefaultSecretLifetime = 7 * 24 * time.Hour

// Config is what a lab provisioning run needs.
type Config struct {
	Name       string // the lab's name (ValidateName)
	Sample     *samples.Manifest
	Credential samples.CredentialKind // empty: the sample's default
	Attendees  []Attendee
	Dir        string // where the bundles and the index go
	// Graph is the client, built over Governor.Wrap so that every call is metered.
	Graph    *graph.Client
	Governor *Governor
	// Cloud gives the sign-in and Graph bases written into the configuration and the token
	// endpoint the readiness check asks.
	Cloud auth.Cloud
	// Flags are the command-line flags that reach this cloud and tenant again, shell-quoted
	// (e.g. "--emulator-url https://localhost:8443 --ca-file ca.pem --tenant <id>"), for the
	// commands the index prints; empty where none are needed.
	Flags          string
	SecretLifetime time.Duration // default DefaultSecretLifetime
	UserFlow       provision.UserFlowSpec
	// ReadyTimeout bounds the wait for each new credential to get a token (0: no wait; the
	// index then says "not checked" and lab status checks later).
	ReadyTimeout time.Duration
	// ReadyInterval is the base pause between readiness polls; default WaitReady's (250 ms).
	ReadyInterval time.Duration
	Progress      func(Event)
	Now           func() time.Time
}

// Phase is where an attendee is.
type Phase string

const (
	PhaseSkipped  Phase = "skipped" // app and bundle complete from an earlier run: untouched
	PhaseStarted  Phase = "started"
	PhaseApplied  Phase = "applied" // the app registration is complete
	PhaseBundled  Phase = "bundled" // the bundle is written: this attendee is done
	PhaseReady    Phase = "ready"   // the credential gets a token
	PhaseNotReady Phase = "not-ready"
	PhaseFailed   Phase = "failed"
)

// Event reports one attendee's progress. Done counts attendees finished (bundled, skipped or
// failed) out of Total. Detail never holds a secret.
type Event struct {
	Attendee Attendee
	Phase    Phase
	Detail   string
	Done     int
	Total    int
}

// Report is what a run did: the index's content. It holds no secret.
type Report struct {
	Lab         string           `json:"lab"`
	Sample      string           `json:"sample"`
	SampleTitle string           `json:"sample_title"`
	Credential  string           `json:"credential"`
	TenantID    string           `json:"tenant_id"`
	TenantType  string           `json:"tenant_type"`
	Tenant      string           `json:"tenant_domain"`
	Cloud       string           `json:"cloud"`
	Dir         string           `json:"dir"`
	Generated   time.Time        `json:"generated"`
	Attendees   []AttendeeResult `json:"attendees"`
	Created     int              `json:"created"`
	Completed   int              `json:"completed"` // resumed: the app existed, this run finished it
	Skipped     int              `json:"skipped"`
	Failed      int              `json:"failed"`
	Ready       int              `json:"ready"`
	Elapsed     Seconds          `json:"elapsed_seconds"`
	Governor    GovernorStats    `json:"-"`
	// Flags reach the lab's cloud and tenant again, for the commands the index prints
	// (Config.Flags).
	Flags string `json:"-"`
}

// Seconds is a duration that JSON shows in seconds.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", time.Duration(s).Seconds())), nil
}

func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// AttendeeResult is one attendee's line in the index.
type AttendeeResult struct {
	Attendee
	Status             string    `json:"status"` // created, completed, skipped, failed
	UniqueName         string    `json:"unique_name"`
	DisplayName        string    `json:"display_name"`
	ClientID           string    `json:"client_id,omitempty"`
	ObjectID           string    `json:"object_id,omitempty"`
	ServicePrincipalID string    `json:"service_principal_id,omitempty"`
	UserFlowID         string    `json:"user_flow_id,omitempty"`
	Bundle             string    `json:"bundle,omitempty"` // folder, relative to the lab's Dir
	Zip                string    `json:"zip,omitempty"`
	SecretFiles        []string  `json:"secret_files,omitempty"` // in the bundle: where the credential is
	CredentialExpires  time.Time `json:"credential_expires,omitzero"`
	Ready              string    `json:"ready"` // yes, not yet, not checked
	Error              string    `json:"error,omitempty"`
}

// File names in the lab's folder.
const (
	IndexJSON  = "index.json"
	IndexMD    = "INDEX.md"
	IndexHTML  = "index.html"
	markerName = ".entra-quickstart-lab.json"
	keysDir    = ".keys"
	configDir  = "config"
)

// Provision makes (or finishes) the lab: one app and one bundle per attendee, then the index.
// Attendees run concurrently under the Governor; one attendee's failure does not stop the
// others (a refused sign-in or permission does). The index is written even when the run fails
// or is cancelled, with what is done.
func Provision(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	kind := cfg.Credential
	if kind == "" {
		kind = cfg.Sample.DefaultCredential()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("the lab folder %s: %w; choose another with --dir", cfg.Dir, err)
	}
	if prev, err := ReadIndex(cfg.Dir); err == nil && (prev.Lab != cfg.Name || prev.Sample != cfg.Sample.ID) {
		return nil, fmt.Errorf("%s holds the lab %s for %s, not %s for %s: choose another --dir", cfg.Dir, prev.Lab, prev.Sample, cfg.Name, cfg.Sample.ID)
	}

	// What exists: the tenant, and the lab's apps (one listing, not one read per attendee).
	eng := provision.New(cfg.Graph, provision.Options{Now: cfg.Now, ExternalIDProbe: cfg.Cloud.IsExternalIDTenant})
	tenant, err := eng.TenantFacts(ctx)
	if err != nil {
		return nil, err
	}
	if tenant.Type == "" {
		// Nothing could tell the kind (tenant.KindFrom says why): go on with the sample's.
		tenant.Type = cfg.Sample.TenantType
	}
	if tenant.Type != cfg.Sample.TenantType {
		return nil, fmt.Errorf("the tenant %s is %s tenant, but %s is a sample for %s tenants: pick a sample for this tenant or sign in to another", tenant.Domain, withArticle(string(tenant.Type)), cfg.Sample.ID, cfg.Sample.TenantType)
	}
	existing, err := labApps(ctx, cfg.Graph, cfg.Name)
	if err != nil {
		return nil, err
	}
	for _, a := range existing {
		if s := sampleOf(a.Tags); s != "" && s != cfg.Sample.ID {
			return nil, fmt.Errorf("the lab %s already has apps for the sample %s, not %s: use another lab name, or lab reset --name %s first", cfg.Name, s, cfg.Sample.ID, cfg.Name)
		}
	}

	rep := &Report{Lab: cfg.Name, Sample: cfg.Sample.ID, SampleTitle: cfg.Sample.Title, Credential: string(kind),
		TenantID: tenant.ID, TenantType: string(tenant.Type), Tenant: tenant.Domain, Cloud: cfg.Cloud.Name, Dir: cfg.Dir, Flags: cfg.Flags}
	rep.Attendees = make([]AttendeeResult, len(cfg.Attendees))

	// A refused sign-in or permission fails every attendee the same way: stop at the first.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	done := 0
	emit := func(a Attendee, ph Phase, detail string) {
		if cfg.Progress == nil {
			return
		}
		mu.Lock()
		if ph == PhaseBundled || ph == PhaseSkipped || ph == PhaseFailed {
			done++
		}
		ev := Event{Attendee: a, Phase: ph, Detail: detail, Done: done, Total: len(cfg.Attendees)}
		mu.Unlock()
		cfg.Progress(ev)
	}
	var wg sync.WaitGroup
	for i, a := range cfg.Attendees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &rep.Attendees[i]
			err := cfg.attendee(ctx, tenant, kind, a, existing[provision.LabUniqueName(cfg.Name, a.ID)], r, emit)
			if err != nil {
				r.Status, r.Error = "failed", err.Error()
				emit(a, PhaseFailed, err.Error())
				if fatal(err) {
					cancel(err)
				}
			}
		}()
	}
	wg.Wait()

	for _, r := range rep.Attendees {
		switch r.Status {
		case "created":
			rep.Created++
		case "completed":
			rep.Completed++
		case "skipped":
			rep.Skipped++
		default:
			rep.Failed++
		}
		if r.Ready == "yes" {
			rep.Ready++
		}
	}
	rep.Generated = now()
	rep.Elapsed = Seconds(now().Sub(start))
	if cfg.Governor != nil {
		rep.Governor = cfg.Governor.Stats()
	}
	if err := writeIndex(cfg.Dir, rep); err != nil {
		return rep, err
	}
	if cause := context.Cause(ctx); cause != nil {
		return rep, fmt.Errorf("the lab stopped with %d of %d attendees done (%w); run the same command again: it finishes what is missing and touches nothing done", rep.Created+rep.Completed+rep.Skipped, len(cfg.Attendees), cause)
	}
	if rep.Failed > 0 {
		first := ""
		for _, r := range rep.Attendees {
			if r.Error != "" {
				first = r.Error
				break
			}
		}
		return rep, fmt.Errorf("%d of %d attendees failed (first: %s); run the same command again: it finishes what is missing and touches nothing done", rep.Failed, len(cfg.Attendees), first)
	}
	return rep, nil
}

func (cfg *Config) validate() error {
	var errs []error
	if err := ValidateName(cfg.Name); err != nil {
		errs = append(errs, err)
	}
	if cfg.Sample == nil {
		errs = append(errs, errors.New("no sample"))
	}
	if len(cfg.Attendees) == 0 {
		errs = append(errs, errors.New("no attendees: give --attendees N or --roster FILE.csv"))
	}
	seen := map[string]bool{}
	for _, a := range cfg.Attendees {
		if !slugRE.MatchString(a.ID) || seen[a.ID] {
			errs = append(errs, fmt.Errorf("attendee id %q is invalid or repeated", a.ID))
		}
		seen[a.ID] = true
	}
	if cfg.Dir == "" {
		errs = append(errs, errors.New("no output folder: give --dir"))
	}
	if cfg.Graph == nil {
		errs = append(errs, errors.New("no Graph client"))
	}
	if cfg.SecretLifetime == 0 {
		cfg.SecretLifetime = DefaultSecretLifetime
	}
	if cfg.Governor == nil {
		// Without a governor in the Graph client's transport nothing is metered; a slot limit
		// still keeps the room from opening a hundred calls at once.
		cfg.Governor = NewGovernor(GovernorOptions{})
	}
	if d, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = d
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab: %w", errors.Join(errs...))
	}
	return nil
}

// fatal reports an error that every attendee would meet: a refused sign-in or permission.
func fatal(err error) bool {
	var ge *graph.Error
	if errors.As(err, &ge) {
		var ae *graph.AuthError
		return ge.Status == http.StatusUnauthorized || ge.Status == http.StatusForbidden || errors.As(ge, &ae)
	}
	return false
}

// labApps lists the lab's live apps by uniqueName.
func labApps(ctx context.Context, g *graph.Client, lab string) (map[string]*graph.Application, error) {
	apps, err := g.ListApplications(ctx, graph.AppFilter{Tag: provision.TagLabPrefix + lab})
	if err != nil {
		return nil, fmt.Errorf("listing the lab's app registrations: %w", err)
	}
	out := map[string]*graph.Application{}
	for i := range apps {
		if slices.Contains(apps[i].Tags, provision.Tag) {
			out[apps[i].UniqueName] = &apps[i]
		}
	}
	return out, nil
}

func sampleOf(tags []string) string {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, provision.TagSamplePrefix); ok {
			return v
		}
	}
	return ""
}

// displayName is the attendee's app's name in the admin center.
func displayName(lab, sample string, a Attendee) string {
	s := fmt.Sprintf("%s: %s (%s) by entra-quickstart", lab, a.Name, sample)
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// attendee makes one attendee's app and bundle through the setup journey, or leaves them when
// both are complete.
func (cfg *Config) attendee(ctx context.Context, tenant provision.Tenant, kind samples.CredentialKind, a Attendee, app *graph.Application, r *AttendeeResult, emit func(Attendee, Phase, string)) error {
	bundle := filepath.Join(cfg.Dir, a.ID)
	r.Attendee = a
	r.UniqueName = provision.LabUniqueName(cfg.Name, a.ID)
	r.DisplayName = displayName(cfg.Name, cfg.Sample.ID, a)
	r.Bundle, r.Zip = a.ID, a.ID+".zip"
	r.Ready = "not checked"

	// Done before: the app exists and the bundle was finished for it. Touch nothing.
	if m, err := readMarker(bundle); err == nil && app != nil && strings.EqualFold(m.ClientID, app.AppID) && m.complete(cfg.Sample, bundle) {
		m.fill(r)
		r.Status = "skipped"
		emit(a, PhaseSkipped, "done in an earlier run")
		return nil
	}
	emit(a, PhaseStarted, "")
	keyFile := filepath.Join(cfg.Dir, keysDir, a.ID+".pem")
	if kind == samples.Certificate {
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return fmt.Errorf("the keys folder: %w", err)
		}
	}
	// No bundle holds this app's secret, so a new one is needed; a certificate on disk is reused
	// (the key is saved before the upload).
	renew := journey.RenewNever
	if kind == samples.Secret {
		renew = journey.RenewAlways
	}
	s := journey.Session{Engine: provision.New(cfg.Graph, provision.Options{Now: cfg.Now}), Cloud: cfg.Cloud, TenantID: tenant.ID}
	out, err := journey.Run(ctx, s, journey.Request{
		Sample: cfg.Sample, Name: cfg.Name + "." + a.ID, Lab: cfg.Name, Credential: kind,
		SecretLifetime: cfg.SecretLifetime, UserFlow: cfg.UserFlow, Renew: renew, KeyFile: keyFile,
		UniqueName: r.UniqueName, DisplayName: r.DisplayName,
		At:  &journey.Location{Dir: filepath.Join(bundle, configDir), ConfigOnly: true, Private: true},
		Git: "none", NewCredential: true,
		// The Graph part, in a slot of the governor.
		Slot:   cfg.Governor.Acquire,
		Retire: journey.RetireAtOnce,
		Wait: journey.Wait{Skip: cfg.ReadyTimeout <= 0, Successes: 1, Interval: cfg.ReadyInterval, Timeout: cfg.ReadyTimeout,
			Optional: true}, // lab status checks later
		Written: func(ctx context.Context, out *journey.Outcome) error {
			if err := cfg.finishBundle(tenant, a, bundle, out, r); err != nil {
				return err
			}
			emit(a, PhaseBundled, r.Zip)
			return nil
		},
		Events: func(ev journey.Event) {
			switch {
			case ev.Step == journey.StepApply && ev.Status == journey.Done:
				res := ev.Result
				r.Status = "created"
				if ev.Plan.App != nil {
					r.Status = "completed"
				}
				r.ClientID, r.ObjectID, r.ServicePrincipalID, r.UserFlowID = res.AppID, res.ObjectID, res.ServicePrincipalID, res.UserFlowID
				emit(a, PhaseApplied, "client id "+res.AppID)
			case ev.Step == journey.StepRetire && ev.Err != nil:
				emit(a, PhaseStarted, "could not remove an older secret: "+ev.Err.Error())
			}
		},
	})
	if err != nil {
		if out != nil && out.Result != nil {
			r.Status = "" // the app is there, the bundle is not
		}
		var se *journey.StepError
		if errors.As(err, &se) && se.Step == journey.StepWrite {
			return fmt.Errorf("writing %s's configuration: %w", a.ID, se.Err)
		}
		return err
	}
	switch {
	case cfg.ReadyTimeout <= 0:
	case out.Ready:
		r.Ready = "yes"
		emit(a, PhaseReady, "")
	case ctx.Err() != nil:
	default:
		r.Ready = "not yet"
		emit(a, PhaseNotReady, out.ReadyErr.Error())
	}
	return nil
}

// finishBundle writes what the journey does not: the marker, handouts and zip around the
// configuration it wrote.
func (cfg *Config) finishBundle(tenant provision.Tenant, a Attendee, bundle string, out *journey.Outcome, r *AttendeeResult) error {
	res := out.Result
	m := &marker{Lab: cfg.Name, Sample: cfg.Sample.ID, Attendee: a, UniqueName: res.UniqueName, DisplayName: res.DisplayName,
		ClientID: res.AppID, ObjectID: res.ObjectID, ServicePrincipalID: res.ServicePrincipalID, UserFlowID: res.UserFlowID,
		TenantID: tenant.ID, TenantDomain: tenant.Domain, Credential: string(res.Credential)}
	switch {
	case res.Secret != "":
		m.SecretKeyID, m.Expires = res.SecretKeyID, res.SecretExpires
	case res.Certificate != nil:
		m.Thumbprint, m.Expires = res.Certificate.Thumbprint, res.Certificate.Cert.NotAfter
	}
	for _, f := range out.Written.Files {
		if filepath.Base(f.Rel) == ".gitignore" {
			continue
		}
		m.Files = append(m.Files, f.Rel)
		if f.Secret {
			m.SecretFiles = append(m.SecretFiles, configDir+"/"+f.Rel)
		}
	}
	m.fill(r)
	if err := writeHandouts(bundle, cfg.handout(a, m)); err != nil {
		return err
	}
	zipped := []string{"HANDOUT.md", "HANDOUT.html"}
	for _, f := range out.Written.Files {
		zipped = append(zipped, configDir+"/"+f.Rel)
	}
	if err := zipBundle(filepath.Join(cfg.Dir, a.ID+".zip"), bundle, a.ID, zipped); err != nil {
		return err
	}
	// The marker last: its presence means the bundle is whole.
	return writeMarker(bundle, m)
}

// withArticle is "a workforce", "an external": a word with its indefinite article.
func withArticle(w string) string {
	if w != "" && strings.ContainsRune("aeiouAEIOU", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}
