package ui

import (
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"

	"fmt"
	"io"
	"sync"
	"time"
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
	extra := detail
	if t, ok := p.starts[step]; ok {
		d := p.now().Sub(t)
		if d >= 100*time.Millisecond {
			// Apart from the detail, which often ends in an id: "client id …, 2.3s".
			took := d.Round(100 * time.Millisecond).String()
			if extra != "" {
				took = extra + ", " + took
			}
			extra = took
		}
		delete(p.starts, step)
	}
	if extra != "" {
		extra = " " + p.st.Muted.Render("("+safetext.Line(extra)+")")
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
