package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// AuthOptions are the flags of auth login, status and logout.
type AuthOptions struct {
	*GlobalOptions
	TenantType string
	Auth       string
}

func newAuthCmd(g *GlobalOptions) *cobra.Command {
	o := &AuthOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Sign in to Microsoft Graph once, see who is signed in, sign out",
		Long: `The commands that talk to Microsoft Graph (init, list, doctor, reset, lab) sign you in with a
browser or a device code. That sign-in is kept between commands, per cloud and tenant, in an
encrypted token cache (on Linux a file encrypted with a key on the kernel keyring, on macOS the
Keychain, on Windows DPAPI), so the next command in the same tenant does not ask again.

  auth login    signs in now (again, if you were), and keeps the sign-in
  auth status   who is signed in, to which tenant, how, with which permissions (never a token)
  auth logout   forgets kept sign-ins: their records and their token caches

Where no encrypted storage exists (a container without keyctl, for instance), nothing is kept
and each command signs in again; it says so. ` + auth.TokenCacheEnv + `=none asks for that on purpose.`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	login := &cobra.Command{
		Use:   "login",
		Short: "Sign in to Microsoft Graph and keep the sign-in for the next commands",
		Long: `login signs you in to Microsoft Graph for a tenant, with every permission init asks for, and
keeps the sign-in (see 'entra-quickstart auth --help'). A sign-in already kept for that tenant is
replaced. With --auth azure-cli or environment nothing is kept here: those keep their own.

Against the emulator, --emulator-user names who signs in (the emulator's scripted browser
enters the device code), as with every other command.`,
		Example: `  entra-quickstart auth login --tenant contoso.onmicrosoft.com
  entra-quickstart auth login --tenant contoso.onmicrosoft.com --auth device-code
  entra-quickstart auth login --emulator-url https://localhost:8443 --ca-file ca.pem --emulator-user adele`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuthLogin(cmd.Context(), o) },
	}
	lf := login.Flags()
	lf.StringVar(&o.TenantType, "tenant-type", "", "workforce or external: External ID tenants also need the user-flow permission (default: workforce)")
	lf.StringVar(&o.Auth, "auth", "auto", "how you sign in to Graph: auto, browser, device-code, azure-cli or environment")
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the kept sign-ins: who, which tenant, which method, which permissions",
		Long: `status lists the sign-ins kept in this config folder: who signed in, to which tenant and cloud,
how (browser or device code), with which Graph permissions, when, and whether the encrypted
token cache still holds them. It never prints a token. --tenant, --cloud or --emulator-url
narrow the list. It exits 1 when nothing is kept.`,
		Example: `  entra-quickstart auth status
  entra-quickstart auth status --tenant contoso.onmicrosoft.com --json`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuthStatus(cmd, o) },
	}
	logout := &cobra.Command{
		Use:   "logout",
		Short: "Forget kept sign-ins: their records and their encrypted token caches",
		Long: `logout forgets the sign-ins kept in this config folder (all of them, or those of --tenant,
--cloud or --emulator-url): it removes each record, its encrypted token cache and the cache's
key. The next command that talks to Graph signs you in again. Your account and the tenant are
not changed.`,
		Example: `  entra-quickstart auth logout
  entra-quickstart auth logout --tenant contoso.onmicrosoft.com`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuthLogout(cmd, o) },
	}
	cmd.AddCommand(login, status, logout)
	return cmd
}

// runAuthLogin signs in to the target tenant and keeps the sign-in.
func runAuthLogin(ctx context.Context, o *AuthOptions) error {
	kind, err := tenantKindFlag(o.TenantType, "")
	if err != nil {
		return err
	}
	emulated := o.Emulator || o.EmulatorURL != ""
	if m := auth.Method(o.Auth); emulated && o.EmulatorUser == "" && m != auth.MethodBrowser && m != auth.MethodDeviceCode {
		return usagef("against the emulator, auth login signs a person in: pass --emulator-user (e.g. --emulator-user adele), or --auth device-code")
	}
	prog := ui.NewProgress(o.IO, true)
	s, err := openSession(ctx, o.GlobalOptions, sessionOptions{Tenant: o.Tenant, Kind: kind, AuthMethod: o.Auth, Progress: prog})
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.Cred.SignIn(ctx)
	if err != nil {
		return fmt.Errorf("sign in to Microsoft Graph: %w", err)
	}
	res := &authLoginResult{Username: r.Username, TenantID: s.TenantID, Cloud: s.Cloud.Name, Method: string(r.Method), Scopes: r.Scopes, Kept: r.Kept}
	if r.NotKept != nil {
		res.NotKept = r.NotKept.Error()
	}
	return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, res, ExitOK)
}

// authLoginResult is auth login's result. It holds no token.
type authLoginResult struct {
	ui.Verdict
	Username string   `json:"username"`
	TenantID string   `json:"tenant_id"`
	Cloud    string   `json:"cloud"`
	Method   string   `json:"method"`
	Scopes   []string `json:"scopes"`
	Kept     bool     `json:"kept"`
	NotKept  string   `json:"not_kept,omitempty"`
}

func (r *authLoginResult) Print(w io.Writer, _ ui.Styles) {
	fmt.Fprintf(w, "Signed in to tenant %s (%s cloud) as %s, by %s.\n", r.TenantID, r.Cloud, safetext.Line(orUnknown(r.Username)), r.Method)
	fmt.Fprintf(w, "Permissions: %s\n", safetext.Line(strings.Join(r.Scopes, ", ")))
	switch {
	case r.Kept:
		fmt.Fprintln(w, "This sign-in is kept: the next commands in this tenant use it. 'entra-quickstart auth logout' forgets it.")
	case r.NotKept != "":
		fmt.Fprintf(w, "Not kept: %s\n", r.NotKept)
	default:
		fmt.Fprintf(w, "Nothing is kept here: %s keeps its own sign-in.\n", r.Method)
	}
}

// authFilter picks the kept sign-ins status and logout work on, from --tenant, --cloud and the
// emulator flags. It reaches nothing: status and logout work without the network.
func authFilter(cmd *cobra.Command, g *GlobalOptions) (auth.Filter, error) {
	f := auth.Filter{Tenant: strings.TrimSpace(g.Tenant)}
	switch {
	case g.EmulatorURL != "":
		f.LoginBase = strings.TrimRight(g.EmulatorURL, "/")
	case g.Emulator:
		f.Cloud = "emulator"
	case cmd.Flags().Changed("cloud"):
		c, err := auth.CloudByName(g.Cloud)
		if err != nil {
			return f, usagef("--cloud: %w", err)
		}
		f.Cloud = c.Name
	}
	return f, nil
}

// authSignIn is one kept sign-in in status and logout. It holds no token.
type authSignIn struct {
	Username  string    `json:"username"`
	TenantID  string    `json:"tenant_id"`
	Cloud     string    `json:"cloud"`
	LoginBase string    `json:"login_base"`
	Method    string    `json:"method"`
	Scopes    []string  `json:"scopes"`
	SignedIn  time.Time `json:"signed_in"`
	// TokenCache is "encrypted" when the cache holds the tokens, "empty" when it no longer
	// does (the next command signs in again).
	TokenCache string `json:"token_cache"`
}

func signInsOf(list []auth.KeptStatus) []authSignIn {
	out := make([]authSignIn, 0, len(list))
	for _, k := range list {
		tc := "empty"
		if k.CacheFound {
			tc = "encrypted"
		}
		out = append(out, authSignIn{Username: k.Username(), TenantID: k.TenantID, Cloud: k.Cloud, LoginBase: k.LoginBase,
			Method: string(k.Method), Scopes: k.Scopes, SignedIn: k.SignedIn, TokenCache: tc})
	}
	return out
}

func runAuthStatus(cmd *cobra.Command, o *AuthOptions) error {
	f, err := authFilter(cmd, o.GlobalOptions)
	if err != nil {
		return err
	}
	dir, err := appdir.Dir()
	if err != nil {
		return err
	}
	list, err := auth.NewSignIns(dir).List(f)
	if err != nil {
		return err
	}
	res := &authStatusResult{SignIns: signInsOf(list), CacheMode: string(cacheMode())}
	var result error
	if len(list) == 0 {
		result = errors.New("not signed in: run 'entra-quickstart auth login' (with --tenant), or any command that talks to Graph")
	}
	if err := ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, res, exitCodeOf(cmd.Context(), result)); err != nil {
		return err
	}
	return result
}

// cacheMode is the token cache mode the environment asks for (an unknown value reads as the
// default here; the commands that sign in refuse it with the reason).
func cacheMode() auth.CacheMode {
	m, err := auth.ParseCacheMode(os.Getenv(auth.TokenCacheEnv))
	if err != nil {
		return auth.CacheKeyring
	}
	return m
}

// authStatusResult is auth status's result. It holds no token.
type authStatusResult struct {
	ui.Verdict
	SignIns   []authSignIn `json:"signins"`
	CacheMode string       `json:"token_cache_mode"`
}

func (r *authStatusResult) Print(w io.Writer, _ ui.Styles) {
	if len(r.SignIns) == 0 {
		fmt.Fprintln(w, "No sign-in is kept.")
		return
	}
	for i, s := range r.SignIns {
		if i > 0 {
			fmt.Fprintln(w)
		}
		where := s.Cloud + " cloud"
		if s.Cloud == "emulator" {
			where = "emulator at " + s.LoginBase
		}
		fmt.Fprintf(w, "%s\n", safetext.Line(orUnknown(s.Username)))
		fmt.Fprintf(w, "  Tenant:       %s (%s)\n", safetext.Line(s.TenantID), safetext.Line(where))
		fmt.Fprintf(w, "  Method:       %s, on %s\n", s.Method, s.SignedIn.Local().Format("2006-01-02 15:04"))
		fmt.Fprintf(w, "  Permissions:  %s\n", safetext.Line(strings.Join(s.Scopes, ", ")))
		if s.TokenCache == "encrypted" {
			fmt.Fprintln(w, "  Token cache:  encrypted, kept")
		} else {
			fmt.Fprintln(w, "  Token cache:  empty (the next command signs in again)")
		}
	}
}

func runAuthLogout(cmd *cobra.Command, o *AuthOptions) error {
	f, err := authFilter(cmd, o.GlobalOptions)
	if err != nil {
		return err
	}
	dir, err := appdir.Dir()
	if err != nil {
		return err
	}
	removed, err := auth.NewSignIns(dir).Remove(f)
	if err != nil {
		return fmt.Errorf("sign out: %w; remove the files named there by hand", err)
	}
	return ui.Render(o.IO.Out, ui.NewStyles(false), o.JSON, &authLogoutResult{SignedOut: signInsOf(removed)}, ExitOK)
}

// authLogoutResult is auth logout's result.
type authLogoutResult struct {
	ui.Verdict
	SignedOut []authSignIn `json:"signed_out"`
}

func (r *authLogoutResult) Print(w io.Writer, _ ui.Styles) {
	if len(r.SignedOut) == 0 {
		fmt.Fprintln(w, "No sign-in was kept: nothing to forget.")
		return
	}
	for _, s := range r.SignedOut {
		fmt.Fprintf(w, "Signed out %s from tenant %s: its record and token cache are removed.\n", safetext.Line(orUnknown(s.Username)), safetext.Line(s.TenantID))
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
