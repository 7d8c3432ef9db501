package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// The causes of a run's context ending by a signal, so each is reported as what it was: a
// service manager's SIGTERM is not a person's Ctrl-C.
var (
	ErrInterrupted = errors.New("interrupted (Ctrl-C)")
	ErrTerminated  = errors.New("stopped by SIGTERM")
)

// ExitTerminated is the exit code after SIGTERM (128+15, as shells report it).
const ExitTerminated = 143

// WithSignals returns a context cancelled by the first SIGINT or SIGTERM, with ErrInterrupted
// or ErrTerminated as its cause. A second signal ends the process at once through exit: the
// person pressing Ctrl-C again does not want to wait for the cleanup (every file write is
// atomic, and the next run finishes or undoes what this one started). stop releases the
// signals.
func WithSignals(parent context.Context, errOut io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, release := watchSignals(parent, sigs, errOut, exit)
	return ctx, func() { signal.Stop(sigs); release() }
}

// watchSignals is WithSignals on a channel of signals (tests send their own).
func watchSignals(parent context.Context, sigs <-chan os.Signal, errOut io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cause, code := ErrInterrupted, ExitInterrupted
		if first == syscall.SIGTERM {
			cause, code = ErrTerminated, ExitTerminated
		}
		cancel(cause)
		select {
		case <-sigs:
			fmt.Fprintln(errOut, "\nStopped at once (a second signal). Run the same command again: it finishes or undoes what this run started.")
			exit(code)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(context.Canceled) }
}

// signalExit is the exit code and the word for a run whose context ended: SIGTERM's own,
// else Ctrl-C's (a context cancelled without a signal, as in tests, counts as an interrupt).
func signalExit(ctx context.Context) (int, string) {
	if errors.Is(context.Cause(ctx), ErrTerminated) {
		return ExitTerminated, "Stopped by SIGTERM:"
	}
	return ExitInterrupted, "Interrupted:"
}
