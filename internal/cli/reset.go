package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// ResetOptions are the flags of reset.
type ResetOptions struct {
	*GlobalOptions
	TenantType   string
	Sample       string
	Name         string
	OlderThan    time.Duration
	DryRun       bool
	Yes          bool
	RestoreFiles bool
	AllTagged    bool
	Auth         string
}

func newResetCmd(g *GlobalOptions) *cobra.Command {
	o := &ResetOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Delete and purge the app registrations entra-quickstart made, and put the samples back",
		Long: `reset deletes the app registrations carrying the entra-quickstart tag (all of them, or those of
one sample, name or age), unlinks them from their user flows, and purges them from the tenant's
deleted items, together with tagged apps deleted earlier: deleted apps still count against the
non-admin quota of 250 objects. An app without the tag is never touched.

By default it touches only what is yours: apps you own or that this machine's record holds, and
it purges only what it deleted. Other tagged apps (a colleague's, or ones deleted earlier, which
someone may still restore) are listed apart and left alone unless --all-tagged is given. When your
role may not purge (an Application Developer or a member), the deleted apps stay in deleted items
for 30 days: reset says so once, with what it means for the 250-object quota.

It shows what it will delete and asks first (--yes skips the question; --no-input without --yes
refuses). Against the emulator it
covers both of its tenants (workforce and External ID) unless --tenant, --tenant-type or
--sample names one.

--restore-files also puts the samples' configuration back as it was before init: the originals
from their .bak copies, and the files init created removed.`,
		Example: `  entra-quickstart reset --tenant contoso.onmicrosoft.com --dry-run
  entra-quickstart reset --tenant contoso.onmicrosoft.com --sample node-workforce --restore-files
  entra-quickstart reset --emulator --yes --older-than 24h`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReset(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.TenantType, "tenant-type", "t", "", "workforce or external: only the emulator's tenant of that kind (default: both of its tenants)")
	f.StringVarP(&o.Sample, "sample", "s", "", "only this sample's apps")
	f.StringVar(&o.Name, "name", "", "only apps with this name")
	f.DurationVar(&o.OlderThan, "older-than", 0, "only apps created longer ago than this, e.g. 24h")
	f.BoolVar(&o.DryRun, "dry-run", false, "show what would be deleted and change nothing")
	f.BoolVarP(&o.Yes, "yes", "y", false, "delete without asking (needed with --no-input)")
	f.BoolVar(&o.AllTagged, "all-tagged", false, "also delete tagged apps that are not yours (neither owned by you nor on this machine's record) and purge tagged apps deleted earlier")
	f.BoolVar(&o.RestoreFiles, "restore-files", false, "put the samples' configuration files back as they were before init")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	return cmd
}

// ResetResult is reset's JSON.
type ResetResult struct {
	ui.Verdict
	DryRun   bool        `json:"dry_run,omitempty"`
	Deleted  []ListedApp `json:"deleted"`
	Purged   []ListedApp `json:"purged"`
	Restored []string    `json:"restored_files,omitempty"`
	Removed  []string    `json:"removed_files,omitempty"`
	// NotYours are tagged apps left alone: neither owned by you nor on this machine's record
	// (--all-tagged includes them), or deleted before this run.
	NotYours []ListedApp `json:"not_yours,omitempty"`
	// HandOffs are steps left to someone else (a purge your role may not make).
	HandOffs []HandOff `json:"hand_offs,omitempty"`
}

// HandOff is a step the tool left to someone who may take it.
type HandOff struct {
	Step string `json:"step"`          // e.g. "purge", "admin consent"
	To   string `json:"to"`            // who can take it
	What string `json:"what"`          // what it means and how, for a person
	URL  string `json:"url,omitempty"` // where, when there is a page for it
}

// resetGroup is one covered tenant's apps that match, and what this machine's record knows there.
type resetGroup struct {
	kind   samples.TenantType
	tenant tenantRef
	apps   []provision.Listed
	known  map[string]state.App // by lower-case app id
	owned  map[string]bool      // live apps the signed-in caller owns, by lower-case app id
}

func runReset(ctx context.Context, o *ResetOptions) error {
	if o.OlderThan < 0 {
		return usagef("--older-than must not be negative")
	}
	if err := needYes(o.GlobalOptions, o.Yes, o.DryRun, "reset deletes app registrations (--dry-run shows which)"); err != nil {
		return err
	}
	kinds, err := coveredKinds(o.GlobalOptions, o.TenantType, o.Sample)
	if err != nil {
		return err
	}
	ts := &tenantSessions{g: o.GlobalOptions, opts: sessionOptions{Tenant: o.Tenant, AuthMethod: o.Auth, Progress: ui.NewProgress(o.IO, false), ConsentWhenGranting: true}}
	defer ts.Close()
	now := time.Now()
	old := func(l provision.Listed) bool {
		return o.OlderThan == 0 || (!l.Created.IsZero() && now.Sub(l.Created) >= o.OlderThan)
	}
	f := provision.Filter{Sample: o.Sample, Name: o.Name, Keep: old}
	var groups []*resetGroup
	err = ts.each(ctx, kinds, func(k samples.TenantType, s *session) error {
		g := &resetGroup{kind: k, tenant: tenantOf(s), known: map[string]state.App{}, owned: map[string]bool{}}
		rec, err := s.State.Load(ctx)
		if err != nil {
			return err
		}
		for _, a := range rec.InTenant(s.cloudKey(), s.TenantID) {
			g.known[strings.ToLower(a.AppID)] = a
		}
		if g.apps, err = s.Engine.List(ctx, f); err != nil {
			return err
		}
		// Whose the others are: only a live app can be asked for its owners.
		var caller provision.Caller
		for _, l := range g.apps {
			if _, ok := g.known[strings.ToLower(l.AppID)]; ok || !l.Deleted.IsZero() {
				continue
			}
			if caller.ObjectID == "" {
				if caller, err = s.Engine.Caller(ctx); err != nil {
					return err
				}
			}
			mine, err := s.Engine.OwnedBy(ctx, l.ObjectID, caller.ObjectID)
			if err != nil {
				return err
			}
			g.owned[strings.ToLower(l.AppID)] = mine
		}
		groups = append(groups, g)
		return nil
	})
	if err != nil {
		return err
	}
	res := &ResetResult{DryRun: o.DryRun, Deleted: []ListedApp{}, Purged: []ListedApp{}}
	total := 0
	for _, g := range groups {
		total += len(g.apps)
	}
	if total == 0 {
		fmt.Fprintln(o.IO.Err, "Nothing to reset: no app registration made by entra-quickstart matches.")
		return o.print(res)
	}
	// An app is named with its tenant when more than one is covered.
	many := len(groups) > 1
	name := func(g *resetGroup, l provision.Listed) string {
		if many {
			return fmt.Sprintf("%s  (tenant %s)", l, g.tenant)
		}
		return l.String()
	}
	type pick struct {
		g *resetGroup
		l provision.Listed
	}
	var mine, foreign []pick
	for _, g := range groups {
		for _, l := range g.apps {
			_, onRecord := g.known[strings.ToLower(l.AppID)]
			if l.Deleted.IsZero() && (onRecord || g.owned[strings.ToLower(l.AppID)]) {
				mine = append(mine, pick{g, l})
			} else {
				foreign = append(foreign, pick{g, l})
			}
		}
	}
	w := o.IO.Err
	if !o.AllTagged {
		for _, p := range foreign {
			res.NotYours = append(res.NotYours, listedApp(p.l, "", p.g.tenant))
		}
	}
	if len(mine) == 0 && !o.AllTagged {
		fmt.Fprintf(w, "Nothing to reset: %s yours (owned by you or on this machine's record); --all-tagged includes them:\n", noneOf(len(foreign), "tagged app registration"))
		for _, p := range foreign {
			fmt.Fprintf(w, "  - %s\n", safetext.Line(name(p.g, p.l)))
		}
		return o.print(res)
	}
	fmt.Fprintf(w, "\nreset will delete and purge %s of yours:\n", plural(len(mine), "app registration", "app registrations"))
	for _, p := range mine {
		fmt.Fprintf(w, "  - %s\n", safetext.Line(name(p.g, p.l)))
	}
	if len(foreign) > 0 {
		if o.AllTagged {
			fmt.Fprintf(w, "  and, with --all-tagged, made by entra-quickstart for someone else or deleted earlier (unknown to this machine's record):\n")
		} else {
			fmt.Fprintf(w, "  left alone, not yours (made by entra-quickstart for someone else, or deleted earlier; --all-tagged includes them):\n")
		}
		for _, p := range foreign {
			fmt.Fprintf(w, "  - %s\n", safetext.Line(name(p.g, p.l)))
		}
	}
	if !o.AllTagged {
		foreign = nil
	}
	if o.DryRun {
		for _, p := range append(append([]pick(nil), mine...), foreign...) {
			res.Deleted = append(res.Deleted, listedApp(p.l, p.g.known[strings.ToLower(p.l.AppID)].Folder, p.g.tenant))
		}
		fmt.Fprintln(w, "Dry run: nothing was deleted.")
		return o.print(res)
	}
	selected := append(append([]pick(nil), mine...), foreign...)
	if !o.Yes {
		if o.NoInput || (!o.IO.Interactive() && !o.Accessible) {
			return usagef("reset deletes app registrations: pass --yes to confirm (or --dry-run to see what it would delete)")
		}
		wo := o.wizardOptions()
		ok, err := wizard.Confirm(ctx, fmt.Sprintf("Delete and purge %s of yours?", thePlural(len(mine), "app registration", "app registrations")), "", wo)
		if err != nil {
			return err
		}
		selected = nil
		if ok {
			selected = append(selected, mine...)
		}
		if len(foreign) > 0 {
			ok, err := wizard.Confirm(ctx, fmt.Sprintf("Also delete %s this machine did not make?", thePlural(len(foreign), "tagged app registration", "tagged app registrations")), "Someone else may be using them.", wo)
			if err != nil {
				return err
			}
			if ok {
				selected = append(selected, foreign...)
			}
		}
		if len(selected) == 0 {
			return errors.New("nothing was deleted: you did not confirm")
		}
	}
	// Delete tenant by tenant, each in its own session, only where something was chosen.
	ids := map[*resetGroup]map[string]bool{}
	for _, p := range selected {
		if ids[p.g] == nil {
			ids[p.g] = map[string]bool{}
		}
		ids[p.g][strings.ToLower(p.l.ObjectID)] = true
	}
	todo := map[samples.TenantType]*resetGroup{}
	var todoKinds []samples.TenantType
	for _, g := range groups {
		if ids[g] != nil {
			todo[g.kind] = g
			todoKinds = append(todoKinds, g.kind)
		}
	}
	var removed []state.App
	var notPurged int
	err = ts.each(ctx, todoKinds, func(k samples.TenantType, s *session) error {
		g := todo[k]
		chosen := ids[g]
		gf := f
		gf.Keep = func(l provision.Listed) bool { return old(l) && chosen[strings.ToLower(l.ObjectID)] }
		gf.PurgeEarlier = o.AllTagged
		rr, err := s.Engine.Reset(ctx, gf)
		if rr != nil {
			notPurged += len(rr.NotPurged)
			for _, l := range rr.Deleted {
				res.Deleted = append(res.Deleted, listedApp(l, "", g.tenant))
			}
			for _, l := range rr.Purged {
				res.Purged = append(res.Purged, listedApp(l, "", g.tenant))
			}
		}
		if err != nil {
			return fmt.Errorf("%w\nRun reset again to finish: it picks up what is left", err)
		}
		// Forget what is gone.
		gone := map[string]bool{}
		if rr != nil {
			for _, l := range append(append([]provision.Listed(nil), rr.Deleted...), rr.Purged...) {
				gone[strings.ToLower(l.AppID)] = true
			}
		}
		return s.State.Update(ctx, func(r *state.Record) error {
			for _, a := range r.InTenant(s.cloudKey(), s.TenantID) {
				if gone[strings.ToLower(a.AppID)] {
					removed = append(removed, a)
					r.Remove(a.Cloud, a.TenantID, a.UniqueName)
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Deleted %s; purged %d from deleted items.\n", plural(len(res.Deleted), "app registration", "app registrations"), len(res.Purged))
	if o.RestoreFiles {
		o.restoreFiles(res, removed)
	} else {
		o.sayFolders(removed)
	}
	if notPurged > 0 {
		h := HandOff{Step: "purge", To: "an Application Administrator or Cloud Application Administrator",
			What: (&provision.ResetResult{NotPurged: make([]provision.Listed, notPurged)}).PurgeHandOff()}
		res.HandOffs = append(res.HandOffs, h)
		fmt.Fprintf(w, "%s Not purged: %s.\n", ui.MarkWarn, h.What)
	}
	return o.print(res)
}

// sayFolders names the folders the removed apps were written to: their files still hold the
// deleted app's client id (and secret), so the sample there no longer signs in.
func (o *ResetOptions) sayFolders(apps []state.App) {
	seen := map[string]bool{}
	for _, a := range apps {
		if a.Folder == "" || seen[a.Folder] {
			continue
		}
		seen[a.Folder] = true
		fmt.Fprintf(o.IO.Err, "%s %s still holds the deleted app's client id %s: the sample there no longer signs in. Run init for it again, or, to put its files back as they were before init, use reset --restore-files next time (the originals are in its .bak files).\n",
			ui.MarkWarn, safetext.Line(a.Folder), a.AppID)
	}
}

// restoreFiles puts back the configuration of the folders the removed apps were written to,
// each folder once (two samples may share one), each file reported once.
func (o *ResetOptions) restoreFiles(res *ResetResult, apps []state.App) {
	seen := map[string]bool{}
	add := func(list *[]string, paths []string) {
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				*list = append(*list, p)
			}
		}
	}
	done := map[string]bool{}
	for _, a := range apps {
		if a.Folder == "" || done[a.Folder+"|"+a.Sample] {
			continue
		}
		done[a.Folder+"|"+a.Sample] = true
		m, err := samples.Lookup(a.Sample)
		if err != nil {
			continue
		}
		rr, err := templates.Restore(m, a.Folder, a.CreatedFiles)
		if rr != nil {
			add(&res.Restored, rr.Restored)
			add(&res.Removed, rr.Removed)
		}
		if err != nil {
			fmt.Fprintf(o.IO.Err, "%s could not restore %s: %v\n", ui.MarkWarn, a.Folder, err)
		}
	}
}

func (o *ResetOptions) print(r *ResetResult) error {
	return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, r, ExitOK)
}

// Print lists the files put back; the deletions were reported as they happened.
func (r *ResetResult) Print(w io.Writer, _ ui.Styles) {
	for _, p := range r.Restored {
		fmt.Fprintf(w, "restored %s\n", p)
	}
	for _, p := range r.Removed {
		fmt.Fprintf(w, "removed  %s\n", p)
	}
}
