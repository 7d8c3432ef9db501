// Package cli builds the entra-quickstart command tree: one file per command, each with an
// options struct filled from flags and a run function that calls the packages below. Only this
// package and internal/ui know about the terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/wizard"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// Exit codes: scripts and workshop handouts rely on them.
const (
	ExitOK          = 0
	ExitError       = 1   // the work failed
	ExitUsage       = 2   // a flag or an answer was missing or wrong
	ExitInterrupted = 130 // Ctrl-C (SIGINT), as shells report it; SIGTERM is ExitTerminated
)

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	IO          *ui.Streams
	NoInput     bool
	JSON        bool
	Accessible  bool
	Cloud       string
	Emulator    bool
	EmulatorURL string
	// EmulatorUser (with --emulator or --emulator-url) signs the tool in to Graph as this
	// person of the emulator's tenant, by device code, instead of the automation client.
	EmulatorUser string
	CAFile       string
	// EmulatorToken is the standalone emulator's admin token; empty: read from the admin-token
	// file beside --ca-file.
	EmulatorToken string
	Tenant        string
}

// usageError marks an error as the caller's: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef makes a usage error (exit code 2).
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// sampleIDs is the catalog's sample ids, comma-separated, for the --sample flags' help and
// errors. Reading the catalog parses every manifest, and the command tree lists it in three
// flags on every start: it is read once.
var sampleIDs = sync.OnceValue(func() string { return strings.Join(samples.IDs(), ", ") })

// wizardOptions are the prompts' options: on stderr, plain when asked or when not on a terminal.
func (g *GlobalOptions) wizardOptions() wizard.Options {
	return wizard.Options{In: g.IO.In, Out: g.IO.Err, Accessible: g.Accessible || !g.IO.Interactive()}
}

// confirm asks question (detail below it) and returns nil on a yes, declined on a no, and
// refusal (a usage error naming --yes) when no prompt can be shown.
func (g *GlobalOptions) confirm(ctx context.Context, question, detail string, refusal, declined error) error {
	if !g.IO.Interactive() && !g.Accessible {
		return refusal
	}
	ok, err := wizard.Confirm(ctx, question, detail, g.wizardOptions())
	if err != nil {
		return err
	}
	if !ok {
		return declined
	}
	return nil
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, io *ui.Streams) int {
	root := NewRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil || errors.Is(err, wizard.ErrCancelled) {
		// Ctrl-C at a prompt arrives as a key, not a signal: it ends the run as one.
		code, word := signalExit(ctx)
		fmt.Fprintln(io.Err, word, safetext.Text(err.Error()))
		return code
	}
	// The error may quote Graph, a file or a request: its words reach the terminal escaped.
	fmt.Fprintln(io.Err, "Error:", safetext.Text(err.Error()))
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitError
}

// NewRootCmd builds the command tree.
func NewRootCmd(io *ui.Streams) *cobra.Command {
	g := &GlobalOptions{IO: io}
	root := &cobra.Command{
		Use:   "entra-quickstart",
		Short: "From a Microsoft Entra tenant to a sample web app that signs you in, in one command",
		Long: `entra-quickstart registers an app in Microsoft Entra ID (workforce or External ID) for one of
Microsoft's sample web apps, writes the sample's configuration, and proves with a real sign-in
that it works. It cleans up after itself with 'reset'.

Everything also runs against a built-in emulator of Entra ID and Microsoft Graph
('entra-quickstart emulator', or --emulator), so you can try it with no tenant at all.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.BoolVar(&g.NoInput, "no-input", false, "never prompt; a missing answer is an error that names its flag")
	pf.BoolVar(&g.JSON, "json", false, "print results on stdout as JSON (messages stay on stderr)")
	pf.BoolVar(&g.Accessible, "accessible", false, "plain line-by-line prompts, for screen readers and dumb terminals")
	pf.StringVar(&g.Cloud, "cloud", "public", "Microsoft cloud: public, usgov or china")
	pf.BoolVar(&g.Emulator, "emulator", false, "use the built-in emulator of Entra ID and Graph instead of a real tenant")
	pf.StringVar(&g.EmulatorURL, "emulator-url", "", "use a running standalone emulator at this URL (with --ca-file)")
	pf.StringVar(&g.EmulatorUser, "emulator-user", "", "with --emulator or --emulator-url: sign the tool in to Graph as this person of the emulator (a UPN such as lee@contoso.onmicrosoft.com), by device code, to rehearse their role")
	pf.StringVar(&g.CAFile, "ca-file", "", "PEM file of the standalone emulator's CA (from its first output line)")
	pf.StringVar(&g.EmulatorToken, "emulator-token", "", "the standalone emulator's admin_token (default: read from the admin-token file beside --ca-file)")
	pf.StringVar(&g.Tenant, "tenant", "", "tenant id (GUID) or domain, e.g. contoso.onmicrosoft.com")

	root.AddCommand(newInitCmd(g), newVerifyCmd(g), newListCmd(g), newResetCmd(g), newDoctorCmd(g), newLabCmd(g), newEmulatorCmd(g), newRunCmd(g), newVersionCmd(g), newAuthCmd(g))
	// The bare command is init: `entra-quickstart` alone starts the wizard.
	initCmd := newInitCmd(g)
	root.Flags().AddFlagSet(initCmd.Flags())
	root.RunE = initCmd.RunE
	root.Args = noArgsOrSuggest
	addCompletions(root)
	return root
}
