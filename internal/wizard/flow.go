package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/charmbracelet/bubbles/key"
)

// step is one question of a flow: build makes its prompt from the answers so far (nil: nothing
// to choose, answered by build itself), after turns the answer into Answers.
type step struct {
	id    string
	build func() (*prompt, error)
	after func()
}

func (s *step) finish() {
	if s.after != nil {
		s.after()
	}
}

// flow is the full terminal UI's questions as one bubbletea program, so that the screen keeps
// every answered question as a line and Shift+Tab or Esc can go back: huh runs one question
// per form, and the flow moves between them.
type flow struct {
	o     Options
	steps []*step
	pos   int      // the step on screen
	asked []int    // the steps answered on screen, in order (where going back goes)
	lines []string // their summary lines
	cur   *prompt
	form  *huh.Form
	back  key.Binding
	quit  key.Binding

	err       error
	cancelled bool
	done      bool
}

func newFlow(o Options, steps []*step) *flow {
	return &flow{o: o, steps: steps, pos: -1,
		back: key.NewBinding(key.WithKeys("shift+tab", "esc")),
		quit: key.NewBinding(key.WithKeys("ctrl+c"))}
}

// askTerminal asks the open questions in the full terminal UI.
func askTerminal(ctx context.Context, a Answers, o Options, open []question) (Answers, error) {
	var steps []*step
	for _, q := range open {
		steps = append(steps, &step{id: q.id,
			build: func() (*prompt, error) { return q.field(&a, &o) },
			after: func() {
				if q.after != nil {
					q.after(&a)
				}
			}})
	}
	if err := runTerminal(ctx, o, newFlow(o, steps)); err != nil {
		return a, err
	}
	return a, nil
}

// runTerminal runs the flow to its end.
func runTerminal(ctx context.Context, o Options, f *flow) error {
	if cmd := f.next(); f.err != nil || f.done {
		_ = cmd
		return f.err
	}
	run := o.runProgram
	if run == nil {
		run = func(ctx context.Context, m tea.Model) (tea.Model, error) {
			opts := []tea.ProgramOption{tea.WithContext(ctx)}
			if o.In != nil {
				opts = append(opts, tea.WithInput(o.In))
			}
			if o.Out != nil {
				opts = append(opts, tea.WithOutput(o.Out))
			}
			return tea.NewProgram(m, opts...).Run()
		}
	}
	m, err := run(ctx, f)
	if fm, ok := m.(*flow); ok && fm != nil {
		f = fm
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case f.cancelled:
		return fmt.Errorf("%w at the %s question", ErrCancelled, f.steps[f.pos].id)
	case f.err != nil:
		return f.err
	case errors.Is(err, tea.ErrInterrupted):
		return fmt.Errorf("%w at the %s question", ErrCancelled, f.steps[f.pos].id)
	case err != nil:
		return fmt.Errorf("the %s question: %w", f.steps[f.pos].id, err)
	case !f.done:
		return fmt.Errorf("the %s question was not answered", f.steps[f.pos].id)
	}
	return nil
}

// next moves to the next step that has something to ask; the flow is done after the last.
func (f *flow) next() tea.Cmd {
	for f.pos+1 < len(f.steps) {
		f.pos++
		s := f.steps[f.pos]
		p, err := s.build()
		if err != nil {
			f.err = fmt.Errorf("%s question: %w", s.id, err)
			return tea.Quit
		}
		if p == nil { // one possible answer: taken, not asked
			s.finish()
			continue
		}
		return f.show(p)
	}
	f.done = true
	return tea.Quit
}

// show puts a prompt's form on screen.
func (f *flow) show(p *prompt) tea.Cmd {
	f.cur = p
	form := huh.NewForm(huh.NewGroup(p.field)).WithShowHelp(true)
	if f.o.Theme != nil {
		form = form.WithTheme(f.o.Theme)
	}
	// The flow ends the program, not the form: its submit and cancel are the flow's to handle.
	form.SubmitCmd, form.CancelCmd = nil, nil
	f.form = form
	return form.Init()
}

// prev goes back to the question answered before the one on screen, its answer kept.
func (f *flow) prev() tea.Cmd {
	if len(f.asked) == 0 {
		return nil
	}
	f.pos = f.asked[len(f.asked)-1]
	f.asked, f.lines = f.asked[:len(f.asked)-1], f.lines[:len(f.lines)-1]
	p, err := f.steps[f.pos].build()
	if err != nil || p == nil {
		f.err = fmt.Errorf("%s question: %w", f.steps[f.pos].id, err)
		return tea.Quit
	}
	return f.show(p)
}

func (f *flow) Init() tea.Cmd {
	if f.form == nil {
		return nil
	}
	return f.form.Init()
}

func (f *flow) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if f.done || f.cancelled || f.err != nil {
		return f, nil
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, f.quit):
			f.cancelled = true
			return f, tea.Quit
		case key.Matches(k, f.back):
			return f, f.prev()
		}
	}
	m, cmd := f.form.Update(msg)
	f.form = m.(*huh.Form)
	if f.form.State != huh.StateCompleted {
		return f, cmd
	}
	if f.cur.done != nil {
		f.cur.done()
	}
	f.lines = append(f.lines, f.cur.summary())
	f.asked = append(f.asked, f.pos)
	f.steps[f.pos].finish()
	return f, f.next()
}

// View is the answered questions, one line each, then the question on screen.
func (f *flow) View() string {
	var b strings.Builder
	th := f.o.Theme
	if th == nil {
		th = huh.ThemeCharm()
	}
	for _, l := range f.lines {
		b.WriteString(th.Focused.Title.Render("✓") + " " + l + "\n")
	}
	if f.done || f.cancelled || f.err != nil || f.form == nil {
		return b.String()
	}
	b.WriteString(f.form.View())
	if len(f.asked) > 0 {
		b.WriteString("\n" + th.Help.ShortDesc.Render("shift+tab or esc: back to the question before"))
	}
	return b.String()
}
