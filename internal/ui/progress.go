package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
)

// Progress prints steps to stderr as they start and end: "▸ step…", then "✓ step (detail)" or
// "✗ step: why". Lines, not redraws, so it reads the same in a terminal, a CI log and a
// screen reader. Safe for concurrent use (Graph steps run in parallel).
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	st     Styles
	quiet  bool
	starts map[string]time.Time
	now    func() time.Time
}

// NewProgress writes to the streams' Err; quiet prints only failures and warnings.
func NewProgress(s *Streams, quiet bool) *Progress {
	return &Progress{w: s.Err, st: NewStyles(s.Color), quiet: quiet, starts: map[string]time.Time{}, now: time.Now}
}

// Start reports a step under way.
func (p *Progress) Start(step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts[step] = p.now()
	if !p.quiet {
		fmt.Fprintf(p.w, "%s %s…\n", p.st.Running.Render(MarkRunning), safetext.Line(step))
	}
}

// Done reports a step passed, with how long it took when it was started here.
func (p *Progress) Done(step, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet {
		return
	}
	// The detail (often an id) in brackets, the time apart after it: "(client id …) · 1.2s",
	// never "(… 1.2s)" where the duration reads as part of the id.
	extra := ""
	if detail = strings.TrimSpace(detail); detail != "" {
		extra = " " + p.st.Muted.Render("("+safetext.Line(detail)+")")
	}
	if t, ok := p.starts[step]; ok {
		if d := p.now().Sub(t); d >= 100*time.Millisecond {
			extra += " " + p.st.Muted.Render("· "+d.Round(100*time.Millisecond).String())
		}
		delete(p.starts, step)
	}
	fmt.Fprintf(p.w, "%s %s%s\n", p.st.OK.Render(MarkOK), safetext.Line(step), extra)
}

// Fail reports a step failed.
func (p *Progress) Fail(step string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.starts, step)
	fmt.Fprintf(p.w, "%s %s: %s\n", p.st.Fail.Render(MarkFail), safetext.Line(step), safetext.Text(fmt.Sprint(err)))
}

// Note prints a line of information (a retry, a choice made for the person).
func (p *Progress) Note(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.quiet {
		fmt.Fprintf(p.w, "  %s\n", p.st.Muted.Render(safetext.Text(fmt.Sprintf(format, a...))))
	}
}

// Warn prints a warning, even when quiet.
func (p *Progress) Warn(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s %s\n", p.st.Warn.Render(MarkWarn), safetext.Text(fmt.Sprintf(format, a...)))
}

// Writer is where Progress prints, for renderers that print blocks (a plan, a summary).
func (p *Progress) Writer() io.Writer { return p.w }

// Styles are the styles Progress uses.
func (p *Progress) Styles() Styles { return p.st }
