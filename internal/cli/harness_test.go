package cli

// The end-to-end harness of the reliability tests: the built binary against an in-process
// emulator reached by --emulator-url, a checkout of a sample, and the checks every case makes
// (files whole, one app, one working credential, no secret on screen).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// seededCheckout starts an emulator from seed (emulatortest.Seed) and checks the sample out
// (checkout), failing the test on an error.
func seededCheckout(t *testing.T, seed, sample string) (*emulatortest.Emulator, *samples.Manifest, string) {
	t.Helper()
	e := emulatortest.New(t, emulatortest.FromSeed(seed))
	m, err := samples.Lookup(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := checkout(t, m)
	if err != nil {
		t.Fatal(err)
	}
	return e, m, dir
}

// checkout copies the sample's upstream files (the ones the catalog keeps) into a new folder,
// as a clone of the sample would hold them. It is safe to call from any goroutine.
func checkout(tb testing.TB, m *samples.Manifest) (string, error) {
	_, repo, _ := strings.Cut(m.Repository, "/")
	src := filepath.Join(testenv.RepoRoot(), "samples", "upstream", repo, filepath.FromSlash(m.Folder))
	dst := tb.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		return "", err
	}
	if ok, missing := m.Matches(dst); !ok {
		return "", errors.New("the checkout of " + m.ID + " misses " + missing)
	}
	return dst, nil
}

// binRun is one run of the built binary.
type binRun struct {
	code           int
	stdout, stderr string
	interrupted    bool // a SIGINT was sent
}

// runBinary runs the binary with its own config folder (home). When interruptWhen is set, it
// is polled and the process gets a real SIGINT once it reports true. It is safe to call from
// any goroutine.
func runBinary(bin, home string, interruptWhen func() bool, args ...string) (binRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // bounds a hang only
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "NO_COLOR=1", "BROWSER=none")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return binRun{}, err
	}
	r := binRun{}
	var done chan struct{}
	if interruptWhen != nil {
		done = make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if interruptWhen() {
						r.interrupted = cmd.Process.Signal(os.Interrupt) == nil
						return
					}
				}
			}
		}()
	}
	err := cmd.Wait()
	cancel()
	if done != nil {
		<-done
	}
	r.stdout, r.stderr = out.String(), errOut.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			r.code = 128 + int(st.Signal())
		}
	default:
		return r, err
	}
	return r, nil
}

// errorLine is the binary's one-line error (the first line after "Error: "), or "".
func errorLine(stderr string) string {
	_, after, ok := strings.Cut(stderr, "Error: ")
	if !ok {
		if _, after, ok = strings.Cut(stderr, "Interrupted: "); !ok {
			return ""
		}
	}
	line, _, _ := strings.Cut(after, "\n")
	return strings.TrimSpace(line)
}

// fileState compares a folder with its state before a run: "untouched" (byte for byte),
// "written" (every file the sample reads parses and holds a client id), or a description of
// what is wrong. Temporary files left behind are wrong too.
func fileState(m *samples.Manifest, dir string, before map[string]string) (string, error) {
	now, err := readTree(dir)
	if err != nil {
		return "", err
	}
	for name := range now {
		if strings.Contains(filepath.Base(name), ".tmp") {
			return "", errors.New("a temporary file was left behind: " + name)
		}
	}
	if equalMaps(before, now) {
		return "untouched", nil
	}
	for name, old := range before {
		if now[name] != old && !isConfigFile(m, name) {
			return "", errors.New("a file that is not the sample's configuration changed: " + name)
		}
	}
	cfg, err := templates.Read(m, dir)
	if err != nil {
		return "", errors.New("the configuration does not read back whole: " + err.Error())
	}
	if cfg.ClientID == "" || (cfg.ClientSecret == "" && cfg.Certificate == nil) {
		return "", errors.New("the configuration holds no client id or no credential")
	}
	return "written", nil
}

func isConfigFile(m *samples.Manifest, rel string) bool {
	rel = filepath.ToSlash(rel)
	if strings.HasSuffix(rel, ".gitignore") || strings.HasSuffix(rel, ".bak") {
		return true
	}
	for _, f := range m.Files {
		if f.Path == rel {
			return true
		}
	}
	return false
}

// readTree maps every file under dir, by its path relative to dir, to its content.
func readTree(dir string) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = string(b)
		return nil
	})
	return m, err
}

// tagged lists the apps in a tenant that carry entra-quickstart's tag, soft-deleted ones apart.
func tagged(e *emulatortest.Emulator, tenantID string) (live, deleted []emulator.Application) {
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			for _, a := range tn.Applications {
				if !hasTag(a.Tags, "entra-quickstart") {
					continue
				}
				if a.DeletedDateTime != nil {
					deleted = append(deleted, *a)
				} else {
					live = append(live, *a)
				}
			}
		}
	})
	return live, deleted
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// convergence checks the tenant after a successful run: exactly one tagged app, its service
// principal and admin consent once each, the folder's client id that app's, its secret one the app
// holds, and at most one older secret of ours kept as a grace.
func convergence(e *emulatortest.Emulator, tenantID string, m *samples.Manifest, dir string) error {
	live, deleted := tagged(e, tenantID)
	if len(live) != 1 || len(deleted) != 0 {
		return errors.New("want exactly one app: " + describeApps(live, deleted))
	}
	app := live[0]
	cfg, err := templates.Read(m, dir)
	if err != nil {
		return err
	}
	if !strings.EqualFold(cfg.ClientID, app.AppID) {
		return errors.New("the folder holds client id " + cfg.ClientID + ", the app is " + app.AppID)
	}
	var sps, grants int
	found := cfg.ClientSecret == ""
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.ID != tenantID {
				continue
			}
			var spID string
			for _, sp := range tn.ServicePrincipals {
				if strings.EqualFold(sp.AppID, app.AppID) {
					sps++
					spID = sp.ID
				}
			}
			for _, g := range tn.Grants {
				// Admin consent; a user's own consent (given on the consent page when the admin's
				// had not replicated yet) is apart.
				if spID != "" && g.ClientID == spID && g.ConsentType == "AllPrincipals" {
					grants++
				}
			}
		}
	})
	for _, p := range app.PasswordCredentials {
		if p.SecretText == cfg.ClientSecret {
			found = true
		}
	}
	switch {
	case sps != 1:
		return fmt.Errorf("want one service principal, found %d", sps)
	case grants != 1:
		return fmt.Errorf("want one consent grant, found %d", grants)
	case !found:
		return errors.New("the folder's secret is not one the app holds")
	case len(app.PasswordCredentials) > 2:
		return fmt.Errorf("%d secrets on the app: more than one older one left", len(app.PasswordCredentials))
	}
	return nil
}

func describeApps(live, deleted []emulator.Application) string {
	b, _ := json.Marshal(map[string]int{"live": len(live), "deleted": len(deleted)})
	return string(b)
}

// secretsOf lists every client secret the emulator holds (apps and automation clients), the
// values no output may show.
func secretsOf(e *emulatortest.Emulator) []string {
	var s []string
	e.Store().View(func(d *emulator.Directory) {
		for _, tn := range d.Tenants {
			if tn.Automation.Secret != "" {
				s = append(s, tn.Automation.Secret)
			}
			for _, a := range tn.Applications {
				for _, p := range a.PasswordCredentials {
					if p.SecretText != "" {
						s = append(s, p.SecretText)
					}
				}
			}
		}
	})
	return s
}

// leaked returns the first secret found in the output, or "".
func leaked(secrets []string, outputs ...string) string {
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for _, o := range outputs {
			if strings.Contains(o, s) {
				return s[:3] + "…"
			}
		}
	}
	return ""
}

// scanForSecrets fails the test when a run's output shows a client secret. run() and labRun()
// call it for every in-process run; `emulator` prints its automation secrets by design, and
// --show-secret shows the new app's secret on request.
func scanForSecrets(t *testing.T, args []string, outputs ...string) {
	t.Helper()
	scanHomeForSecrets(t, os.Getenv("ENTRA_QUICKSTART_HOME"), args, outputs...)
}

// secretShape is what every Entra client secret looks like (and the emulator's too): 40
// characters with "8Q~" at positions 3-5. It catches a secret of any emulator, the standalone
// one behind --emulator-url included.
var secretShape = regexp.MustCompile(`[A-Za-z0-9~._-]{3}8Q~[A-Za-z0-9~._-]{34}`)

// scanHomeForSecrets checks outputs for two things: any text shaped like a client secret, and
// any secret the in-process emulator of the config folder home holds (apps and automation
// clients, read from its data file after the run).
func scanHomeForSecrets(t *testing.T, home string, args []string, outputs ...string) {
	t.Helper()
	if len(args) > 0 && args[0] == "emulator" {
		return
	}
	showSecret := slices.Contains(args, "--show-secret")
	for _, o := range outputs {
		if m := secretShape.FindString(o); m != "" && !showSecret {
			t.Errorf("%v showed something shaped like a client secret (%s…) on stdout or stderr", args, m[:3])
			return
		}
	}
	if home == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(home, "emulator", "state.json"))
	if err != nil {
		return // no in-process emulator in this test
	}
	var st struct {
		Directory emulator.Directory `json:"directory"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Errorf("the emulator's data file: %v", err)
		return
	}
	var secrets []string
	for _, tn := range st.Directory.Tenants {
		secrets = append(secrets, tn.Automation.Secret)
		if showSecret {
			continue
		}
		for _, a := range tn.Applications {
			for _, p := range a.PasswordCredentials {
				secrets = append(secrets, p.SecretText)
			}
		}
	}
	if s := leaked(secrets, outputs...); s != "" {
		t.Errorf("%v showed a client secret (%s) on stdout or stderr", args, s)
	}
}
