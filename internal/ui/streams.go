package ui

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// Streams are the process's standard streams and what is known about them. Commands print
// messages and progress to Err and results to Out; tests capture both through Test.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTTY and OutTTY tell whether stdin and stderr (where prompts and progress go) are
	// terminals: prompts appear only when both are.
	InTTY  bool
	OutTTY bool
	// StdoutTTY tells whether stdout (where results go) is a terminal too: then progress on
	// stderr and the result share one screen, and a result need not repeat what progress showed.
	StdoutTTY bool
	// Color allows ANSI styling on Err.
	Color bool
}

// System returns the process's own streams.
func System() *Streams {
	inTTY := term.IsTerminal(int(os.Stdin.Fd()))
	errTTY := term.IsTerminal(int(os.Stderr.Fd()))
	return &Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: inTTY, OutTTY: errTTY, StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		Color: errTTY && os.Getenv("NO_COLOR") == "" && !strings.EqualFold(os.Getenv("TERM"), "dumb"),
	}
}

// Test returns streams over buffers, with no terminal and no colour. Each Write is serialised,
// as the operating system serialises writes to stdout and stderr: a run may print from several
// goroutines at once (a device-code prompt while the engine reports a step), and a bytes.Buffer
// alone would race. Read the buffers once the run has returned.
func Test(stdin string) (s *Streams, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: strings.NewReader(stdin), Out: &lockedWriter{w: out}, Err: &lockedWriter{w: errOut}}, out, errOut
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Interactive reports whether prompts may be shown.
func (s *Streams) Interactive() bool { return s.InTTY && s.OutTTY }
