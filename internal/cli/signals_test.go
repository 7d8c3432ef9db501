package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// TestSecondSignalEndsAtOnce: the first signal cancels the run with its own cause; a second
// one ends the process at once with the first one's exit code; one signal alone never exits.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	tests := []struct {
		name      string
		signals   []os.Signal
		wantCause error
		wantExit  int // -1: exit not called
	}{
		{"one Ctrl-C", []os.Signal{os.Interrupt}, ErrInterrupted, -1},
		{"one SIGTERM", []os.Signal{syscall.SIGTERM}, ErrTerminated, -1},
		{"Ctrl-C twice", []os.Signal{os.Interrupt, os.Interrupt}, ErrInterrupted, ExitInterrupted},
		{"SIGTERM then Ctrl-C", []os.Signal{syscall.SIGTERM, os.Interrupt}, ErrTerminated, ExitTerminated},
		{"the terminal closed", []os.Signal{syscall.SIGHUP}, ErrHangup, -1},
		{"SIGHUP then SIGHUP", []os.Signal{syscall.SIGHUP, syscall.SIGHUP}, ErrHangup, ExitHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			exited := make(chan int, 1)
			var errOut bytes.Buffer
			ctx, stop := watchSignals(context.Background(), sigs, &errOut, func(code int) { exited <- code })
			defer stop()
			for _, s := range tt.signals {
				sigs <- s
			}
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the first signal did not cancel the run")
			}
			if got := context.Cause(ctx); !errors.Is(got, tt.wantCause) {
				t.Errorf("cause %v, want %v", got, tt.wantCause)
			}
			select {
			case code := <-exited:
				if code != tt.wantExit {
					t.Errorf("exit(%d), want %d", code, tt.wantExit)
				}
				if !strings.Contains(errOut.String(), "Stopped at once") {
					t.Errorf("no word on stderr: %q", errOut.String())
				}
			case <-time.After(300 * time.Millisecond):
				if tt.wantExit != -1 {
					t.Errorf("a second signal did not end the run")
				}
			}
		})
	}
}

// TestSecondSignalRunsTheHardStops: what OnHardStop registered (run's kill of the sample's
// process group) runs before a second signal ends the process, and not after it was removed.
func TestSecondSignalRunsTheHardStops(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var errOut bytes.Buffer
	ctx, stop := watchSignals(context.Background(), sigs, &errOut, func(code int) { exited <- code })
	defer stop()
	killed := make(chan string, 2)
	OnHardStop(ctx, func() { killed <- "sample" })
	remove := OnHardStop(ctx, func() { killed <- "removed" })
	remove()
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not end the run")
	}
	close(killed)
	var got []string
	for k := range killed {
		got = append(got, k)
	}
	if len(got) != 1 || got[0] != "sample" {
		t.Errorf("hard stops run: %v, want [sample]", got)
	}
	if remove := OnHardStop(context.Background(), func() {}); remove == nil {
		t.Error("OnHardStop without WithSignals's context returned no remove")
	}
}

// TestSIGTERMIsNotReportedAsCtrlC: a run ended by SIGTERM says so and exits 143; one ended by
// Ctrl-C says interrupted and exits 130.
func TestSIGTERMIsNotReportedAsCtrlC(t *testing.T) {
	home(t)
	e, flags := remoteEmulator(t)
	tests := []struct {
		cause    error
		wantCode int
		want     string
		notWant  string
	}{
		{ErrTerminated, ExitTerminated, "Stopped by SIGTERM:", "Interrupted"},
		{ErrInterrupted, ExitInterrupted, "Interrupted:", "SIGTERM"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(tt.cause)
			s, _, errOut := ui.Test("")
			code := Main(ctx, append([]string{"list", "--no-input", "--tenant", e.Tenant(t, "workforce").ID}, flags...), s)
			if code != tt.wantCode || !strings.Contains(errOut.String(), tt.want) || strings.Contains(errOut.String(), tt.notWant) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q and not %q", code, tt.wantCode, errOut, tt.want, tt.notWant)
			}
		})
	}
}

// TestBinarySIGTERMAndCtrlC: the built binary running the emulator stops on either signal and
// names the one it got.
func TestBinarySIGTERMAndCtrlC(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		sig     os.Signal
		want    string
		notWant string
	}{
		{syscall.SIGTERM, "emulator stopped (SIGTERM)", "(Ctrl-C)"},
		{os.Interrupt, "emulator stopped (Ctrl-C)", "(SIGTERM)"},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "emulator", "--listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+t.TempDir())
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
				t.Fatalf("no first line: %v", err)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v; stderr %s", err, errOut.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the emulator did not stop")
			}
			i := strings.LastIndex(errOut.String(), "emulator stopped")
			if i < 0 {
				t.Fatalf("no 'emulator stopped' on stderr: %s", errOut.String())
			}
			tail := errOut.String()[i:]
			if !strings.Contains(tail, tt.want) || strings.Contains(tail, tt.notWant) {
				t.Fatalf("stderr ends %q, want %q", tail, tt.want)
			}
		})
	}
}
