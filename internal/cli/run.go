package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emustate"
	"github.com/entra-quickstart/entra-quickstart/internal/runner"
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// RunOptions are the flags of run.
type RunOptions struct {
	*GlobalOptions
	Dir    string
	Sample string
}

func newRunCmd(g *GlobalOptions) *cobra.Command {
	o := &RunOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start a configured sample with its own start command, and watch its sign-in",
		Long: `run starts the sample in --dir with the sample's own start command (npm start, flask --debug run,
python manage.py runserver, dotnet run) and reports each step of the sign-in you do in your
browser: the callback at the sample's redirect URI (its code, or its error with a diagnosis) and,
against the emulator, the sign-in page, the code redemption, Graph /me and the sign-out.

When the sample's configuration names an emulator (https://localhost:PORT, as init --emulator-url
or --emulator writes it), the sample runs with what its runtime needs to reach that emulator under
the real host names and trust its CA, and to reach nothing else: Node gets a preload
(NODE_OPTIONS) and NODE_EXTRA_CA_CERTS, Python a sitecustomize (PYTHONPATH), REQUESTS_CA_BUNDLE
and SSL_CERT_FILE, .NET HTTPS_PROXY (a loopback proxy) and SSL_CERT_FILE. The standalone
emulator is found by the running state it keeps in the config folder; --emulator starts the
built-in one in this process instead. Against a real tenant the sample simply starts.

Install the sample's dependencies first (the install steps init printed). Ctrl-C stops the sample
(exit code 130).`,
		Example: `  # after init --emulator-url ... (the standalone emulator still running)
  cd ms-identity-node/App && entra-quickstart run

  # after init --emulator: the built-in emulator, started for as long as the sample runs
  entra-quickstart run --emulator --dir ./flask-web-app`,
		Args: noArgsOrSuggest,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "the sample's folder")
	f.StringVar(&o.Sample, "sample", "", "the sample (default: recognised from the folder's files)")
	return cmd
}

func runRun(ctx context.Context, o *RunOptions) error {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return usagef("--dir: %w", err)
	}
	// The same folders verify and doctor accept (the repository root of a checkout, say).
	m, dir, err := sampleInDir(ctx, o.Sample, dir, targetFlags(o.GlobalOptions, ""))
	if err != nil {
		return err
	}
	cfg, err := templates.Read(m, dir)
	if err != nil {
		return fmt.Errorf("reading the sample's configuration: %w; run 'entra-quickstart init' for this folder first", err)
	}
	if len(m.Run) == 0 {
		return fmt.Errorf("the catalog names no start command for %s", m.ID)
	}
	emu, closeEmu, err := runEmulatorFor(ctx, o.GlobalOptions, cfg.Authority)
	if err != nil {
		return err
	}
	defer closeEmu()

	command := m.Run[len(m.Run)-1]
	st := ui.NewStyles(false)
	errw := o.IO.Err
	against := "a real tenant (" + safetext.Text(cfg.Authority) + ")"
	if emu != nil {
		against = "the emulator at " + emu.URL
	}
	fmt.Fprintf(errw, "%s Starting %s against %s: %s\n", ui.MarkRunning, m.ID, against, st.Code.Render(command))
	sampleOut := o.IO.Out
	if o.JSON {
		sampleOut = o.IO.Err // stdout carries the JSON result alone
	}
	var mu sync.Mutex // the steps and the sample's output share the terminal
	unregister := func() {}
	defer func() { unregister() }()
	res, runErr := runner.Run(ctx, runner.Options{
		// A second Ctrl-C ends this process at once: the sample's group goes with it.
		Started: func(kill func()) { unregister = OnHardStop(ctx, kill) },
		Dir:     dir, Command: command, RedirectURI: cfg.RedirectURI, Emulator: emu, Env: os.Environ(),
		Stdout: lockedWriter{&mu, sampleOut}, Stderr: lockedWriter{&mu, errw},
		Report: func(e runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			printRunEvent(errw, st, e)
		},
	})
	if o.JSON {
		code := exitCodeOf(ctx, runErr)
		if werr := ui.WriteJSON(o.IO.Out, runResult{Verdict: ui.Verdict{OK: code == 0, ExitCode: code}, Sample: m.ID, Dir: dir, Command: command,
			Emulator: emuURL(emu), Result: res}); werr != nil {
			return werr
		}
	}
	if errors.Is(runErr, runner.ErrStopped) {
		return fmt.Errorf("stopped the sample: %w", context.Cause(ctx))
	}
	return runErr
}

// runResult is what run --json prints when it ends.
type runResult struct {
	ui.Verdict
	Sample   string `json:"sample"`
	Dir      string `json:"dir"`
	Command  string `json:"command"`
	Emulator string `json:"emulator,omitempty"`
	runner.Result
}

func emuURL(e *runner.Emulator) string {
	if e == nil {
		return ""
	}
	return e.URL
}

// lockedWriter serialises writes to a writer shared by the sample's output and the steps.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printRunEvent prints one step of the run, with its diagnosis when it failed. The details
// quote the sample and the service: escaped before the terminal.
func printRunEvent(w io.Writer, st ui.Styles, e runner.Event) {
	mark := ui.MarkRunning
	switch e.Status {
	case verify.Passed:
		mark = st.Passed.Render(ui.MarkOK)
	case verify.Failed:
		mark = st.Failed.Render(ui.MarkFail)
	case verify.NotChecked:
		mark = st.Warn.Render(ui.MarkWarn)
	}
	fmt.Fprintf(w, "%s %s: %s\n", mark, runStepTitle(e.Kind), safetext.Text(e.Detail))
	if d := e.Diagnosis; d != nil {
		title := d.Title
		if d.Code != "" && !strings.HasPrefix(d.Code, "local:") {
			title = d.Code + ": " + title
		}
		fmt.Fprintf(w, "    %s\n", safetext.Text(title))
		if d.Explanation != "" {
			fmt.Fprintf(w, "    %s\n", safetext.Text(d.Explanation))
		}
		if d.Fix != "" {
			fmt.Fprintf(w, "    Fix: %s\n", safetext.Text(d.Fix))
		}
	}
}

func runStepTitle(k runner.Kind) string {
	switch k {
	case runner.Started:
		return "Sample"
	case runner.Listening:
		return "Listening"
	case runner.Authorize:
		return verify.StepAuthorize.Title()
	case runner.Callback:
		return verify.StepCallback.Title()
	case runner.Redeemed:
		return verify.StepCodeExchange.Title()
	case runner.GraphMe:
		return verify.StepGraphMe.Title()
	case runner.SignOut:
		return verify.StepSignOut.Title()
	case runner.Refused:
		return "Left this machine"
	case runner.Exited:
		return "Sample ended"
	case runner.Stopping:
		return "Stopping"
	}
	return "Note"
}

// runEmulatorFor is the emulator the sample runs against: the built-in one with --emulator
// (started here), the one --emulator-url names, or the standalone one whose local base the
// sample's authority names (found by its running state); nil for a real tenant.
func runEmulatorFor(ctx context.Context, g *GlobalOptions, authority string) (*runner.Emulator, func(), error) {
	nothing := func() {}
	if g.Emulator || g.EmulatorURL != "" {
		t, err := openTarget(ctx, g)
		if err != nil {
			return nil, nothing, err
		}
		emu := &runner.Emulator{URL: t.Info.URL, Addr: t.Info.Addr, CAFile: t.Info.CAFile, AdminToken: t.Info.AdminToken}
		if !sameBase(authority, emu.URL) {
			t.Close()
			return nil, nothing, usagef("the sample's configuration names %s, not this emulator (%s): run init against it again, or start the emulator the configuration names", safetext.Text(authority), emu.URL)
		}
		return emu, t.Close, nil
	}
	if !emustate.IsLocalBase(authority) {
		return nil, nothing, nil // a real tenant
	}
	dir, err := emustate.Dir()
	if err != nil {
		return nil, nothing, err
	}
	rec, err := emustate.Find(dir, authority)
	if errors.Is(err, emustate.ErrNotRunning) {
		return nil, nothing, emulatorNotRunning(authority, rec)
	}
	if err != nil {
		return nil, nothing, err
	}
	token, err := emuclient.ReadAdminToken(rec.CAFile)
	if err != nil {
		token = "" // the sample still runs; only the emulator's request log goes unwatched
	}
	return &runner.Emulator{URL: rec.URL, Addr: rec.Addr, CAFile: rec.CAFile, AdminToken: token}, nothing, nil
}

// emulatorNotRunning says which emulator the configuration names and how to start it again.
func emulatorNotRunning(authority string, rec emustate.Running) error {
	port := rec.Port()
	if port == "" {
		port = authorityPort(authority)
	}
	// The built-in emulator of init --emulator keeps its port in the config folder.
	if h, err := appdir.Dir(); err == nil {
		if b, err := os.ReadFile(filepath.Join(h, "emulator", "port")); err == nil && strings.TrimSpace(string(b)) == port {
			return fmt.Errorf("the sample's configuration names the built-in emulator at https://localhost:%s (init --emulator), which runs only inside a command: run 'entra-quickstart run --emulator' to start it for as long as the sample runs", port)
		}
	}
	start := "entra-quickstart emulator --listen " + net.JoinHostPort("127.0.0.1", port)
	if rec.DataFile != "" {
		start += " --data " + shellQuote(rec.DataFile)
	}
	msg := fmt.Sprintf("the sample's configuration names the emulator at https://localhost:%s, which is not running: start it in another terminal with '%s', then run this again", port, start)
	if rec.DataFile == "" {
		msg += " (an emulator started without --data forgot the app registration when it stopped: run 'entra-quickstart init --emulator-url ... --ca-file ...' against the new one first)"
	}
	return errors.New(msg)
}

// sameBase reports whether two URLs share scheme, host and port.
func sameBase(a, b string) bool {
	ha, hb := hostPort(a), hostPort(b)
	return ha != "" && strings.EqualFold(ha, hb)
}

func hostPort(s string) string {
	s, _ = strings.CutPrefix(strings.ToLower(s), "https://")
	h, _, _ := strings.Cut(s, "/")
	return h
}

func authorityPort(s string) string {
	_, p, err := net.SplitHostPort(hostPort(s))
	if err != nil {
		return ""
	}
	return p
}
