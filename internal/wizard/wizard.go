// Package wizard asks the person the questions of `init` that flags did not answer, with huh
// forms: the full terminal UI in a terminal, huh's accessible mode (plain numbered prompts read
// line by line) otherwise. It returns plain answers and knows nothing of Graph or files.
package wizard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// Location says where the sample is.
type Location string

const (
	LocationExisting   Location = "existing"    // configure a checkout already on disk
	LocationDownload   Location = "download"    // download the sample, then configure it
	LocationConfigOnly Location = "config-only" // write the config files into a folder of their own
)

// Answers are what init needs from the person. Empty fields are the questions still open.
type Answers struct {
	TenantType samples.TenantType
	Sample     string
	Tenant     string
	Name       string
	Credential samples.CredentialKind
	Location   Location
	Dir        string
}

// Options configure the questions.
type Options struct {
	In  io.Reader
	Out io.Writer
	// Accessible asks with plain line-by-line prompts (screen readers, pipes, dumb terminals).
	Accessible bool
	// Theme styles the full terminal UI; nil is huh's Charm theme.
	Theme *huh.Theme
	// TenantDefault pre-fills the tenant question.
	TenantDefault func(samples.TenantType) string
	// NoTenantQuestion leaves the tenant to the caller (the emulator has one of each kind).
	NoTenantQuestion bool
	// FindSample looks for an existing checkout of a sample from the current folder; "" when none.
	FindSample func(*samples.Manifest) string
	// Catalog is the sample catalog; nil means samples.All().
	Catalog []*samples.Manifest

	// run runs one form in accessible mode; tests may replace it.
	run func(ctx context.Context, f *huh.Form) error
	// runProgram runs the full terminal UI's program; tests drive it through teatest instead.
	runProgram func(ctx context.Context, m tea.Model) (tea.Model, error)
}

func (o Options) runForm(ctx context.Context, f *huh.Form) error {
	if o.run != nil {
		return o.run(ctx, f)
	}
	return f.RunWithContext(ctx)
}

// ErrInputEnded means the answers ran out (stdin closed) before a question was answered.
var ErrInputEnded = errors.New("input ended")

// ErrCancelled means the person pressed Ctrl-C at a question: the command ends as an interrupt.
var ErrCancelled = errors.New("cancelled (Ctrl-C)")

// MissingFlag names the flag that answers an open question, for --no-input's error.
func (a Answers) MissingFlag() string {
	switch {
	case a.TenantType == "":
		return "--tenant-type"
	case a.Sample == "":
		return "--sample"
	case a.Tenant == "":
		return "--tenant"
	case a.Name == "":
		return "--name"
	}
	return ""
}

// ValidateName checks an app name.
func ValidateName(s string) error { return provision.ValidateName(s) }

// DefaultName is the app name suggested: the sample id already makes the app's unique name
// distinct per sample, so one short name serves every sample.
const DefaultName = "quickstart"

// question is one question: whether it is still open, and the field that answers it.
type question struct {
	id    string
	open  func(a *Answers, o *Options) bool
	field func(a *Answers, o *Options) (*prompt, error)
	// after runs once the field has its value (e.g. to turn a choice into the answer).
	after func(a *Answers)
}

// prompt is one question on screen: its field, and the line that stays once it is answered
// ("Which kind of tenant? Workforce tenant (Microsoft Entra ID)").
type prompt struct {
	field   huh.Field
	summary func() string
	// done, when set, runs once the field is answered (an empty input takes its default).
	done func()
}

// choose is a select of opts into v. v keeps its value when it is one of the options (an
// answer given before going back); otherwise it starts at first.
func choose(title, desc string, opts []huh.Option[string], v *string, first string, o *Options) *prompt {
	if !slices.ContainsFunc(opts, func(x huh.Option[string]) bool { return x.Value == *v }) {
		*v = first
	}
	f := huh.NewSelect[string]().Options(opts...).Value(v)
	if o.Accessible {
		// huh's accessible mode prints neither the description nor which choice Enter takes.
		dflt := ""
		for i, x := range opts {
			if x.Value == *v {
				dflt = fmt.Sprintf("Press Enter for %d (%s).", i+1, x.Key)
			}
		}
		f.Title(accessibleTitle(title, desc, dflt))
	} else {
		f.Title(title).Description(desc)
	}
	return &prompt{field: f, summary: func() string {
		for _, x := range opts {
			if x.Value == *v {
				return title + " " + x.Key
			}
		}
		return title + " " + *v
	}}
}

// text is an input into v; Enter on an empty answer takes dflt.
func text(title, desc, dflt string, validate func(string) error, v *string, o *Options) *prompt {
	if dflt != "" {
		desc += "\nPress Enter for '" + dflt + "'."
	}
	if *v == "" {
		*v = dflt // shown in the field: Enter takes it
	}
	f := huh.NewInput().Validate(func(s string) error { return validate(orDefault(s, dflt)) }).Value(v)
	if o.Accessible {
		f.Title(accessibleTitle(title, desc, ""))
	} else {
		f.Title(title).Description(desc)
	}
	return &prompt{field: f, summary: func() string { return title + " " + orDefault(*v, dflt) }, done: func() { *v = orDefault(*v, dflt) }}
}

// accessibleTitle is a title with its description and default below it: the lines a screen
// reader reads before the prompt.
func accessibleTitle(title, desc, dflt string) string {
	for _, l := range []string{desc, dflt} {
		if l != "" {
			title += "\n" + l
		}
	}
	return title
}

// Ask asks the open questions in order and returns the answers. A question is asked only when
// the flags left it open and it has more than one possible answer. In the full terminal UI the
// questions are one screen: each answered one stays as a line, and Shift+Tab or Esc goes back
// to the one before, its answer kept; Ctrl-C ends it with ErrCancelled.
func Ask(ctx context.Context, a Answers, o Options) (Answers, error) {
	if o.Catalog == nil {
		all, err := samples.All()
		if err != nil {
			return a, err
		}
		o.Catalog = all
	}
	st := &choiceState{}
	var open []question
	for _, q := range questions(st) {
		if q.open(&a, &o) {
			open = append(open, q)
		}
	}
	if !o.Accessible {
		return askTerminal(ctx, a, o, open)
	}
	in := newInput(o)
	for _, q := range open {
		p, err := q.field(&a, &o)
		if err != nil {
			return a, err
		}
		if p == nil { // nothing to choose
			if q.after != nil {
				q.after(&a)
			}
			continue
		}
		if err := o.runForm(ctx, newForm(p.field, in, o)); err != nil {
			if errors.Is(err, huh.ErrUserAborted) {
				return a, fmt.Errorf("%w at the %s question", ErrCancelled, q.id)
			}
			return a, fmt.Errorf("%s question: %w", q.id, err)
		}
		if in.ended() {
			return a, fmt.Errorf("%w before the %s question was answered: give it as a flag (%s) or answer every prompt", ErrInputEnded, q.id, flagFor(q.id))
		}
		if p.done != nil {
			p.done()
		}
		if q.after != nil {
			q.after(&a)
		}
	}
	return a, nil
}

func flagFor(id string) string {
	return map[string]string{
		"tenant type": "--tenant-type", "sample": "--sample", "tenant": "--tenant", "app name": "--name",
		"credential": "--credential", "sample location": "--dir / --download",
	}[id]
}

// choiceState carries a choice between a field and its after hook.
type choiceState struct {
	tenantType string
	location   string
	credential string
}

func questions(st *choiceState) []question {
	return []question{
		{
			id:   "tenant type",
			open: func(a *Answers, o *Options) bool { return a.TenantType == "" },
			field: func(a *Answers, o *Options) (*prompt, error) {
				return choose("Which kind of tenant?",
					"Workforce: your organization's people sign in with their work accounts (Microsoft Entra ID).\nExternal ID: customers sign up and sign in to your app (Microsoft Entra External ID).",
					[]huh.Option[string]{
						huh.NewOption("Workforce tenant (Microsoft Entra ID)", string(samples.Workforce)),
						huh.NewOption("External ID tenant (customers)", string(samples.External)),
					}, &st.tenantType, string(samples.Workforce), o), nil
			},
			after: func(a *Answers) { a.TenantType = samples.TenantType(st.tenantType) },
		},
		{
			id:   "sample",
			open: func(a *Answers, o *Options) bool { return a.Sample == "" },
			field: func(a *Answers, o *Options) (*prompt, error) {
				var opts []huh.Option[string]
				for _, m := range o.Catalog {
					if m.TenantType == a.TenantType {
						opts = append(opts, huh.NewOption(fmt.Sprintf("%s  (%s)", m.Title, m.ID), m.ID))
					}
				}
				if len(opts) == 0 {
					return nil, fmt.Errorf("no sample for tenant type %q", a.TenantType)
				}
				if len(opts) == 1 {
					a.Sample = opts[0].Value
					return nil, nil
				}
				return choose("Which sample web app?", "The tool registers the app for it and writes its configuration.",
					opts, &a.Sample, opts[0].Value, o), nil
			},
		},
		{
			id:   "tenant",
			open: func(a *Answers, o *Options) bool { return a.Tenant == "" && !o.NoTenantQuestion },
			field: func(a *Answers, o *Options) (*prompt, error) {
				dflt := ""
				if o.TenantDefault != nil {
					dflt = o.TenantDefault(a.TenantType)
				}
				desc := "The tenant's id (a GUID) or a domain, e.g. contoso.onmicrosoft.com: Entra admin center > Overview."
				if a.TenantType == samples.External {
					desc = "The External ID tenant's id (a GUID) or domain, e.g. contoso.onmicrosoft.com: Entra admin center > Overview (switch to the external tenant first)."
				}
				return text("Tenant", desc, dflt, auth.ValidateTenant, &a.Tenant, o), nil
			},
		},
		{
			id:   "app name",
			open: func(a *Answers, o *Options) bool { return a.Name == "" },
			field: func(a *Answers, o *Options) (*prompt, error) {
				return text("A name for this app", "Running again with the same name updates the same app registration instead of making another.",
					DefaultName, ValidateName, &a.Name, o), nil
			},
			after: func(a *Answers) { a.Name = orDefault(a.Name, DefaultName) },
		},
		{
			id:   "credential",
			open: func(a *Answers, o *Options) bool { return a.Credential == "" },
			field: func(a *Answers, o *Options) (*prompt, error) {
				m := find(o.Catalog, a.Sample)
				if m == nil {
					return nil, unknownSample(a.Sample, o.Catalog)
				}
				if len(m.Credentials) < 2 {
					st.credential = string(m.DefaultCredential())
					return nil, nil
				}
				var opts []huh.Option[string]
				for _, k := range m.Credentials {
					label := "A client secret (simplest; expires, kept in a git-ignored file)"
					if k == samples.Certificate {
						label = "A certificate (a self-signed key pair made here; the private key never leaves this machine)"
					}
					opts = append(opts, huh.NewOption(label, string(k)))
				}
				return choose("How should the app prove who it is?", "", opts, &st.credential, string(m.DefaultCredential()), o), nil
			},
			after: func(a *Answers) { a.Credential = samples.CredentialKind(st.credential) },
		},
		{
			id:   "sample location",
			open: func(a *Answers, o *Options) bool { return a.Location == "" },
			field: func(a *Answers, o *Options) (*prompt, error) {
				m := find(o.Catalog, a.Sample)
				if m == nil {
					return nil, unknownSample(a.Sample, o.Catalog)
				}
				found := ""
				if o.FindSample != nil {
					found = o.FindSample(m)
				}
				var opts []huh.Option[string]
				if found != "" {
					opts = append(opts, huh.NewOption("Configure the sample in "+found, "existing:"+found))
				}
				opts = append(opts,
					huh.NewOption("Download the sample from GitHub into ./"+m.DownloadDir(), string(LocationDownload)),
					huh.NewOption("Only write the config files, into ./"+m.ConfigDir(), string(LocationConfigOnly)))
				return choose("Where is the sample?", "", opts, &st.location, opts[0].Value, o), nil
			},
			after: func(a *Answers) {
				kind, dir, _ := strings.Cut(st.location, ":")
				a.Location = Location(kind)
				if a.Dir == "" {
					a.Dir = dir
				}
			},
		},
	}
}

// orDefault trims an answer; an empty one (Enter at a plain prompt) takes the default.
func orDefault(s, dflt string) string {
	if s = strings.TrimSpace(s); s == "" {
		return dflt
	}
	return s
}

func find(cat []*samples.Manifest, id string) *samples.Manifest {
	for _, m := range cat {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func unknownSample(id string, cat []*samples.Manifest) error {
	var ids []string
	for _, m := range cat {
		ids = append(ids, m.ID)
	}
	return fmt.Errorf("unknown sample %q: use one of %s", id, strings.Join(ids, ", "))
}

// Confirm shows a summary and asks yes or no; the default is no. In the full terminal UI the
// question stays on screen with its answer ("Apply this plan? Yes"); Ctrl-C is ErrCancelled.
func Confirm(ctx context.Context, title, summary string, o Options) (bool, error) {
	ok := false
	c := huh.NewConfirm().Title(title).Description(summary).Affirmative("Yes").Negative("No").Value(&ok)
	if !o.Accessible {
		p := &prompt{field: c, summary: func() string {
			if ok {
				return title + " Yes"
			}
			return title + " No"
		}}
		if err := runTerminal(ctx, o, newFlow(o, []*step{{id: "confirmation", build: func() (*prompt, error) { return p, nil }}})); err != nil {
			return false, err
		}
		return ok, nil
	}
	in := newInput(o)
	if err := o.runForm(ctx, newForm(c, in, o)); err != nil {
		if errors.Is(err, huh.ErrUserAborted) {
			return false, fmt.Errorf("%w at the confirmation", ErrCancelled)
		}
		return false, err
	}
	if in.ended() {
		return false, fmt.Errorf("%w before the confirmation: pass --yes to confirm without a prompt", ErrInputEnded)
	}
	return ok, nil
}

// input is where answers come from: the raw stream for the full terminal UI (bubbletea puts a
// terminal in raw mode itself), a lineReader in accessible mode.
type input interface {
	io.Reader
	ended() bool
}

type rawInput struct{ io.Reader }

func (rawInput) ended() bool { return false }

func newInput(o Options) input {
	if !o.Accessible {
		return rawInput{o.In}
	}
	return &lineReader{r: bufio.NewReader(byteReader{o.In})}
}

// byteReader reads one byte at a time, so that a lineReader never reads past the end of its
// line: each prompt (Confirm after Confirm) makes its own lineReader over the same stream, and
// read-ahead would swallow the next prompt's answer.
type byteReader struct{ r io.Reader }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return b.r.Read(p)
}

func newForm(f huh.Field, in input, o Options) *huh.Form {
	form := huh.NewForm(huh.NewGroup(f)).WithOutput(o.Out).WithAccessible(o.Accessible).WithShowHelp(!o.Accessible)
	switch r := in.(type) {
	case rawInput:
		if r.Reader != nil {
			form = form.WithInput(r.Reader) // unwrapped: bubbletea sets raw mode on an *os.File
		}
	default:
		form = form.WithInput(in)
	}
	if o.Theme != nil {
		form = form.WithTheme(o.Theme)
	}
	return form
}

// lineReader hands out at most one line per Read. huh's accessible mode makes a new scanner per
// question: given all the answers in one read, the first scanner would swallow them and later
// questions would silently get their defaults (facts/testing.md §3). It also remembers EOF, which
// huh turns into a silent default.
type lineReader struct {
	mu  sync.Mutex
	r   *bufio.Reader
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		err = nil
	}
	n := copy(p, line)
	if n < len(line) {
		// The caller's buffer is smaller than the line: keep the rest for the next Read.
		l.r = bufio.NewReader(io.MultiReader(strings.NewReader(string(line[n:])), l.r))
	}
	if err == io.EOF && n == 0 {
		l.eof = true
	}
	return n, err
}

func (l *lineReader) ended() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eof
}
