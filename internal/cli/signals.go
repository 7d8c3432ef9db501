package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The causes of a run's context ending by a signal, so each is reported as what it was: a
// service manager's SIGTERM is not a person's Ctrl-C.
var (
	ErrInterrupted = errors.New("interrupted (Ctrl-C)")
	ErrTerminated  = errors.New("stopped by SIGTERM")
	ErrHangup      = errors.New("the terminal closed (SIGHUP)")
)

// ExitTerminated is the exit code after SIGTERM (128+15, as shells report it); ExitHangup after
// SIGHUP (128+1).
const (
	ExitTerminated = 143
	ExitHangup     = 129
)

// hardStops are what must still happen when a second signal ends the process at once: a
// sample started by run lives in a process group of its own, which the terminal's signals do
// not reach, so it is killed here or it keeps its port.
type hardStops struct {
	mu  sync.Mutex
	fns map[int]func()
	n   int
}

type hardStopsKey struct{}

// OnHardStop registers fn to run, before the process exits, if a second signal ends it at once
// (fn must be quick: a kill, not a wait). remove unregisters it. Without WithSignals's context
// it does nothing.
func OnHardStop(ctx context.Context, fn func()) (remove func()) {
	h, _ := ctx.Value(hardStopsKey{}).(*hardStops)
	if h == nil {
		return func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	id := h.n
	h.fns[id] = fn
	return func() { h.mu.Lock(); delete(h.fns, id); h.mu.Unlock() }
}

func (h *hardStops) run() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fn := range h.fns {
		fn()
	}
}

// WithSignals returns a context cancelled by the first SIGINT, SIGTERM or SIGHUP (the terminal
// closed), with ErrInterrupted, ErrTerminated or ErrHangup as its cause. A second signal ends the process at once through exit: the
// person pressing Ctrl-C again does not want to wait for the cleanup (every file write is
// atomic, and the next run finishes or undoes what this one started), after what OnHardStop
// registered. stop releases the signals.
func WithSignals(parent context.Context, errOut io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, release := watchSignals(parent, sigs, errOut, exit)
	return ctx, func() { signal.Stop(sigs); release() }
}

// watchSignals is WithSignals on a channel of signals (tests send their own).
func watchSignals(parent context.Context, sigs <-chan os.Signal, errOut io.Writer, exit func(int)) (context.Context, func()) {
	h := &hardStops{fns: map[int]func(){}}
	ctx, cancel := context.WithCancelCause(context.WithValue(parent, hardStopsKey{}, h))
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cause, code := ErrInterrupted, ExitInterrupted
		switch first {
		case syscall.SIGTERM:
			cause, code = ErrTerminated, ExitTerminated
		case syscall.SIGHUP:
			cause, code = ErrHangup, ExitHangup
		}
		cancel(cause)
		select {
		case <-sigs:
			h.run()
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
	if errors.Is(context.Cause(ctx), ErrHangup) {
		return ExitHangup, "The terminal closed:"
	}
	return ExitInterrupted, "Interrupted:"
}
