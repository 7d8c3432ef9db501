package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyRun is the built binary on a pseudo-terminal of 120x40, with its own config folder.
type ptyRun struct {
	t   *testing.T
	cmd *exec.Cmd
	f   *os.File
	scr *screen
}

func startPty(t *testing.T, bin, home, dir string, args ...string) *ptyRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // bounds a hang only
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "TERM=xterm-256color", "NO_COLOR=", "BROWSER=none")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	p := &ptyRun{t: t, cmd: cmd, f: f, scr: &screen{}}
	go func() { _, _ = io.Copy(p.scr, f) }()
	return p
}

func (p *ptyRun) key(s string) {
	time.Sleep(150 * time.Millisecond) // let the form finish drawing before the key
	if _, err := p.f.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

// wait is the exit code once the process ended.
func (p *ptyRun) wait() int {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		p.t.Fatalf("%v\n%s", err, p.scr.text())
	}
	return 0
}

const (
	keyEnter    = "\r"
	keyDown     = "\x1b[B"
	keyUp       = "\x1b[A"
	keyShiftTab = "\x1b[Z"
	keyEsc      = "\x1b"
	keyCtrlC    = "\x03"
)

// TestWizardGoesBackInAPseudoTerminal: a person answers two questions, goes back twice
// (Shift+Tab, then Esc) to the first, keeps it, changes the sample, and applies the plan; the
// answered questions stay on screen as lines ("Apply this plan? Yes" among them). Then verify
// in the same terminal prints the checklist once, then a one-line verdict. Ctrl-C in the wizard
// exits 130.
func TestWizardGoesBackInAPseudoTerminal(t *testing.T) {
	bin := buildBinary(t)
	_, base := remoteEmulator(t)
	home, work := t.TempDir(), t.TempDir()

	p := startPty(t, bin, home, work, append([]string{"init", "--auto-sign-in", "--timeout", "60s"}, base...)...)
	m := p.scr.waitFor(t, "Which kind of tenant", 0)
	p.key(keyEnter) // workforce
	m = p.scr.waitFor(t, "Which sample", m)
	p.key(keyDown)
	p.key(keyDown)
	p.key(keyEnter) // node-workforce
	m = p.scr.waitFor(t, "A name for this app", m)
	p.key(keyShiftTab) // back to the sample
	m = p.scr.waitFor(t, "Which sample", m)
	p.key(keyEsc) // back to the tenant type
	m = p.scr.waitFor(t, "Which kind of tenant", m)
	p.key(keyEnter) // workforce still
	m = p.scr.waitFor(t, "Which sample", m)
	p.key(keyUp)
	p.key(keyEnter) // from node-workforce (kept) up to flask-workforce
	m = p.scr.waitFor(t, "A name for this app", m)
	p.key(keyEnter)
	m = p.scr.waitFor(t, "Where is the sample", m)
	p.key(keyDown)
	p.key(keyEnter) // only the config files
	m = p.scr.waitFor(t, "Apply this plan", m)
	p.key("y")
	p.scr.waitFor(t, "Done.", m)
	if code := p.wait(); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, p.scr.text())
	}
	txt := p.scr.text()
	for _, want := range []string{"Which kind of tenant? Workforce tenant", "Which sample web app? Python Flask", "A name for this app quickstart",
		"Where is the sample? Only write the config files", "Apply this plan? Yes"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the screen never showed the line %q:\n%s", want, txt)
		}
	}
	dir := filepath.Join(work, "entra-quickstart-flask-workforce")
	if _, err := os.Stat(filepath.Join(dir, ".env")); err != nil {
		t.Fatalf("the changed answer did not stick: %v\n%s", err, txt)
	}

	t.Run("verify prints the checklist once", func(t *testing.T) {
		p := startPty(t, bin, home, work, append([]string{"verify", "--dir", dir, "--auto-sign-in", "--timeout", "60s"}, base...)...)
		if code := p.wait(); code != ExitOK {
			t.Fatalf("exit %d\n%s", code, p.scr.text())
		}
		txt := p.scr.text()
		for _, step := range []string{"✓ Discovery", "✓ Code exchange", "✓ ID token valid", "All "} {
			if n := strings.Count(txt, step); n != 1 {
				t.Errorf("%q shown %d times, want once:\n%s", step, n, txt)
			}
		}
	})

	t.Run("Ctrl-C in the wizard exits 130", func(t *testing.T) {
		p := startPty(t, bin, t.TempDir(), t.TempDir(), append([]string{"init"}, base...)...)
		m := p.scr.waitFor(t, "Which kind of tenant", 0)
		p.key(keyEnter)
		p.scr.waitFor(t, "Which sample", m)
		p.key(keyCtrlC)
		if code := p.wait(); code != ExitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupted, p.scr.text())
		}
	})
}
