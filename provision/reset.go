package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
)

// Filter narrows List and Reset to one sample and/or one name; empty fields match all.
type Filter struct {
	Sample string
	Name   string
	Lab    string // a workshop lab's apps (the lab tag)
	// PurgeEarlier also purges matching apps that were soft-deleted before this run (someone
	// else may be counting on their 30 days to restore them); by default Reset purges only what
	// it deleted.
	PurgeEarlier bool
	// Keep, when set, narrows further (an age, a set the person confirmed). It can only narrow:
	// an app without the entra-quickstart tag never reaches it.
	Keep func(Listed) bool
}

func (f Filter) keep(l Listed) bool { return f.Keep == nil || f.Keep(l) }

func (f Filter) match(tags []string) bool {
	if !slices.Contains(tags, Tag) {
		return false // never anything without our tag
	}
	if f.Sample != "" && !slices.Contains(tags, TagSamplePrefix+tagSafe(f.Sample)) {
		return false
	}
	if f.Name != "" && !slices.Contains(tags, TagNamePrefix+tagSafe(f.Name)) {
		return false
	}
	if f.Lab != "" && !slices.Contains(tags, TagLabPrefix+tagSafe(f.Lab)) {
		return false
	}
	return true
}

// Listed is one app registration made by this tool, as List shows it.
type Listed struct {
	ObjectID    string
	AppID       string
	UniqueName  string
	DisplayName string
	Sample      string // from its tags
	Name        string
	Lab         string // the workshop lab, when it belongs to one
	Created     time.Time
	Deleted     time.Time // zero unless soft-deleted
	// Secrets are the app's client secrets (expiry and hint only); Certificates its keys.
	Secrets      []graph.PasswordCredential
	Certificates []graph.KeyCredential
	// ServicePrincipalID is empty when there is none; Consent is the admin-consented scope.
	ServicePrincipalID string
	Consent            string
	UserFlowID         string
}

func listedOf(a graph.Application) Listed {
	l := Listed{ObjectID: a.ID, AppID: a.AppID, UniqueName: a.UniqueName, DisplayName: a.DisplayName, Created: a.Created, Deleted: a.Deleted, Secrets: a.Passwords}
	for _, k := range a.Keys {
		k.Key = nil
		l.Certificates = append(l.Certificates, k)
	}
	for _, t := range a.Tags {
		if v, ok := strings.CutPrefix(t, TagSamplePrefix); ok {
			l.Sample = v
		}
		if v, ok := strings.CutPrefix(t, TagNamePrefix); ok {
			l.Name = v
		}
		if v, ok := strings.CutPrefix(t, TagLabPrefix); ok {
			l.Lab = v
		}
	}
	return l
}

// List lists the app registrations carrying the entra-quickstart tag (matching f), with their
// secrets' expiry, service principal, consent and user-flow link, and the soft-deleted ones.
func (e *Engine) List(ctx context.Context, f Filter) ([]Listed, error) {
	var live, deleted []graph.Application
	var tenant Tenant
	err := parallel(
		func() (err error) {
			// One read per list, which shows each app's certificates: keys are worth it here.
			live, err = e.g.ListApplications(ctx, graph.AppFilter{Tag: Tag, WithKeys: true})
			return wrapStep("list the app registrations", err)
		},
		func() (err error) {
			deleted, err = e.g.DeletedApplications(ctx)
			return wrapStep("list the deleted app registrations", err)
		},
		func() (err error) { tenant, err = e.TenantFacts(ctx); return err },
	)
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, a := range live {
		if l := listedOf(a); f.match(a.Tags) && f.keep(l) {
			out = append(out, l)
		}
	}
	nLive := len(out)
	for _, a := range deleted {
		if f.match(a.Tags) {
			l := listedOf(a)
			if l.Deleted.IsZero() {
				l.Deleted = time.Now()
			}
			if f.keep(l) {
				out = append(out, l)
			}
		}
	}
	// Details of the live apps: service principal and consent per app, user-flow links once.
	flowOf := map[string]string{}
	var mu sync.Mutex
	var fns []func() error
	if tenant.Type == External && nLive > 0 {
		fns = append(fns, func() error {
			flows, err := e.g.UserFlows(ctx)
			if refused(err) {
				return nil // the role may not read user flows: the links stay unknown
			}
			if err != nil {
				return wrapStep("list the user flows", err)
			}
			var inner []func() error
			for _, fl := range flows {
				inner = append(inner, func() error {
					apps, err := e.g.FlowApps(ctx, fl.ID)
					mu.Lock()
					defer mu.Unlock()
					for _, a := range apps {
						flowOf[strings.ToLower(a)] = fl.ID
					}
					return wrapStep("read the user flow's applications", err)
				})
			}
			return parallel(inner...)
		})
	}
	graphSP := ""
	if nLive > 0 {
		sp, err := e.g.ServicePrincipal(ctx, graph.GraphAppID)
		if err != nil {
			return nil, wrapStep("find Microsoft Graph's service principal", err)
		}
		if sp != nil {
			graphSP = sp.ID
		}
	}
	for i := range out[:nLive] {
		l := &out[i]
		fns = append(fns, func() error {
			sp, err := e.g.ServicePrincipal(ctx, l.AppID)
			if err != nil || sp == nil {
				return wrapStep("read the service principal", err)
			}
			l.ServicePrincipalID = sp.ID
			grants, err := e.g.Grants(ctx, sp.ID)
			for _, g := range grants {
				if g.ResourceID == graphSP && g.ConsentType == graph.AllPrincipals {
					l.Consent = g.Scope
				}
			}
			return wrapStep("read the consent", err)
		})
	}
	if err := parallel(fns...); err != nil {
		return nil, err
	}
	for i := range out[:nLive] {
		out[i].UserFlowID = flowOf[strings.ToLower(out[i].AppID)]
	}
	return out, nil
}

// ResetResult says what Reset removed.
type ResetResult struct {
	Deleted []Listed // soft-deleted by this run
	Purged  []Listed // permanently deleted (with PurgeEarlier, also apps soft-deleted earlier)
	// NotPurged are apps this run deleted but could not purge because the signed-in role may
	// not (403): they stay in deleted items for 30 days. PurgeRefused is that 403.
	NotPurged    []Listed
	PurgeRefused error
}

// PurgeHandOff says, for a person, what a refused purge means and who can finish it; empty
// when nothing was refused.
func (r *ResetResult) PurgeHandOff() string {
	if r == nil || len(r.NotPurged) == 0 {
		return ""
	}
	return fmt.Sprintf("your role may not purge deleted app registrations (Graph answered 403), so the %d app registration(s) deleted here stay in the tenant's deleted items for 30 days, "+
		"restorable, and meanwhile keep counting toward the quota of 250 directory objects a non-admin may create (after a purge they would count a quarter each for 30 days). "+
		"An Application Administrator or Cloud Application Administrator can purge them (entra-quickstart reset --all-tagged), or they go by themselves after 30 days", len(r.NotPurged))
}

// Reset deletes the app registrations carrying the entra-quickstart tag that match f, unlinks
// them from their user flow, and purges them from deleted items, together with any tagged app
// already soft-deleted (the non-admin quota counts deleted objects) and their service
// principals. An app without the tag is never touched.
func (e *Engine) Reset(ctx context.Context, f Filter) (*ResetResult, error) {
	apps, err := e.List(ctx, f)
	if err != nil {
		return nil, err
	}
	res := &ResetResult{}
	var mu sync.Mutex
	var fns []func() error
	for _, l := range apps {
		if !l.Deleted.IsZero() {
			continue
		}
		fns = append(fns, func() error {
			e.report("delete "+l.DisplayName, Started, "")
			if l.UserFlowID != "" {
				if err := e.g.UnlinkUserFlow(ctx, l.UserFlowID, l.AppID); err != nil {
					return actionable("unlink "+l.DisplayName+" from its user flow", err)
				}
			}
			if err := e.g.DeleteApplication(ctx, l.ObjectID); err != nil {
				e.report("delete "+l.DisplayName, Failed, err.Error())
				return actionable("delete "+l.DisplayName, err)
			}
			mu.Lock()
			res.Deleted = append(res.Deleted, l)
			mu.Unlock()
			e.report("delete "+l.DisplayName, Done, "")
			return nil
		})
	}
	if err := parallel(fns...); err != nil {
		return res, err
	}
	// Purge: read deleted items again (what was just deleted, and what was deleted before).
	var deleted []graph.Application
	var deletedSPs []graph.ServicePrincipal
	err = parallel(
		func() (err error) {
			deleted, err = e.g.DeletedApplications(ctx)
			return wrapStep("list the deleted app registrations", err)
		},
		func() (err error) {
			deletedSPs, err = e.g.DeletedServicePrincipals(ctx)
			if graph.IsNotFound(err) {
				return nil
			}
			return wrapStep("list the deleted service principals", err)
		},
	)
	if err != nil {
		return res, err
	}
	fns = nil
	thisRun := map[string]bool{}
	for _, l := range res.Deleted {
		thisRun[strings.ToLower(l.ObjectID)] = true
	}
	for _, a := range deleted {
		l := listedOf(a)
		if !f.match(a.Tags) || !f.keep(l) || (!thisRun[strings.ToLower(l.ObjectID)] && !f.PurgeEarlier) {
			continue
		}
		fns = append(fns, func() error {
			e.report("purge "+l.DisplayName, Started, "")
			if err := e.g.PurgeDeleted(ctx, l.ObjectID); err != nil {
				if ge, ok := graph.AsError(err); ok && ge.Status == 403 {
					// The role may not purge: a hand-off, not a failure (PurgeHandOff).
					mu.Lock()
					res.NotPurged = append(res.NotPurged, l)
					res.PurgeRefused = err
					mu.Unlock()
					e.report("purge "+l.DisplayName, Done, "left in deleted items: your role may not purge")
					return nil
				}
				e.report("purge "+l.DisplayName, Failed, err.Error())
				return actionable("purge "+l.DisplayName+" from deleted items", err)
			}
			for _, sp := range deletedSPs {
				if strings.EqualFold(sp.AppID, l.AppID) {
					if err := e.g.PurgeDeleted(ctx, sp.ID); err != nil {
						return actionable("purge the service principal of "+l.DisplayName, err)
					}
				}
			}
			mu.Lock()
			res.Purged = append(res.Purged, l)
			mu.Unlock()
			e.report("purge "+l.DisplayName, Done, "")
			return nil
		})
	}
	return res, parallel(fns...)
}

// OwnedBy reports whether a directory object (by id) owns a live app (by object id).
func (e *Engine) OwnedBy(ctx context.Context, appObjectID, who string) (bool, error) {
	owners, err := e.g.Owners(ctx, appObjectID, false)
	if err != nil {
		return false, wrapStep("read the app's owners", err)
	}
	return slices.ContainsFunc(owners, func(o graph.Owner) bool { return strings.EqualFold(o.ID, who) }), nil
}

// StateApp is the local record of a Result (no secrets: the keyId or thumbprint only).
func (r *Result) StateApp(cloud, sample, name, folder string) state.App {
	a := state.App{
		Cloud: cloud, TenantID: r.Tenant.ID, TenantDomain: r.Tenant.Domain, TenantType: string(r.Tenant.Type),
		Sample: sample, Name: name, UniqueName: r.UniqueName, DisplayName: r.DisplayName,
		AppID: r.AppID, ObjectID: r.ObjectID, ServicePrincipalID: r.ServicePrincipalID, UserFlowID: r.UserFlowID,
		Folder: folder, Credential: string(r.Credential),
	}
	if r.Secret != "" {
		a.SecretKeyID, a.SecretExpires = r.SecretKeyID, r.SecretExpires
	}
	if r.Certificate != nil {
		a.CertificateThumbprint, a.CertificateKeyFile = r.Certificate.Thumbprint, r.Certificate.KeyFile
	}
	return a
}

// String is one line per app for a person.
func (l Listed) String() string {
	s := fmt.Sprintf("%s  %s  client id %s", l.UniqueName, l.DisplayName, l.AppID)
	if !l.Deleted.IsZero() {
		s += "  (deleted, not purged)"
	}
	return s
}
