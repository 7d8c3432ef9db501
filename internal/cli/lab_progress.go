package cli

import (
	"fmt"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/muesli/termenv"

	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/lab"
	"github.com/entra-quickstart/entra-quickstart/provision"
)

// labProgress shows a lab run on stderr: in a terminal one bar (bubbles' progress, redrawn in
// place) with counts, and a line per failure; elsewhere (CI logs, screen readers, pipes) a plain
// line per attendee. It never shows a secret: events carry none.
type labProgress struct {
	mu       sync.Mutex
	io       *ui.Streams
	st       ui.Styles
	tty      bool
	bar      progress.Model
	total    int
	done     int
	ok, skip int
	failed   int
	ready    int
	drawn    time.Time
	line     bool // a bar is on the screen
}

func newLabProgress(s *ui.Streams, total int) *labProgress {
	opts := []progress.Option{progress.WithDefaultGradient(), progress.WithWidth(32)}
	if !s.Color {
		opts = []progress.Option{progress.WithWidth(32), progress.WithColorProfile(termenv.Ascii), progress.WithFillCharacters('#', '.')}
	}
	return &labProgress{io: s, st: ui.NewStyles(s.Color), tty: s.OutTTY, bar: progress.New(opts...), total: total}
}

// event hears lab.Provision.
func (p *labProgress) event(ev lab.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.done = ev.Total, ev.Done
	id := ev.Attendee.ID
	switch ev.Phase {
	case lab.PhaseBundled:
		p.ok++
		if !p.tty {
			fmt.Fprintf(p.io.Err, "%s %s (%d/%d)\n", p.st.OK.Render(ui.MarkOK), id, ev.Done, ev.Total)
		}
	case lab.PhaseSkipped:
		p.skip++
		if !p.tty {
			fmt.Fprintf(p.io.Err, "%s %s: done in an earlier run, left as it is (%d/%d)\n", p.st.Skip.Render("–"), id, ev.Done, ev.Total)
		}
	case lab.PhaseFailed:
		p.failed++
		p.println(fmt.Sprintf("%s %s: %s", p.st.Fail.Render(ui.MarkFail), id, ev.Detail))
	case lab.PhaseReady:
		p.ready++
	case lab.PhaseNotReady:
		p.println(fmt.Sprintf("%s %s: %s", p.st.Warn.Render(ui.MarkWarn), id, ev.Detail))
	}
	p.draw(false)
}

// resetEvent hears lab.Reset: one line per app in any case (a reset is short).
func (p *labProgress) resetEvent(ev provision.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Status {
	case provision.Done:
		fmt.Fprintf(p.io.Err, "%s %s\n", p.st.OK.Render(ui.MarkOK), ev.Step)
	case provision.Failed:
		fmt.Fprintf(p.io.Err, "%s %s: %s\n", p.st.Fail.Render(ui.MarkFail), safetext.Line(ev.Step), safetext.Text(ev.Detail))
	}
}

// println prints a line above the bar.
func (p *labProgress) println(s string) {
	if p.tty && p.line {
		fmt.Fprint(p.io.Err, "\r\x1b[K")
		p.line = false
	}
	fmt.Fprintln(p.io.Err, s)
}

func (p *labProgress) draw(force bool) {
	if !p.tty || p.total == 0 {
		return
	}
	// Redraw at most 20 times a second: a hundred attendees finish in bursts.
	if !force && time.Since(p.drawn) < 50*time.Millisecond && p.done < p.total {
		return
	}
	p.drawn = time.Now()
	pct := float64(p.done) / float64(p.total)
	fmt.Fprintf(p.io.Err, "\r\x1b[K%s %d/%d  %s", p.bar.ViewAs(pct), p.done, p.total,
		p.st.Muted.Render(fmt.Sprintf("made %d · done before %d · failed %d", p.ok, p.skip, p.failed)))
	p.line = true
}

// finish leaves the final bar on its own line.
func (p *labProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.total > 0 {
		p.draw(true)
		fmt.Fprintln(p.io.Err)
		p.line = false
	}
}
