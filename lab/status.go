package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// StatusConfig says which lab to check.
type StatusConfig struct {
	Name string
	// Dir is the lab's folder, whose bundles hold the credentials to probe; empty checks the
	// apps alone.
	Dir   string
	Graph *graph.Client
	Cloud auth.Cloud
	// Concurrency bounds the token probes at once; default 8.
	Concurrency int
}

// StatusReport is every attendee's app and whether its credential works. No secret.
type StatusReport struct {
	Lab       string           `json:"lab"`
	Sample    string           `json:"sample,omitempty"`
	TenantID  string           `json:"tenant_id"`
	Tenant    string           `json:"tenant_domain"`
	Dir       string           `json:"dir,omitempty"`
	Attendees []AttendeeStatus `json:"attendees"`
	Apps      int              `json:"apps"`    // live apps of the lab
	Working   int              `json:"working"` // credentials that got a token
	Deleted   int              `json:"deleted"` // soft-deleted apps of the lab, not purged
}

// AttendeeStatus is one line of lab status.
type AttendeeStatus struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	ClientID    string `json:"client_id,omitempty"`
	// App is present, missing or deleted (soft-deleted, not purged).
	App     string `json:"app"`
	Consent bool   `json:"consent"`
	// Credential is works, not yet (with why), refused (with why), no bundle, or
	// "bundle holds another app".
	Credential string    `json:"credential"`
	Works      bool      `json:"works"`
	Expires    time.Time `json:"expires,omitzero"`
	InRoster   bool      `json:"in_roster"`
}

// Status lists the lab's apps (live and soft-deleted) and probes each attendee's credential
// once, with what the bundle holds, as WaitReady does on each poll.
func Status(ctx context.Context, cfg StatusConfig) (*StatusReport, error) {
	if err := ValidateName(cfg.Name); err != nil {
		return nil, err
	}
	eng := provision.New(cfg.Graph, provision.Options{ExternalIDProbe: cfg.Cloud.IsExternalIDTenant})
	listed, err := eng.List(ctx, provision.Filter{Lab: cfg.Name})
	if err != nil {
		return nil, err
	}
	tenant, err := eng.TenantFacts(ctx)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{Lab: cfg.Name, TenantID: tenant.ID, Tenant: tenant.Domain, Dir: cfg.Dir, Attendees: []AttendeeStatus{}}
	var idx *Report
	if cfg.Dir != "" {
		if idx, err = ReadIndex(cfg.Dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if idx != nil && idx.Lab != cfg.Name {
			return nil, fmt.Errorf("%s holds the lab %s, not %s: give the lab's folder with --dir", cfg.Dir, idx.Lab, cfg.Name)
		}
	}
	live := map[string]provision.Listed{}
	deleted := map[string]provision.Listed{}
	for _, l := range listed {
		if l.Deleted.IsZero() {
			live[l.UniqueName] = l
			rep.Apps++
			if rep.Sample == "" {
				rep.Sample = l.Sample
			}
		} else {
			deleted[l.UniqueName] = l
			rep.Deleted++
		}
	}
	if idx != nil {
		rep.Sample = idx.Sample
	}
	var m *samples.Manifest
	if rep.Sample != "" {
		if m, err = samples.Lookup(rep.Sample); err != nil {
			return nil, err
		}
	}

	// One line per attendee of the index, then the lab's apps the index does not know.
	seen := map[string]bool{}
	if idx != nil {
		for _, a := range idx.Attendees {
			un := provision.LabUniqueName(cfg.Name, a.ID)
			seen[un] = true
			rep.Attendees = append(rep.Attendees, line(a.Attendee, un, live, deleted, true))
		}
	}
	var extra []AttendeeStatus
	for un, l := range live {
		if !seen[un] {
			id := strings.TrimPrefix(l.Name, cfg.Name+".")
			extra = append(extra, line(Attendee{ID: id}, un, live, deleted, false))
			seen[un] = true
		}
	}
	for un, l := range deleted {
		if !seen[un] {
			id := strings.TrimPrefix(l.Name, cfg.Name+".")
			extra = append(extra, line(Attendee{ID: id}, un, live, deleted, false))
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].ID < extra[j].ID })
	rep.Attendees = append(rep.Attendees, extra...)

	// Probe the credentials, a few at a time (the token endpoint is not Graph's budget).
	n := cfg.Concurrency
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range rep.Attendees {
		s := &rep.Attendees[i]
		if s.App != "present" {
			s.Credential = "no app"
			continue
		}
		if cfg.Dir == "" || m == nil {
			s.Credential = "not checked (no lab folder)"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			probe(ctx, cfg, tenant.ID, m, filepath.Join(cfg.Dir, s.ID), s)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	for _, s := range rep.Attendees {
		if s.Works {
			rep.Working++
		}
	}
	return rep, nil
}

func line(a Attendee, un string, live, deleted map[string]provision.Listed, inRoster bool) AttendeeStatus {
	s := AttendeeStatus{ID: a.ID, Name: a.Name, Email: a.Email, App: "missing", InRoster: inRoster}
	if l, ok := live[un]; ok {
		s.App, s.DisplayName, s.ClientID, s.Consent = "present", l.DisplayName, l.AppID, l.Consent != ""
	} else if l, ok := deleted[un]; ok {
		s.App, s.DisplayName, s.ClientID = "deleted", l.DisplayName, l.AppID
	}
	return s
}

// probe asks for one token with the credential the attendee's bundle holds.
func probe(ctx context.Context, cfg StatusConfig, tenantID string, m *samples.Manifest, bundle string, s *AttendeeStatus) {
	c, err := templates.Read(m, filepath.Join(bundle, configDir))
	if err != nil {
		s.Credential = "no bundle"
		return
	}
	if !strings.EqualFold(c.ClientID, s.ClientID) {
		s.Credential = "bundle holds another app (" + c.ClientID + ")"
		return
	}
	r := &provision.Result{AppID: s.ClientID}
	switch {
	case c.ClientSecret != "":
		r.Secret = graph.Secret(c.ClientSecret)
	case c.Certificate != nil:
		cert, key, err := templates.LoadPFX(c.Certificate.Path, c.Certificate.Password)
		if err != nil {
			s.Credential = "refused: the bundle's certificate does not load: " + err.Error()
			return
		}
		r.Certificate = &provision.Cert{Cert: cert, Key: key, Thumbprint: c.Certificate.Thumbprint}
		s.Expires = cert.NotAfter
	default:
		s.Credential = "no credential in the bundle"
		return
	}
	if mk, err := readMarker(bundle); err == nil {
		s.Expires = mk.Expires
	}
	ok, reason, err := provision.Probe(ctx, provision.ReadyConfig{TokenURL: cfg.Cloud.TokenURL(tenantID), HTTPClient: cfg.Cloud.HTTPClient()}, r)
	switch {
	case ok:
		s.Credential, s.Works = "works", true
	case err != nil:
		s.Credential = "refused: " + err.Error()
	default:
		s.Credential = "not yet: " + reason
	}
}

// Apps lists the lab's apps, live and soft-deleted (what Reset will remove).
func Apps(ctx context.Context, g *graph.Client, name string) ([]provision.Listed, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return provision.New(g, provision.Options{}).List(ctx, provision.Filter{Lab: name})
}

// Reset deletes every app of the lab and purges it from deleted items, with its service
// principal, soft-deleted ones included. Apps without the lab's tag are never touched.
func Reset(ctx context.Context, g *graph.Client, name string, progress func(provision.Event)) (*provision.ResetResult, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return provision.New(g, provision.Options{Progress: progress}).Reset(ctx, provision.Filter{Lab: name, PurgeEarlier: true})
}

// Record is what this machine remembers of a lab, so that status finds its folder. No secret.
type Record struct {
	Name     string    `json:"name"`
	Dir      string    `json:"dir"`
	Sample   string    `json:"sample"`
	TenantID string    `json:"tenant_id"`
	Cloud    string    `json:"cloud"`
	Updated  time.Time `json:"updated"`
}

func recordPath(dir, name string) string { return filepath.Join(dir, name+".json") }

// SaveRecord keeps a lab's record in dir (one file per lab, mode 0600).
func SaveRecord(dir string, r Record) error {
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("the labs folder %s: %w", dir, err)
	}
	return writeJSON(recordPath(dir, r.Name), r)
}

// LoadRecord reads a lab's record; the error wraps os.ErrNotExist when there is none.
func LoadRecord(dir, name string) (*Record, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return readJSON[Record](recordPath(dir, name))
}

// RemoveRecord forgets a lab (after reset); a missing record is no error.
func RemoveRecord(dir, name string) error {
	if err := os.Remove(recordPath(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
