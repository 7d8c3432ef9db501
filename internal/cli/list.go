package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// ListOptions are the flags of list.
type ListOptions struct {
	*GlobalOptions
	TenantType string
	Sample     string
	Name       string
	Auth       string
}

func newListCmd(g *GlobalOptions) *cobra.Command {
	o := &ListOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the app registrations entra-quickstart made in a tenant",
		Long: `list shows every app registration carrying the entra-quickstart tag in the tenant, with its
sample, client id, secrets' expiry, certificate, service principal, admin consent and user-flow
link, and the ones deleted but not yet purged (they still count against the tenant's quota).
Apps without the tag are never shown, nor touched by reset.

Against the emulator it covers both of its tenants (workforce and External ID) and says which
tenant each app is in, unless --tenant, --tenant-type or --sample names one.`,
		Example: `  entra-quickstart list --tenant contoso.onmicrosoft.com
  entra-quickstart list --emulator --tenant-type external --json`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runList(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.TenantType, "tenant-type", "t", "", "workforce or external: only the emulator's tenant of that kind (default: both of its tenants)")
	f.StringVarP(&o.Sample, "sample", "s", "", "only this sample's apps")
	f.StringVar(&o.Name, "name", "", "only apps with this name")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	return cmd
}

// ListedApp is one app in list's JSON.
type ListedApp struct {
	// The tenant it is in: list and reset against the emulator cover both of its tenants.
	TenantID           string     `json:"tenant_id"`
	TenantDomain       string     `json:"tenant_domain,omitempty"`
	TenantType         string     `json:"tenant_type,omitempty"`
	DisplayName        string     `json:"display_name"`
	UniqueName         string     `json:"unique_name"`
	ClientID           string     `json:"client_id"`
	ObjectID           string     `json:"object_id"`
	Sample             string     `json:"sample"`
	Name               string     `json:"name"`
	Created            time.Time  `json:"created"`
	Deleted            *time.Time `json:"deleted,omitempty"`
	SecretsExpire      []string   `json:"secrets_expire,omitempty"`
	Certificates       []string   `json:"certificates_expire,omitempty"`
	ServicePrincipalID string     `json:"service_principal_id,omitempty"`
	Consent            string     `json:"consent,omitempty"`
	UserFlowID         string     `json:"user_flow_id,omitempty"`
	Folder             string     `json:"folder,omitempty"`
}

func runList(ctx context.Context, o *ListOptions) error {
	kinds, err := coveredKinds(o.GlobalOptions, o.TenantType, o.Sample)
	if err != nil {
		return err
	}
	ts := &tenantSessions{g: o.GlobalOptions, opts: sessionOptions{Tenant: o.Tenant, AuthMethod: o.Auth, Progress: ui.NewProgress(o.IO, true), ReadOnly: true}}
	defer ts.Close()
	out := []ListedApp{}
	var tenants []tenantRef
	err = ts.each(ctx, kinds, func(_ samples.TenantType, s *session) error {
		apps, err := s.Engine.List(ctx, provision.Filter{Sample: o.Sample, Name: o.Name})
		if err != nil {
			return err
		}
		tn := tenantOf(s)
		tenants = append(tenants, tn)
		folders := map[string]string{}
		if rec, err := s.State.Load(ctx); err == nil {
			for _, a := range rec.InTenant(s.cloudKey(), s.TenantID) {
				folders[strings.ToLower(a.AppID)] = a.Folder
			}
		}
		for _, l := range apps {
			out = append(out, listedApp(l, folders[strings.ToLower(l.AppID)], tn))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &listResult{Apps: out, tenants: tenants}, ExitOK)
}

// listResult is list's result: {"ok", "exit_code", "apps": [...]} as JSON, a table for a person.
type listResult struct {
	ui.Verdict
	Apps    []ListedApp `json:"apps"`
	tenants []tenantRef // covered: the table names them when it is empty
}

func (r *listResult) Print(w io.Writer, _ ui.Styles) { printList(w, r.Apps, r.tenants) }

// tenantRef names the tenant an app is in.
type tenantRef struct {
	ID     string
	Domain string // where the emulator says it; a real tenant's is not looked up
	Type   samples.TenantType
}

func (t tenantRef) String() string {
	if t.Domain == "" {
		return t.ID
	}
	return t.Domain
}

// tenantOf names a session's tenant.
func tenantOf(s *session) tenantRef {
	t := tenantRef{ID: s.TenantID}
	if s.Info != nil {
		for _, ti := range s.Info.Tenants {
			if strings.EqualFold(ti.ID, s.TenantID) {
				t.Domain = ti.Domain
				t.Type = samples.TenantType(ti.Type) // the emulator spells the kinds as the catalog does
			}
		}
	}
	return t
}

// coveredKinds are the kinds of tenant list and reset cover: the one of --tenant-type, or of
// --sample's kind. Against the emulator with none of --tenant, --tenant-type and --sample it is
// both of its tenants: init put each sample in the tenant of its kind, and a list or reset that
// saw only the workforce one would hide the External ID apps. Against a real tenant it is the
// one signed in to, whatever its kind.
func coveredKinds(g *GlobalOptions, tt, sample string) ([]samples.TenantType, error) {
	kind, err := tenantKindFlag(tt, sample)
	if err != nil {
		return nil, err
	}
	if (g.Emulator || g.EmulatorURL != "") && g.Tenant == "" && tt == "" && sample == "" {
		return []samples.TenantType{samples.Workforce, samples.External}, nil
	}
	return []samples.TenantType{kind}, nil
}

// tenantSessions opens the sessions of the covered tenants one at a time: the in-process
// emulator keeps its directory in one data file, so two of its sessions must not be open
// together. A lone tenant's session stays open from one call to the next, so a real tenant's
// sign-in happens once.
type tenantSessions struct {
	g        *GlobalOptions
	opts     sessionOptions // Kind is set per tenant
	kept     *session
	keptKind samples.TenantType
}

// each runs fn with the session of each kind's tenant, in order.
// With --emulator-user, a tenant where that person does not exist is skipped when more than one
// is covered (the person belongs to one of the emulator's tenants).
func (ts *tenantSessions) each(ctx context.Context, kinds []samples.TenantType, fn func(samples.TenantType, *session) error) error {
	var absent error
	ran := 0
	for _, k := range kinds {
		s := ts.kept
		if s == nil || ts.keptKind != k {
			ts.Close()
			o := ts.opts
			o.Kind = k
			var err error
			if s, err = openSession(ctx, ts.g, o); err != nil {
				var np *noPersonError
				if len(kinds) > 1 && errors.As(err, &np) {
					if absent == nil {
						absent = err // the first tenant's people are listed
					}
					continue
				}
				return err
			}
		}
		ran++
		ts.kept, ts.keptKind = s, k
		err := fn(k, s)
		if len(kinds) > 1 {
			ts.Close()
		}
		if err != nil {
			return err
		}
	}
	if ran == 0 && absent != nil {
		return absent
	}
	return nil
}

func (ts *tenantSessions) Close() {
	if ts.kept != nil {
		ts.kept.Close()
		ts.kept = nil
	}
}

func listedApp(l provision.Listed, folder string, tn tenantRef) ListedApp {
	a := ListedApp{TenantID: tn.ID, TenantDomain: tn.Domain, TenantType: string(tn.Type),
		DisplayName: l.DisplayName, UniqueName: l.UniqueName, ClientID: l.AppID, ObjectID: l.ObjectID, Sample: l.Sample, Name: l.Name,
		Created: l.Created, ServicePrincipalID: l.ServicePrincipalID, Consent: l.Consent, UserFlowID: l.UserFlowID, Folder: folder}
	if !l.Deleted.IsZero() {
		d := l.Deleted
		a.Deleted = &d
	}
	for _, s := range l.Secrets {
		a.SecretsExpire = append(a.SecretsExpire, s.End.UTC().Format(time.DateOnly))
	}
	for _, c := range l.Certificates {
		a.Certificates = append(a.Certificates, c.End.UTC().Format(time.DateOnly))
	}
	return a
}

// printList prints the apps as a table; with more than one tenant covered, each row says its
// tenant.
func printList(w io.Writer, apps []ListedApp, tenants []tenantRef) {
	if len(apps) == 0 {
		if len(tenants) > 1 {
			names := make([]string, len(tenants))
			for i, t := range tenants {
				names[i] = t.String()
			}
			fmt.Fprintf(w, "No app registrations made by entra-quickstart in the tenants %s.\n", strings.Join(names, " and "))
			return
		}
		fmt.Fprintln(w, "No app registrations made by entra-quickstart in this tenant.")
		return
	}
	many := len(tenants) > 1
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	if many {
		fmt.Fprint(tw, "TENANT\t")
	}
	fmt.Fprintln(tw, "SAMPLE\tNAME\tCLIENT ID\tCREDENTIAL EXPIRES\tCONSENT\tSTATE")
	for _, a := range apps {
		cred := strings.Join(append(append([]string(nil), a.SecretsExpire...), a.Certificates...), ", ")
		if cred == "" {
			cred = "none"
		}
		st := "ready"
		switch {
		case a.Deleted != nil:
			st = "deleted, not purged"
		case a.ServicePrincipalID == "":
			st = "no service principal"
		case a.Consent == "":
			st = "no admin consent"
		}
		consent := a.Consent
		if consent == "" {
			consent = "-"
		}
		if many {
			fmt.Fprintf(tw, "%s\t", tenantRef{ID: a.TenantID, Domain: a.TenantDomain})
		}
		// Sample and name come from the app's tags in Graph: anyone who can edit the app sets them.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", safetext.Line(a.Sample), safetext.Line(a.Name), safetext.Line(a.ClientID), cred, consent, st)
	}
	tw.Flush()
}

// tenantKindFlag reads --tenant-type, or takes it from --sample.
func tenantKindFlag(tt, sample string) (samples.TenantType, error) {
	switch strings.ToLower(tt) {
	case "workforce":
		return samples.Workforce, nil
	case "external":
		return samples.External, nil
	case "":
	default:
		return "", usagef("--tenant-type %q: use workforce or external", tt)
	}
	if sample != "" {
		m, err := samples.Lookup(sample)
		if err != nil {
			return "", usageError{err}
		}
		return samples.TenantType(m.TenantType), nil
	}
	return samples.Workforce, nil
}
