package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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
Apps without the tag are never shown, nor touched by reset.`,
		Example: `  entra-quickstart list --tenant contoso.onmicrosoft.com
  entra-quickstart list --emulator --tenant-type external --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runList(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.TenantType, "tenant-type", "", "workforce or external (needed only to pick the emulator's tenant)")
	f.StringVar(&o.Sample, "sample", "", "only this sample's apps")
	f.StringVar(&o.Name, "name", "", "only apps with this name")
	f.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	return cmd
}

// ListedApp is one app in list's JSON.
type ListedApp struct {
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
	kind, err := tenantKindFlag(o.TenantType, o.Sample)
	if err != nil {
		return err
	}
	prog := ui.NewProgress(o.IO, true)
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: o.Tenant, Kind: kind, AuthMethod: o.Auth, Progress: prog})
	if err != nil {
		return err
	}
	defer s.Close()
	apps, err := s.Engine.List(ctx, provision.Filter{Sample: o.Sample, Name: o.Name})
	if err != nil {
		return err
	}
	folders := map[string]string{}
	if rec, err := s.State.Load(ctx); err == nil {
		for _, a := range rec.InTenant(s.cloudKey(), s.TenantID) {
			folders[strings.ToLower(a.AppID)] = a.Folder
		}
	}
	out := make([]ListedApp, 0, len(apps))
	for _, l := range apps {
		out = append(out, listedApp(l, folders[strings.ToLower(l.AppID)]))
	}
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printList(o.IO.Out, out)
	return nil
}

func listedApp(l provision.Listed, folder string) ListedApp {
	a := ListedApp{DisplayName: l.DisplayName, UniqueName: l.UniqueName, ClientID: l.AppID, ObjectID: l.ObjectID, Sample: l.Sample, Name: l.Name,
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

func printList(w io.Writer, apps []ListedApp) {
	if len(apps) == 0 {
		fmt.Fprintln(w, "No app registrations made by entra-quickstart in this tenant.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Sample, a.Name, a.ClientID, cred, consent, st)
	}
	tw.Flush()
}

// tenantKindFlag reads --tenant-type, or takes it from --sample.
func tenantKindFlag(tt, sample string) (provision.TenantType, error) {
	switch strings.ToLower(tt) {
	case "workforce":
		return provision.Workforce, nil
	case "external":
		return provision.External, nil
	case "":
	default:
		return "", usagef("--tenant-type %q: use workforce or external", tt)
	}
	if sample != "" {
		m, err := samples.Lookup(sample)
		if err != nil {
			return "", usageError{err}
		}
		return provision.TenantType(m.TenantType), nil
	}
	return provision.Workforce, nil
}
