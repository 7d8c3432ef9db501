package ui

import (
	"bytes"
	"io"
	"os"
	"strings"

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
	// Color allows ANSI styling on Err.
	Color bool
}

// System returns the process's own streams.
func System() *Streams {
	inTTY := term.IsTerminal(int(os.Stdin.Fd()))
	errTTY := term.IsTerminal(int(os.Stderr.Fd()))
	return &Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: inTTY, OutTTY: errTTY,
		Color: errTTY && os.Getenv("NO_COLOR") == "" && !strings.EqualFold(os.Getenv("TERM"), "dumb"),
	}
}

// Test returns streams over buffers, with no terminal and no colour.
func Test(stdin string) (s *Streams, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: strings.NewReader(stdin), Out: out, Err: errOut}, out, errOut
}

// Interactive reports whether prompts may be shown.
func (s *Streams) Interactive() bool { return s.InTTY && s.OutTTY }
