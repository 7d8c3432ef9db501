package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/lab"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// LabOptions are the flags every lab command takes (beside the global ones).
type LabOptions struct {
	*GlobalOptions
	Name       string
	Yes        bool
	Auth       string
	TenantType string
}

// LabProvisionOptions are lab provision's flags.
type LabProvisionOptions struct {
	*LabOptions
	Sample         string
	Attendees      int
	Roster         string
	Dir            string
	Credential     string
	SecretLifetime lifetime
	UserFlow       string
	ReadyTimeout   time.Duration
	MaxConcurrency int
}

// LabStatusOptions are lab status's flags.
type LabStatusOptions struct {
	*LabOptions
	Dir string
}

func newLabCmd(g *GlobalOptions) *cobra.Command {
	o := &LabOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Workshop mode: an app and a config bundle for every attendee, their status, and a reset",
		Long: `lab prepares a workshop: one app registration per attendee, each with a bundle holding the
sample's configuration (with the attendee's secret), a one-page handout and a zip to hand out,
plus an index for the instructor. Then 'lab status' checks every attendee's credential and
'lab reset' deletes and purges every app of the lab, and nothing else.

Apps are made concurrently within Microsoft Graph's throttling budget; a run that stops part
way is finished by running the same command again (what is done is left as it is).`,
		Example: `  # rehearse with the built-in emulator: 30 numbered attendees
  entra-quickstart lab provision --emulator --name rehearsal --sample node-workforce --attendees 30 --dir ./rehearsal --yes

  # the real room, from a roster (name,email per line)
  entra-quickstart lab provision --tenant contoso.onmicrosoft.com --name build-2026 \
      --sample flask-workforce --roster attendees.csv --dir ./build-2026

  entra-quickstart lab status --tenant contoso.onmicrosoft.com --name build-2026
  entra-quickstart lab reset  --tenant contoso.onmicrosoft.com --name build-2026 --yes`,
		// A word after lab that is none of its commands is a mistyped one: exit 2 with the
		// nearest; lab alone shows the help.
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLabProvisionCmd(o), newLabStatusCmd(o), newLabResetCmd(o))
	return cmd
}

// labFlag is one of the flags the lab commands share.
type labFlag int

const (
	labYes        labFlag = 1 << iota // --yes, shown
	labTenantType                     // --tenant-type, shown
)

// addLabFlags gives a lab command the flags the three share, as its own flags (so that its
// help lists them under Flags): --name and --auth always; --yes and --tenant-type shown where
// show says the command uses them, and otherwise accepted but hidden, so that one set of
// flags works for every lab step of a script.
func addLabFlags(cmd *cobra.Command, o *LabOptions, show labFlag) {
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "the lab's name: lower-case letters, digits, '.', '_' and '-', e.g. build-2026 (tags every app of the lab)")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	f.BoolVarP(&o.Yes, "yes", "y", false, "do it without asking (needed with --no-input)")
	f.StringVarP(&o.TenantType, "tenant-type", "t", "", "workforce or external: which emulator tenant, when neither --tenant nor the lab's record says")
	if show&labYes == 0 {
		_ = f.MarkHidden("yes")
	}
	if show&labTenantType == 0 {
		_ = f.MarkHidden("tenant-type")
	}
}

func newLabProvisionCmd(lo *LabOptions) *cobra.Command {
	o := &LabProvisionOptions{LabOptions: lo}
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Make an app and a bundle for every attendee (run it again to finish an interrupted run)",
		Long: `lab provision makes one app registration per attendee for the sample, each with a bundle
in --dir: the sample's configuration with the attendee's own secret (or certificate), a
one-page handout, and a zip of both to hand out; plus INDEX.md and index.html for the
instructor (ids and paths, no secret). Give the attendees as a number (--attendees) or a CSV
roster (--roster).

It asks before creating anything (--yes skips the question; --no-input without --yes
refuses). A run that stops part way is finished by running the same command again: what is
done is left as it is.`,
		Example: `  # rehearse with the built-in emulator: 30 numbered attendees
  entra-quickstart lab provision --emulator --name rehearsal --sample node-workforce --attendees 30 --dir ./rehearsal --yes

  # the real room, from a roster (name,email per line), secrets valid for 3 days
  entra-quickstart lab provision --tenant contoso.onmicrosoft.com --name build-2026 \
      --sample flask-workforce --roster attendees.csv --dir ./build-2026 --secret-lifetime 3d`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabProvision(cmd.Context(), o) },
	}
	addLabFlags(cmd, lo, labYes)
	f := cmd.Flags()
	f.StringVarP(&o.Sample, "sample", "s", "", "the sample: "+sampleIDs())
	f.IntVar(&o.Attendees, "attendees", 0, "how many attendees (named attendee-01, attendee-02, ...)")
	f.StringVar(&o.Roster, "roster", "", "a CSV roster: name,email per line, or columns named name, email and id")
	f.StringVar(&o.Dir, "dir", "", "where the bundles and the index go (default ./<name>)")
	f.StringVar(&o.Credential, "credential", "", "secret or certificate (default: the sample's)")
	o.SecretLifetime = lifetime(lab.DefaultSecretLifetime)
	f.Var(&o.SecretLifetime, "secret-lifetime", fmt.Sprintf("lifetime of each attendee's secret or certificate, in days (7d) or hours (168h), up to %dd", maxLifetimeDays))
	f.StringVar(&o.UserFlow, "user-flow", "", "External ID: the user flow to link (name or id; default the only or first one, created when there is none)")
	f.DurationVar(&o.ReadyTimeout, "ready-timeout", 2*time.Minute, "how long to wait for each new credential to work (0: do not wait; lab status checks later)")
	f.IntVar(&o.MaxConcurrency, "max-concurrency", 16, "the most attendees provisioned at once (the governor starts at 2 and adapts)")
	return cmd
}

func newLabStatusCmd(lo *LabOptions) *cobra.Command {
	o := &LabStatusOptions{LabOptions: lo}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each attendee's app and whether its credential gets a token",
		Long: `lab status lists every app of the lab in the tenant (soft-deleted ones too) and asks a token
once with each attendee's credential, as the bundle holds it. It finds the lab's tenant and
folder from this machine's record of lab provision; elsewhere, pass --tenant and --dir.

Exit code 0 when every attendee's credential works, 1 otherwise (new ones can take a few
minutes), and 1 for a lab it does not know (it lists the ones it does).`,
		Example: `  entra-quickstart lab status --name build-2026
  entra-quickstart lab status --tenant contoso.onmicrosoft.com --name build-2026 --dir ./build-2026 --json`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabStatus(cmd.Context(), o) },
	}
	addLabFlags(cmd, lo, labTenantType)
	cmd.Flags().StringVar(&o.Dir, "dir", "", "the lab's folder (default: where lab provision wrote it on this machine)")
	return cmd
}

func newLabResetCmd(lo *LabOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Delete and purge every app of the lab (soft-deleted ones included), and nothing else",
		Long: `lab reset deletes every app registration carrying the lab's tag, with its service principal,
and purges it from the tenant's deleted items (soft-deleted ones from earlier runs too). Apps
without the lab's tag are never touched. The attendees' bundles stop working; the lab's
folder stays (its bundles hold the deleted apps' secrets: delete it when you are done).

It asks first (--yes skips the question; --no-input without --yes refuses).`,
		Example: `  entra-quickstart lab reset --name build-2026
  entra-quickstart lab reset --tenant contoso.onmicrosoft.com --name build-2026 --yes`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabReset(cmd.Context(), lo) },
	}
	addLabFlags(cmd, lo, labYes|labTenantType)
	return cmd
}

func labsDir() (string, error) {
	d, err := appdir.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "labs"), nil
}

func (o *LabOptions) checkName() error {
	if o.Name == "" {
		return usagef("--name is required: the lab's name, e.g. --name build-2026")
	}
	return checkName(o.Name)
}

// record is this machine's record of the lab, nil when there is none.
func (o *LabOptions) record() (*lab.Record, error) {
	dir, err := labsDir()
	if err != nil {
		return nil, err
	}
	r, err := lab.LoadRecord(dir, o.Name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return r, err
}

// recordKind is the tenant type of the sample in the lab's record, empty when it is not known.
func recordKind(rec *lab.Record) samples.TenantType {
	if rec == nil {
		return ""
	}
	m, err := samples.Lookup(rec.Sample)
	if err != nil {
		return ""
	}
	return samples.TenantType(m.TenantType)
}

// openLabSession signs in to the lab's tenant: --tenant, else the lab's record, else (emulator)
// the emulator's tenant of kind.
func (o *LabOptions) openLabSession(ctx context.Context, kind samples.TenantType, rec *lab.Record, gov *lab.Governor) (*session, error) {
	tenant := o.Tenant
	if tenant == "" && rec != nil {
		tenant = rec.TenantID
	}
	if kind == "" {
		switch strings.ToLower(o.TenantType) {
		case "", "workforce":
			kind = samples.Workforce
		case "external":
			kind = samples.External
		default:
			return nil, usagef("--tenant-type %q: use workforce or external", o.TenantType)
		}
	}
	so := sessionOptions{Tenant: tenant, Kind: kind, AuthMethod: o.Auth, Events: func(provision.Event) {}}
	if gov != nil {
		so.WrapTransport = gov.Wrap
	}
	return openSession(ctx, o.GlobalOptions, so)
}

func runLabProvision(ctx context.Context, o *LabProvisionOptions) error {
	if err := o.checkName(); err != nil {
		return err
	}
	if o.Sample == "" {
		return usagef("--sample is required: one of %s", sampleIDs())
	}
	m, err := samples.Lookup(o.Sample)
	if err != nil {
		return usageError{err}
	}
	kind := samples.CredentialKind(strings.ToLower(o.Credential))
	if kind != "" && !m.Supports(kind) {
		return usagef("--credential %s: the sample %s supports %v", kind, m.ID, m.Credentials)
	}
	if err := checkLifetime(o.SecretLifetime, false); err != nil {
		return err
	}
	if err := needYes(o.GlobalOptions, o.Yes, false, "lab provision creates app registrations"); err != nil {
		return err
	}
	if o.MaxConcurrency < 1 {
		return usagef("--max-concurrency %d: give 1 or more", o.MaxConcurrency)
	}
	var people []lab.Attendee
	switch {
	case o.Roster != "" && o.Attendees != 0:
		return usagef("--roster and --attendees exclude each other: give one")
	case o.Roster != "":
		f, err := os.Open(o.Roster)
		if err != nil {
			return usagef("--roster: %w", err)
		}
		people, err = lab.ParseRoster(f)
		f.Close()
		if err != nil {
			return usagef("--roster %s: %w", o.Roster, err)
		}
	case o.Attendees != 0:
		if people, err = lab.Numbered(o.Attendees); err != nil {
			return usageError{err}
		}
	default:
		return usagef("who is coming? give --attendees N or --roster FILE.csv")
	}
	dir := o.Dir
	if dir == "" {
		dir = o.Name
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return usagef("--dir: %w", err)
	}
	release, err := lockLab(o.Name, dir) // one provision or reset of a lab at a time (lock.go)
	if err != nil {
		return err
	}
	defer release()
	rec, err := o.record()
	if err != nil {
		return err
	}
	gov := lab.NewGovernor(lab.GovernorOptions{Max: o.MaxConcurrency})
	s, err := o.openLabSession(ctx, samples.TenantType(m.TenantType), rec, gov)
	if err != nil {
		return err
	}
	defer s.Close()

	if !o.Yes {
		if err := o.confirm(ctx, fmt.Sprintf("Create %d app registrations for %s in tenant %s?", len(people), m.ID, s.TenantID),
			fmt.Sprintf("Bundles with the attendees' secrets go to %s.", dir),
			usagef("lab provision creates %d app registrations: pass --yes to go ahead without asking", len(people)),
			errNotConfirmed); err != nil {
			return err
		}
	}

	bar := newLabProgress(o.IO, len(people))
	fmt.Fprintf(o.IO.Err, "Lab %s: %d attendees, sample %s, tenant %s; bundles in %s\n", o.Name, len(people), m.ID, s.TenantID, dir)
	rep, runErr := lab.Provision(ctx, lab.Config{
		Name: o.Name, Sample: m, Credential: kind, Attendees: people, Dir: dir,
		Graph: s.Graph, Governor: gov, Cloud: s.Cloud, Flags: quoteArgs(targetFlags(o.GlobalOptions, s.TenantID)), SecretLifetime: time.Duration(o.SecretLifetime),
		UserFlow: userFlowSpec(o.UserFlow), ReadyTimeout: o.ReadyTimeout, Progress: bar.event,
	})
	bar.finish()
	if rep != nil {
		if dirs, err := labsDir(); err == nil {
			if err := lab.SaveRecord(dirs, lab.Record{Name: o.Name, Dir: dir, Sample: m.ID, TenantID: rep.TenantID, Cloud: s.cloudKey(), Updated: time.Now()}); err != nil {
				fmt.Fprintf(o.IO.Err, "could not remember the lab's folder (%v): pass --dir %s to lab status\n", err, dir)
			}
		}
		if err := ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &labProvisionResult{Report: rep}, exitCodeOf(ctx, runErr)); err != nil {
			return err
		}
	}
	return runErr
}

// labProvisionResult is lab provision's result: the index's content with the verdict.
type labProvisionResult struct {
	ui.Verdict
	*lab.Report
}

func (res *labProvisionResult) Print(w io.Writer, _ ui.Styles) {
	r := res.Report
	fmt.Fprintf(w, "\nLab %s: %s: %d created, %d finished, %d done before, %d failed; %s checked working (in %s)\n",
		r.Lab, plural(len(r.Attendees), "attendee", "attendees"), r.Created, r.Completed, r.Skipped, r.Failed,
		plural(r.Ready, "credential", "credentials"), time.Duration(r.Elapsed).Round(100*time.Millisecond))
	if r.Governor.Throttled > 0 {
		fmt.Fprintf(w, "Graph asked to slow down %s; every request was retried after the wait it asked for.\n", plural(r.Governor.Throttled, "time", "times"))
	}
	fmt.Fprintf(w, "\n  Hand out:    %s/<attendee>.zip (configuration with the attendee's secret, and the handout)\n", r.Dir)
	fmt.Fprintf(w, "  Index:       %s, %s\n", filepath.Join(r.Dir, lab.IndexMD), filepath.Join(r.Dir, lab.IndexHTML))
	// The same cloud and tenant flags as this run: pasted, they reach the same lab.
	flags := ""
	if r.Flags != "" {
		flags = " " + r.Flags
	}
	fmt.Fprintf(w, "  Check:       entra-quickstart lab status --name %s%s\n", r.Lab, flags)
	fmt.Fprintf(w, "  Afterwards:  entra-quickstart lab reset --name %s%s\n", r.Lab, flags)
	for _, a := range r.Attendees {
		if a.Error != "" {
			fmt.Fprintf(w, "  failed: %s: %s\n", a.ID, a.Error)
		}
	}
}

func runLabStatus(ctx context.Context, o *LabStatusOptions) error {
	if err := o.checkName(); err != nil {
		return err
	}
	rec, err := o.record()
	if err != nil {
		return err
	}
	dir := o.Dir
	if dir == "" && rec != nil {
		dir = rec.Dir
	}
	s, err := o.openLabSession(ctx, recordKind(rec), rec, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := lab.Status(ctx, lab.StatusConfig{Name: o.Name, Dir: dir, Graph: s.Graph, Cloud: s.Cloud})
	if err != nil {
		return err
	}
	if rec == nil && rep.Apps == 0 && rep.Deleted == 0 && len(rep.Attendees) == 0 {
		return unknownLab(o.Name, rep.Tenant)
	}
	var notWorking error
	if rep.Working < len(rep.Attendees) {
		notWorking = fmt.Errorf("%d of %d attendees' credentials do not work yet; new ones can take a few minutes, or run the same lab provision command again to repair the others", len(rep.Attendees)-rep.Working, len(rep.Attendees))
	}
	if err := ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &labStatusResult{StatusReport: rep, noDir: dir == ""}, exitCodeOf(ctx, notWorking)); err != nil {
		return err
	}
	return notWorking
}

// unknownLab is lab status's error for a lab with no app in the tenant and no record on this
// machine (exit code 1): it lists the labs this machine knows.
func unknownLab(name, tenant string) error {
	var known []string
	if dir, err := labsDir(); err == nil {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			if n := strings.TrimSuffix(filepath.Base(f), ".json"); lab.ValidateName(n) == nil {
				known = append(known, n)
			}
		}
	}
	if len(known) == 0 {
		return fmt.Errorf("no lab %s: it has no app in tenant %s, and this machine knows no lab (lab provision makes one)", name, tenant)
	}
	return fmt.Errorf("no lab %s: it has no app in tenant %s, and this machine does not know it; the labs it knows: %s", name, tenant, strings.Join(known, ", "))
}

// quoteArgs joins command-line arguments, each quoted for a shell where it needs it.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// labStatusResult is lab status's result: every attendee's app and credential, with the verdict.
type labStatusResult struct {
	ui.Verdict
	*lab.StatusReport
	noDir bool // no bundles to check the credentials in
}

func (res *labStatusResult) Print(w io.Writer, _ ui.Styles) {
	rep := res.StatusReport
	fmt.Fprintf(w, "Lab %s in %s: %d apps, %d credentials working", rep.Lab, rep.Tenant, rep.Apps, rep.Working)
	if rep.Deleted > 0 {
		fmt.Fprintf(w, ", %d deleted (not purged)", rep.Deleted)
	}
	fmt.Fprintln(w)
	if res.noDir {
		fmt.Fprintln(w, "No lab folder known on this machine: pass --dir to check the credentials in the bundles.")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTENDEE\tNAME\tAPP\tCONSENT\tCREDENTIAL\tCLIENT ID")
	for _, a := range rep.Attendees {
		consent := "no"
		if a.Consent {
			consent = "yes"
		}
		name := a.Name
		if !a.InRoster {
			name = "(not in the index)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, name, a.App, consent, a.Credential, a.ClientID)
	}
	_ = tw.Flush()
}

// errNotConfirmed is a lab command's answer to a no.
var errNotConfirmed = errors.New("nothing was changed: you did not confirm")

// labResetResult is what lab reset prints with --json: ids and names, no credential.
type labResetResult struct {
	ui.Verdict
	Lab     string         `json:"lab"`
	Deleted []labResetItem `json:"deleted"`
	Purged  []labResetItem `json:"purged"`
	bundles string         // the lab's folder, whose bundles hold secrets of deleted apps
}

type labResetItem struct {
	UniqueName  string `json:"unique_name"`
	DisplayName string `json:"display_name"`
	ClientID    string `json:"client_id"`
	ObjectID    string `json:"object_id"`
}

func labResetItems(apps []provision.Listed) []labResetItem {
	items := []labResetItem{}
	for _, l := range apps {
		items = append(items, labResetItem{l.UniqueName, l.DisplayName, l.AppID, l.ObjectID})
	}
	return items
}

func runLabReset(ctx context.Context, o *LabOptions) error {
	if err := o.checkName(); err != nil {
		return err
	}
	if err := needYes(o.GlobalOptions, o.Yes, false, "lab reset deletes every app of the lab "+o.Name); err != nil {
		return err
	}
	release, err := lockLab(o.Name, "")
	if err != nil {
		return err
	}
	defer release()
	rec, err := o.record()
	if err != nil {
		return err
	}
	gov := lab.NewGovernor(lab.GovernorOptions{})
	s, err := o.openLabSession(ctx, recordKind(rec), rec, gov)
	if err != nil {
		return err
	}
	defer s.Close()
	apps, err := lab.Apps(ctx, s.Graph, o.Name)
	if err != nil {
		return err
	}
	out := labResetResult{Lab: o.Name, Deleted: []labResetItem{}, Purged: []labResetItem{}}
	if len(apps) == 0 {
		fmt.Fprintf(o.IO.Err, "The lab %s has no apps in tenant %s: nothing to do.\n", o.Name, s.TenantID)
		return o.printReset(out, rec)
	}
	if !o.Yes {
		if err := o.confirm(ctx, fmt.Sprintf("Delete and purge the %d apps of the lab %s in tenant %s?", len(apps), o.Name, s.TenantID),
			"Attendees' bundles stop working. Apps outside the lab are not touched.",
			usagef("lab reset deletes %d apps of the lab %s: pass --yes to go ahead without asking", len(apps), o.Name),
			errNotConfirmed); err != nil {
			return err
		}
	}
	bar := newLabProgress(o.IO, 0)
	res, err := lab.Reset(ctx, s.Graph, o.Name, bar.resetEvent)
	bar.finish()
	if res != nil {
		out.Deleted, out.Purged = labResetItems(res.Deleted), labResetItems(res.Purged)
	}
	if err != nil {
		err = fmt.Errorf("%w\nRun lab reset again: it removes what is left", err)
		_ = ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &out, exitCodeOf(ctx, err))
		return err
	}
	if dirs, err := labsDir(); err == nil {
		_ = lab.RemoveRecord(dirs, o.Name)
	}
	return o.printReset(out, rec)
}

func (o *LabOptions) printReset(r labResetResult, rec *lab.Record) error {
	if rec != nil {
		r.bundles = rec.Dir
	}
	return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &r, ExitOK)
}

func (r *labResetResult) Print(w io.Writer, _ ui.Styles) {
	fmt.Fprintf(w, "Lab %s: %d apps deleted, %d purged from deleted items.\n", r.Lab, len(r.Deleted), len(r.Purged))
	if r.bundles != "" {
		fmt.Fprintf(w, "The bundles in %s hold secrets of deleted apps: delete the folder when you no longer need it.\n", r.bundles)
	}
}
