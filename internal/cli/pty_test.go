package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// buildBinary builds entra-quickstart once into a temp folder (the build cache makes it quick).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "entra-quickstart")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/entra-quickstart")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// screen collects what the program draws on its terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]`)

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansiRE.ReplaceAllString(s.buf.String(), "")
}

// waitFor waits until the screen shows want (after what it showed at mark), or fails.
func (s *screen) waitFor(t *testing.T, want string, mark int) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		txt := s.text()
		if mark > len(txt) {
			mark = len(txt)
		}
		if i := strings.Index(txt[mark:], want); i >= 0 {
			return mark + i + len(want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the terminal never showed %q; it shows:\n%s", want, s.text())
	return 0
}

// TestInteractiveWizardInAPseudoTerminal runs the built binary as a person would: the full
// terminal UI answers the wizard's questions, confirms the plan, and the journey ends with a
// passed sign-in check against the emulator.
func TestInteractiveWizardInAPseudoTerminal(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "init", "--emulator", "--auto-sign-in", "--timeout", "60s")
	cmd.Dir = work
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "TERM=xterm-256color", "NO_COLOR=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scr := &screen{}
	go func() { _, _ = io.Copy(scr, f) }()
	key := func(s string) {
		time.Sleep(150 * time.Millisecond) // let the form finish drawing before the key
		if _, err := f.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	const enter, down = "\r", "\x1b[B"
	m := scr.waitFor(t, "Which kind of tenant", 0)
	key(enter) // workforce
	m = scr.waitFor(t, "Which sample", m)
	key(down)
	key(down)
	key(enter) // the third workforce sample: node-workforce
	m = scr.waitFor(t, "A name for this app", m)
	key(enter) // the default name
	m = scr.waitFor(t, "Where is the sample", m)
	key(down)
	key(enter) // only the config files
	m = scr.waitFor(t, "Apply this plan", m)
	key("y")
	scr.waitFor(t, "Done.", m)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, scr.text())
	}
	txt := scr.text()
	scanHomeForSecrets(t, home, cmd.Args[1:], txt)
	for _, want := range []string{"node-workforce", "Graph /me", "Sign-out"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the run did not show %q:\n%s", want, txt)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "entra-quickstart-node-workforce", ".env")); err != nil {
		t.Errorf("no config written: %v", err)
	}
}
