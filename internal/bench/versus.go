package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// The side-by-side row: the same job (a web app registration with a redirect URI, a secret, a
// service principal and admin consent to User.Read) done by the CLI for Microsoft 365
// (`m365 entra app add`, npm @pnp/cli-microsoft365 pinned in testdata/node) and by our tool,
// against one emulator with the same latency, each tool's calls and dependent rounds counted
// from the emulator's request log.

// ToolRun is one tool's runs of the job.
type ToolRun struct {
	Tool     string
	Runs     int
	Median   time.Duration // of the runs that finished; 0 when none did
	Calls    int           // requests to Graph and the token endpoint (the last run)
	Graph    int           // of which Graph calls
	Rounds   int           // dependent rounds: the longest chain of requests each starting after the one before ended
	Failures int
	// Left is what the failed runs left in the tenant (the last failure), e.g. "app without
	// secret, no service principal, no consent"; "" when every run finished.
	Left string
	Err  string // the last failure's message, shortened
}

// Versus is one configuration of the side-by-side row.
type Versus struct {
	Latency time.Duration // per Graph and token call
	SPs     int           // service principals in the tenant
	Lag     time.Duration // replication lag
	// M365 is `m365 entra app add` signed in beforehand; M365Login is `m365 login` and then the
	// add, in a fresh HOME, as a newcomer runs them. Apply is our engine's Apply (signed in and
	// planned beforehand); Init is `entra-quickstart init --no-verify`, process start to exit.
	M365, M365Login, Apply, Init ToolRun
}

// M365Paths are where the CLI for Microsoft 365 and the Node preload that routes it to the
// emulator live in the repository.
type M365Paths struct {
	Node, CLI, Preload string
}

// FindM365 finds node, the pinned CLI for Microsoft 365 under testdata/node and the preload,
// from the module root.
func FindM365(root string) (M365Paths, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return M365Paths{}, fmt.Errorf("node is not installed (apt-get install nodejs npm): %w", err)
	}
	p := M365Paths{
		Node: node,
		CLI:  filepath.Join(root, "testdata", "node", "node_modules", "@pnp", "cli-microsoft365", "dist", "index.js"),
		// The preload `entra-quickstart run` gives Node samples: the emulated hosts to the
		// emulator, every other destination but loopback refused.
		Preload: filepath.Join(root, "internal", "runner", "hooks", "entra-quickstart-run.js"),
	}
	for _, f := range []string{p.CLI, p.Preload} {
		if _, err := os.Stat(f); err != nil {
			return p, fmt.Errorf("%s is missing: run scripts/test-deps.sh (npm ci in testdata/node): %w", f, err)
		}
	}
	return p, nil
}

// m365Runner runs m365 against one emulator under the real host names.
type m365Runner struct {
	p M365Paths
	v *Env
}

// home makes a HOME whose m365 config turns telemetry, prompts and help on failure off.
func (m m365Runner) home() (string, error) {
	home, err := os.MkdirTemp("", "eq-bench-m365-")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(home, ".config", "configstore")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return home, err
	}
	cfg := `{"disableTelemetry":true,"prompt":false,"showHelpOnFailure":false,"autoOpenLinksInBrowser":false,"output":"json","printErrorsAsPlainText":true}`
	return home, os.WriteFile(filepath.Join(dir, "cli-m365-config.json"), []byte(cfg), 0o600)
}

// run runs one m365 command. Its update check is off (CLIMICROSOFT365_NOUPDATE) and the preload
// refuses any destination that is neither the emulator nor loopback; a refused attempt fails
// the run even if m365 swallowed the error.
func (m m365Runner) run(ctx context.Context, home string, args ...string) error {
	cmd := exec.CommandContext(ctx, m.p.Node, append([]string{"--require", m.p.Preload, m.p.CLI}, args...)...)
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "NODE_OPTIONS" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"NODE_EXTRA_CA_CERTS="+m.v.E.CAFile(), "ENTRA_QUICKSTART_EMULATOR_ADDR="+m.v.E.Addr(), "CLIMICROSOFT365_NOUPDATE=1",
		"ENTRA_QUICKSTART_RUN_EVENTS="+filepath.Join(home, "refused.txt"))
	cmd.Dir = home
	cmd.WaitDelay = 2 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String() + " " + out.String())
		return fmt.Errorf("m365 %s: %w: %s", strings.Join(args[:min(3, len(args))], " "), err, shorten(msg, 300))
	}
	if b, err := os.ReadFile(filepath.Join(home, "refused.txt")); err == nil {
		return fmt.Errorf("m365 %s tried to leave loopback: %s", strings.Join(args[:min(3, len(args))], " "), shorten(string(b), 200))
	}
	return nil
}

func (m m365Runner) login(ctx context.Context, home string) error {
	ti, err := m.v.tenant(samples.Workforce)
	if err != nil {
		return err
	}
	return m.run(ctx, home, "login", "--authType", "secret", "--appId", ti.AutomationClient.AppID, "--secret", ti.AutomationClient.Secret, "--tenant", ti.ID)
}

// add is the job by m365: node-workforce's redirect URI on the web platform, a secret, User.Read
// with admin consent (which creates the service principal).
func (m m365Runner) add(ctx context.Context, home, name, redirect string) error {
	return m.run(ctx, home, "entra", "app", "add", "--name", name, "--redirectUris", redirect, "--platform", "web",
		"--withSecret", "--apisDelegated", "https://graph.microsoft.com/User.Read", "--grantAdminConsent", "--output", "json")
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// SeedServicePrincipals adds service principals to the workforce tenant until it has n.
func (v *Env) SeedServicePrincipals(n int) error {
	ti, err := v.tenant(samples.Workforce)
	if err != nil {
		return err
	}
	return v.E.Store().Do(func(d *emulator.Directory) error {
		t := d.Tenant(ti.ID)
		for i := len(t.ServicePrincipals); i < n; i++ {
			appID := emulator.NewGUID()
			t.ServicePrincipals = append(t.ServicePrincipals, &emulator.ServicePrincipal{
				ID: emulator.NewGUID(), AppID: appID, DisplayName: fmt.Sprintf("Seeded app %d", i),
				AppOwnerOrganizationID: emulator.NewGUID(), ServicePrincipalNames: []string{appID},
				ServicePrincipalType: "Application", AccountEnabled: true, CreatedDateTime: time.Now().UTC(),
			})
		}
		return nil
	})
}

// leftBehind says what the tenant holds for the app named name: the registration, its secrets,
// its service principal and a consent grant.
func (v *Env) leftBehind(name string) string {
	ti, err := v.tenant(samples.Workforce)
	if err != nil {
		return err.Error()
	}
	var parts []string
	v.E.Store().View(func(d *emulator.Directory) {
		t := d.Tenant(ti.ID)
		apps := 0
		var app *emulator.Application
		for _, a := range t.Applications {
			if a.DisplayName == name && a.DeletedDateTime == nil {
				apps, app = apps+1, a
			}
		}
		if app == nil {
			parts = append(parts, "nothing")
			return
		}
		if apps > 1 {
			parts = append(parts, fmt.Sprintf("%d apps of that name", apps))
		} else {
			parts = append(parts, "the app")
		}
		if len(app.PasswordCredentials) == 0 {
			parts = append(parts, "no secret")
		}
		sp := t.SPByAppID(app.AppID)
		if sp == nil {
			parts = append(parts, "no service principal")
			return
		}
		for _, g := range t.Grants {
			if g.ClientID == sp.ID {
				return
			}
		}
		parts = append(parts, "no consent")
	})
	return strings.Join(parts, ", ")
}

// DependentRounds is the longest chain of requests in recs in which each starts after the one
// before it ended: the rounds a client waited for one after another (calls made side by side
// count once). It takes the requests by earliest end, as interval scheduling does.
func DependentRounds(recs []emulator.RequestRecord) int {
	type span struct{ start, end time.Time }
	spans := make([]span, 0, len(recs))
	for _, r := range recs {
		spans = append(spans, span{r.Time, r.Time.Add(time.Duration(r.Duration))})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.end.Compare(b.end) })
	n := 0
	var last time.Time
	for _, s := range spans {
		if n == 0 || !s.start.Before(last) {
			n, last = n+1, s.end
		}
	}
	return n
}

// countSince is the Graph and token requests logged since the log had n entries, and their rounds.
func (v *Env) countSince(n int) (calls, graphCalls, rounds int) {
	var recs []emulator.RequestRecord
	for _, r := range v.E.Requests()[n:] {
		if strings.HasPrefix(r.Route, "graph.") || r.Route == "login.token" {
			recs = append(recs, r)
			calls++
			if strings.HasPrefix(r.Route, "graph.") {
				graphCalls++
			}
		}
	}
	return calls, graphCalls, DependentRounds(recs)
}

// timed runs job once for a ToolRun: its time, counts, and on failure what it left behind.
func (v *Env) timed(tr *ToolRun, times *[]time.Duration, name string, job func() error) {
	before := len(v.E.Requests())
	t0 := time.Now()
	err := job()
	d := time.Since(t0)
	tr.Runs++
	tr.Calls, tr.Graph, tr.Rounds = v.countSince(before)
	if err != nil {
		tr.Failures++
		tr.Err = shorten(err.Error(), 160)
		tr.Left = v.leftBehind(name)
		return
	}
	*times = append(*times, d)
}

// RunVersus measures the job by both tools runs times each, interleaved, against one emulator
// with latency on every Graph and token call, sps service principals in the tenant and lag of
// replication. bin is our built binary (for init).
func RunVersus(ctx context.Context, p M365Paths, bin string, latency time.Duration, sps int, lag time.Duration, runs int) (Versus, error) {
	res := Versus{Latency: latency, SPs: sps, Lag: lag}
	res.M365.Tool, res.M365Login.Tool, res.Apply.Tool, res.Init.Tool = "m365 entra app add", "m365 login + entra app add", "Apply", "init --no-verify"
	v, err := Start()
	if err != nil {
		return res, err
	}
	defer v.Close()
	if err := v.SeedServicePrincipals(sps); err != nil {
		return res, err
	}
	m := m365Runner{p: p, v: v}
	home, err := m.home()
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(home)
	man, err := samples.Lookup("node-workforce")
	if err != nil {
		return res, err
	}
	g, err := v.Graph(samples.Workforce, nil)
	if err != nil {
		return res, err
	}
	eng := provision.New(g, provision.Options{})
	tmp, err := os.MkdirTemp("", "eq-bench-versus-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	spec := func(name string) (provision.Spec, error) {
		return provision.SpecFor(man, provision.Answers{Name: name, Credential: samples.Secret, KeyFile: filepath.Join(tmp, name+".pem")})
	}
	warm, err := spec("versus-warm")
	if err != nil {
		return res, err
	}
	redirect := "http://localhost:3000/auth/redirect"
	if len(warm.RedirectURIs) > 0 {
		redirect = warm.RedirectURIs[0]
	}
	// Outside the timing: m365's sign-in for the add-alone runs, our token cache and connections,
	// one run of each so that the disk cache holds Node's and our modules.
	if err := m.login(ctx, home); err != nil {
		return res, fmt.Errorf("m365 does not work against the emulator: %w", err)
	}
	if err := m.add(ctx, home, "versus-warm-m365", redirect); err != nil {
		return res, fmt.Errorf("m365 does not work against the emulator: %w", err)
	}
	if pl, err := eng.Plan(ctx, warm); err != nil {
		return res, err
	} else if _, err := eng.Apply(ctx, pl); err != nil {
		return res, err
	}

	v.SetLatency(latency)
	defer v.SetLatency(0)
	v.E.SetReplicationLag(lag)
	defer v.E.SetReplicationLag(0)
	var tM, tML, tA, tI []time.Duration
	for i := range runs {
		name := fmt.Sprintf("m365-%d", i)
		v.timed(&res.M365, &tM, name, func() error { return m.add(ctx, home, name, redirect) })

		nameL := fmt.Sprintf("m365-login-%d", i)
		fresh, err := m.home()
		if err != nil {
			return res, err
		}
		v.timed(&res.M365Login, &tML, nameL, func() error {
			if err := m.login(ctx, fresh); err != nil {
				return err
			}
			return m.add(ctx, fresh, nameL, redirect)
		})
		os.RemoveAll(fresh)

		nameA := fmt.Sprintf("apply-%d", i)
		s, err := spec(nameA)
		if err != nil {
			return res, err
		}
		pl, err := eng.Plan(ctx, s)
		if err != nil {
			return res, err
		}
		v.timed(&res.Apply, &tA, nameA, func() error { _, err := eng.Apply(ctx, pl); return err })

		nameI := fmt.Sprintf("init-%d", i)
		v.timed(&res.Init, &tI, nameI, func() error { return runInitNoVerify(ctx, bin, v, nameI) })
	}
	res.M365.Median, res.M365Login.Median, res.Apply.Median, res.Init.Median = median(tM), median(tML), median(tA), median(tI)
	if res.M365.Runs == 0 {
		return res, errors.New("no runs")
	}
	return res, nil
}

// runInitNoVerify runs `bin init --no-verify` for node-workforce against the emulator in this
// process, as a user runs it (a fresh ENTRA_QUICKSTART_HOME and folder, the demo admin signed
// in by the emulator), process start to exit.
func runInitNoVerify(ctx context.Context, bin string, v *Env, name string) error {
	home, err := os.MkdirTemp("", "eq-bench-home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, bin, "init", "--no-input", "--yes", "--no-verify", "--auto-sign-in", "--json",
		"--sample", "node-workforce", "--dir", filepath.Join(home, "app"), "--name", name,
		"--emulator-url", v.E.URL(), "--ca-file", v.E.CAFile())
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("init: %w: %s", err, shorten(errOut.String(), 300))
	}
	return nil
}
