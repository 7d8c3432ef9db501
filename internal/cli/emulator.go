package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emustate"
)

// EmulatorOptions are the flags of `entra-quickstart emulator`.
type EmulatorOptions struct {
	*GlobalOptions
	Listen         string
	Data           string
	Latency        time.Duration
	ReplicationLag time.Duration
	ThrottleScale  int
	// Tenant settings and policies (emulator.Settings), applied to every tenant when a flag is given.
	AllowAppRegistration bool
	UserConsent          bool
	ToolConsent          bool
	BlockSecrets         bool
	MaxSecretLifetime    time.Duration
	CredentialRaceWindow time.Duration
	B2C                  bool
	// AllowRemoteListen lets --listen be other than loopback (the emulator then serves its
	// users' passwords and client secrets to the network).
	AllowRemoteListen bool
}

func newEmulatorCmd(g *GlobalOptions) *cobra.Command {
	o := &EmulatorOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the built-in emulator of Entra ID and Microsoft Graph on this machine",
		Long: `Run the built-in emulator of Microsoft Entra ID (workforce and External ID) and Microsoft Graph
as a standalone HTTPS server, for rehearsing a workshop or pointing a real sample app at it.
While it runs, 'entra-quickstart run' in a sample's folder configured for it (init --emulator-url)
starts the sample with what it needs to reach this emulator and trust its CA, and watches the
sign-in; it finds the emulator through the running state this command keeps in the config folder.

The first line on stdout is one JSON object: the emulator's url, the path of its CA certificate
(ca_file), the admin_token its admin endpoints (<url>/_emulator/...) require as a bearer token
(also written, mode 0600, to the admin-token file beside ca_file), and the seeded tenants with their users (and passwords) and automation clients
(client_id and client_secret, for a Graph token by client credentials). Human-readable help
follows on stderr. It runs until you press Ctrl-C.

Reach it at its url (https://localhost:PORT), or under the real host names
(login.microsoftonline.com, graph.microsoft.com, <name>.ciamlogin.com) by sending those names to
its address: Chromium's --host-resolver-rules, or a hosts-file entry with the emulator on port 443.
It listens only on a loopback address unless --allow-remote-listen says otherwise. Its CA is
valid for 30 days and may vouch only for localhost, the loopback addresses and the hosts it
emulates, so trusting it cannot let anyone impersonate another site.
Faults (latency, throttling, errors, dropped connections, replication lag) can be set at start
or at any time through the admin endpoint <url>/_emulator/faults.

Each tenant is shared by several people with directory roles (Global Administrator, Application
Administrator, Cloud Application Administrator, Application Developer, a member without a role,
and in External ID an External ID User Flow Administrator); Graph allows each what the role allows.
Tenant settings and policies (users may register apps, user consent, an admin's earlier consent to
the wizard's sign-in client, the app management policy, a 409 window on credential writes) are set
with the flags below or through <url>/_emulator/settings.`,
		Example: `  # a free port, state kept in memory
  entra-quickstart emulator

  # a fixed port, and the directory kept across restarts
  entra-quickstart emulator --listen 127.0.0.1:8443 --data ~/.entra-quickstart-emulator.json

  # rehearse a slow, lagging tenant
  entra-quickstart emulator --latency 200ms --replication-lag 5s

  # a locked-down shared tenant
  entra-quickstart emulator --allow-app-registration=false --user-consent=false --max-secret-lifetime 4320h`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEmulator(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	f.StringVar(&o.Data, "data", "", "file that keeps the directory, CA and keys across restarts (written 0600)")
	f.DurationVar(&o.Latency, "latency", 0, "add this latency to every Graph and token call")
	f.DurationVar(&o.ReplicationLag, "replication-lag", 0, "hide new objects from other calls for this long, as Entra's replication does")
	f.IntVar(&o.ThrottleScale, "throttle-scale", 0, "enforce Graph's documented throttling budget divided by this factor (0: off)")
	f.BoolVar(&o.AllowAppRegistration, "allow-app-registration", true, "tenant setting: users without an admin role may register apps")
	f.BoolVar(&o.UserConsent, "user-consent", true, "tenant setting: users may consent for themselves to permissions that need no admin")
	f.BoolVar(&o.ToolConsent, "tool-consent", false, "tenant setting: an admin already consented the wizard's sign-in client for everyone")
	f.BoolVar(&o.BlockSecrets, "block-secrets", false, "app management policy: refuse new client secrets")
	f.DurationVar(&o.MaxSecretLifetime, "max-secret-lifetime", 0, "app management policy: refuse client secrets living longer (0: no limit)")
	f.DurationVar(&o.CredentialRaceWindow, "credential-race-window", 0, "answer 409 Directory_ConcurrencyViolation to credential writes to one app closer together than this (e.g. 500ms; 0: off)")
	f.BoolVar(&o.B2C, "b2c", false, "add an Azure AD B2C tenant (tenantType \"AAD B2C\")")
	f.BoolVar(&o.AllowRemoteListen, "allow-remote-listen", false, "DANGEROUS: allow --listen on a non-loopback address; whoever reaches it can sign in as the seeded users and get their passwords and client secrets")
	return cmd
}

func runEmulator(cmd *cobra.Command, o *EmulatorOptions) error {
	cfg := emulator.FaultConfig{ReplicationLag: emulator.Duration(o.ReplicationLag)}
	if o.Latency < 0 || o.ReplicationLag < 0 || o.ThrottleScale < 0 || o.MaxSecretLifetime < 0 || o.CredentialRaceWindow < 0 {
		return usagef("--latency, --replication-lag, --throttle-scale, --max-secret-lifetime and --credential-race-window must not be negative")
	}
	// Settings only when asked for, so a --data file keeps the ones set through the admin endpoint.
	var settings *emulator.Settings
	for _, name := range []string{"allow-app-registration", "user-consent", "tool-consent", "block-secrets", "max-secret-lifetime", "credential-race-window"} {
		if cmd.Flags().Changed(name) {
			settings = &emulator.Settings{
				AllowedToCreateApps: o.AllowAppRegistration, UserConsent: o.UserConsent, ToolConsentGranted: o.ToolConsent,
				AppManagementPolicy:         emulator.AppManagementPolicy{BlockPasswordAddition: o.BlockSecrets, MaxPasswordLifetime: emulator.Duration(o.MaxSecretLifetime)},
				CredentialConcurrencyWindow: emulator.Duration(o.CredentialRaceWindow),
			}
		}
	}
	if o.Latency > 0 {
		for _, r := range []string{"graph.*", "login.token"} {
			cfg.Faults = append(cfg.Faults, emulator.Fault{Route: r, Kind: emulator.FaultLatency, Delay: emulator.Duration(o.Latency)})
		}
	}
	if o.ThrottleScale > 0 {
		cfg.Throttle = emulator.DocumentedThrottle(o.ThrottleScale)
	}
	var dir string
	if o.Data != "" {
		abs, err := filepath.Abs(o.Data)
		if err != nil {
			return usagef("--data %s: %w", o.Data, err)
		}
		o.Data = abs
		dir = filepath.Dir(abs)
	}
	e, err := emulator.Start(emulator.Options{Addr: o.Listen, DataFile: o.Data, Dir: dir, Faults: cfg, Settings: settings, B2CTenant: o.B2C, AllowRemoteListen: o.AllowRemoteListen})
	if errors.Is(err, emulator.ErrRemoteListen) {
		return usagef("--listen %s: %w", o.Listen, err)
	}
	if err != nil {
		return err
	}
	defer e.Close()
	if o.AllowRemoteListen {
		fmt.Fprintf(o.IO.Err, "WARNING: --allow-remote-listen: the emulator listens on %s; anyone who can reach it can sign in as its users and, with the admin token, read their passwords and client secrets. Stop it when the rehearsal ends.\n", e.Addr())
	}
	if why := e.CARenewed(); why != "" {
		fmt.Fprintf(o.IO.Err, "A new CA certificate was made (%s): trust the new %s where you trusted the old one.\n", why, e.CAFile())
	}
	info := e.Info()
	if err := json.NewEncoder(o.IO.Out).Encode(info); err != nil {
		return err
	}
	if f, ok := o.IO.Out.(*os.File); ok {
		_ = f.Sync()
	}
	// The running state `entra-quickstart run` finds this emulator by (the port a sample's
	// config names); removed when it stops.
	if dir, err := emustate.Dir(); err == nil {
		rec := emustate.Running{URL: info.URL, Addr: info.Addr, CAFile: info.CAFile, DataFile: o.Data, PID: os.Getpid(), Started: time.Now().UTC(),
			AdminTokenFile: filepath.Join(filepath.Dir(info.CAFile), emuclient.AdminTokenFile)}
		if p, err := emustate.Write(dir, rec); err != nil {
			fmt.Fprintf(o.IO.Err, "Note: %v; 'entra-quickstart run' will not find this emulator by itself.\n", err)
		} else {
			defer func() { _ = emustate.Remove(p, rec.PID) }()
		}
	}
	printEmulatorHelp(o.IO.Err, e, info)
	<-cmd.Context().Done()
	why := "Ctrl-C"
	switch cause := context.Cause(cmd.Context()); {
	case errors.Is(cause, ErrTerminated):
		why = "SIGTERM"
	case errors.Is(cause, ErrHangup):
		why = "SIGHUP: the terminal closed"
	}
	fmt.Fprintf(o.IO.Err, "\nemulator stopped (%s)\n", why)
	return nil
}

func printEmulatorHelp(w io.Writer, e *emulator.Emulator, info emuclient.Info) {
	fmt.Fprintf(w, "\nEntra ID + Microsoft Graph emulator listening on %s (%s)\n", info.URL, info.Addr)
	fmt.Fprintf(w, "CA certificate: %s\n\n", info.CAFile)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	for _, t := range info.Tenants {
		fmt.Fprintf(tw, "%s tenant\t%s\t%s\n", t.Type, t.Domain, t.ID)
		fmt.Fprintf(tw, "  authority\t%s\t\n", t.Authority)
		for _, u := range t.Users {
			fmt.Fprintf(tw, "  user\t%s\tpassword %s\t%s\n", u.UserPrincipalName, u.Password, strings.Join(u.Roles, ", "))
		}
		fmt.Fprintf(tw, "  automation client\t%s\t(secret in the JSON line on stdout)\n", t.AutomationClient.AppID)
	}
	tw.Flush()
	fmt.Fprintf(w, `
Use it (the admin token is in %[4]s, readable only by you):
  entra-quickstart init --emulator-url %[1]s --ca-file %[2]s
  entra-quickstart run          (in the configured sample's folder: starts it against this emulator)
  TOKEN=$(cat %[4]s)
  curl --cacert %[2]s -H "Authorization: Bearer $TOKEN" %[1]s/_emulator/info
  Graph:      %[1]s/v1.0/organization (bearer token from the tenant's token endpoint)
  Real names: chromium --host-resolver-rules="%[3]s" --ignore-certificate-errors
Faults:       curl --cacert %[2]s -H "Authorization: Bearer $TOKEN" -X POST %[1]s/_emulator/faults -d '{"route":"graph.*","kind":"status","status":503,"times":1}'
Settings:     curl --cacert %[2]s -H "Authorization: Bearer $TOKEN" -X PUT %[1]s/_emulator/settings -d '{"allowedToCreateApps":false}'
Press Ctrl-C to stop.
`, info.URL, info.CAFile, e.HostResolverRules(), shellQuote(filepath.Join(filepath.Dir(info.CAFile), emuclient.AdminTokenFile)))
}
