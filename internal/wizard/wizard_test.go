package wizard

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

func catalog(t *testing.T) []*samples.Manifest {
	t.Helper()
	all, err := samples.All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// index returns the 1-based position of a sample among those of its tenant type.
func index(t *testing.T, tt samples.TenantType, id string) string {
	t.Helper()
	n := 0
	for _, m := range catalog(t) {
		if m.TenantType == tt {
			n++
			if m.ID == id {
				return string(rune('0' + n))
			}
		}
	}
	t.Fatalf("no sample %s", id)
	return ""
}

// TestAccessibleAllAnswersInOneRead feeds every answer at once, as a pipe does: each question
// must get its own line (huh's accessible mode would otherwise lose all but the first).
func TestAccessibleAllAnswersInOneRead(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		want        Answers
	}{
		{
			name:  "workforce",
			input: "1\n" + index(t, samples.Workforce, "aspnet-workforce") + "\n72f988bf-86f1-41af-91ab-2d7cd011db47\ndemo-1\n1\n2\n",
			want: Answers{TenantType: samples.Workforce, Sample: "aspnet-workforce", Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
				Name: "demo-1", Credential: samples.Certificate, Location: LocationConfigOnly},
		},
		{
			name: "external, bad tenant re-asked",
			// "contoso" is not a tenant: the prompt repeats until a domain is given.
			input: "2\n" + index(t, samples.External, "django-external") + "\ncontoso\nwingtip.onmicrosoft.com\n\n1\n",
			want: Answers{TenantType: samples.External, Sample: "django-external", Tenant: "wingtip.onmicrosoft.com",
				Name: DefaultName, Credential: samples.Secret, Location: LocationDownload},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := Ask(context.Background(), Answers{}, Options{In: strings.NewReader(tc.input), Out: &out, Accessible: true, Catalog: catalog(t)})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if got != tc.want {
				t.Errorf("answers\n got %+v\nwant %+v\noutput:\n%s", got, tc.want, out.String())
			}
			if strings.Contains(tc.name, "bad tenant") && !strings.Contains(out.String(), "neither a tenant id") {
				t.Errorf("no validation message shown:\n%s", out.String())
			}
		})
	}
}

func TestAccessibleAsksOnlyOpenQuestions(t *testing.T) {
	var out bytes.Buffer
	in := Answers{TenantType: samples.Workforce, Sample: "node-workforce", Tenant: "contoso.onmicrosoft.com", Location: LocationConfigOnly}
	got, err := Ask(context.Background(), in, Options{In: strings.NewReader("mine\n"), Out: &out, Accessible: true, Catalog: catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "mine" || got.Credential != samples.Secret {
		t.Errorf("got %+v", got)
	}
	for _, q := range []string{"Which kind of tenant", "Which sample", "Tenant", "How should the app prove", "Where is the sample"} {
		if strings.Contains(out.String(), q) {
			t.Errorf("asked %q although it was answered or had one choice:\n%s", q, out.String())
		}
	}
}

func TestAccessibleInputEnded(t *testing.T) {
	var out bytes.Buffer
	_, err := Ask(context.Background(), Answers{}, Options{In: strings.NewReader("1\n"), Out: &out, Accessible: true, Catalog: catalog(t)})
	if !errors.Is(err, ErrInputEnded) || !strings.Contains(err.Error(), "--sample") {
		t.Fatalf("err = %v, want ErrInputEnded naming --sample", err)
	}
}

func TestConfirmDefaultsToNo(t *testing.T) {
	var out bytes.Buffer
	ok, err := Confirm(context.Background(), "Create?", "plan", Options{In: strings.NewReader("\n"), Out: &out, Accessible: true})
	if err != nil || ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	ok, err = Confirm(context.Background(), "Create?", "plan", Options{In: strings.NewReader("y\n"), Out: &out, Accessible: true})
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, err := Confirm(context.Background(), "Create?", "plan", Options{In: strings.NewReader(""), Out: &out, Accessible: true}); !errors.Is(err, ErrInputEnded) {
		t.Fatalf("EOF: %v", err)
	}
}

// screen answers one question of the full terminal UI: wait for its title, then send keys.
// After "wait", "expect" is awaited after the keys (a validation message), then "then" keys.
type screen struct {
	wait   string
	keys   []tea.Msg
	expect string
	then   []tea.Msg
}

func typeText(s string) tea.Msg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

var (
	enter    = tea.KeyMsg{Type: tea.KeyEnter}
	down     = tea.KeyMsg{Type: tea.KeyDown}
	clear    = tea.KeyMsg{Type: tea.KeyCtrlU}
	shiftTab = tea.KeyMsg{Type: tea.KeyShiftTab}
	esc      = tea.KeyMsg{Type: tea.KeyEsc}
	ctrlC    = tea.KeyMsg{Type: tea.KeyCtrlC}
)

// teaRunner drives the wizard's program through teatest, screen by screen (facts/testing.md
// §3: wait for the title before answering; keys sent blind race the form's commands). The
// final view is kept in *final.
func teaRunner(t *testing.T, screens []screen, final *string) func(context.Context, tea.Model) (tea.Model, error) {
	return func(_ context.Context, m tea.Model) (tea.Model, error) {
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
		contains := func(sub string) func([]byte) bool {
			return func(b []byte) bool { return bytes.Contains(b, []byte(sub)) }
		}
		for _, s := range screens {
			teatest.WaitFor(t, tm.Output(), contains(s.wait), teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
			for _, k := range s.keys {
				tm.Send(k)
			}
			if s.expect != "" {
				teatest.WaitFor(t, tm.Output(), contains(s.expect), teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
				for _, k := range s.then {
					tm.Send(k)
				}
			}
		}
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		fm := tm.FinalModel(t)
		if final != nil {
			*final = fm.View()
		}
		return fm, nil
	}
}

func TestTerminalUI(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []screen
		want  Answers
	}{
		{
			name: "workforce with a certificate",
			steps: []screen{
				{wait: "Which kind of tenant", keys: []tea.Msg{enter}},
				{wait: "Which sample", keys: []tea.Msg{enter}}, // the first workforce sample supports certificates
				{wait: "Tenant", keys: []tea.Msg{typeText("not a tenant"), enter}, expect: "neither a tenant id",
					then: []tea.Msg{clear, typeText("contoso.onmicrosoft.com"), enter}},
				{wait: "A name for this app", keys: []tea.Msg{clear, typeText("demo"), enter}},
				{wait: "How should the app prove", keys: []tea.Msg{enter}}, // the sample's default, a certificate
				{wait: "Where is the sample", keys: []tea.Msg{down, enter}},
			},
			want: Answers{TenantType: samples.Workforce, Tenant: "contoso.onmicrosoft.com", Name: "demo", Credential: samples.Certificate, Location: LocationConfigOnly},
		},
		{
			name: "external",
			steps: []screen{
				{wait: "Which kind of tenant", keys: []tea.Msg{down, enter}},
				{wait: "Which sample", keys: []tea.Msg{enter}},
				{wait: "Tenant", keys: []tea.Msg{typeText("72f988bf-86f1-41af-91ab-2d7cd011db47"), enter}},
				{wait: "A name for this app", keys: []tea.Msg{enter}},
				{wait: "How should the app prove", keys: []tea.Msg{down, enter}}, // the first External ID sample (ASP.NET) offers both
				{wait: "Where is the sample", keys: []tea.Msg{enter}},
			},
			want: Answers{TenantType: samples.External, Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47", Name: DefaultName, Credential: samples.Secret, Location: LocationDownload},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat := catalog(t)
			got, err := Ask(context.Background(), Answers{}, Options{Catalog: cat, runProgram: teaRunner(t, tc.steps, nil)})
			if err != nil {
				t.Fatal(err)
			}
			// The sample is whichever the keys chose: check it belongs to the tenant type, and
			// that the certificate was only offered where the sample supports it.
			m := find(cat, got.Sample)
			if m == nil || m.TenantType != tc.want.TenantType || !m.Supports(got.Credential) {
				t.Fatalf("sample %q does not fit %+v", got.Sample, got)
			}
			got.Sample = ""
			if got != tc.want {
				t.Errorf("answers\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, s := range []string{"a", "demo-1", "team.alpha_2", strings.Repeat("x", 32)} {
		if err := ValidateName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "-x", "has space", "a/b", strings.Repeat("x", 33), "ünï", "Demo"} {
		if err := ValidateName(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestTerminalUIGoesBack answers three questions, goes back twice (Shift+Tab, then Esc) to the
// sample, changes it, and finishes: the answers given before going back are kept (the tenant is
// still in its field), and the screen keeps one line per answered question.
func TestTerminalUIGoesBack(t *testing.T) {
	cat := catalog(t)
	var final string
	screens := []screen{
		{wait: "Which kind of tenant", keys: []tea.Msg{enter}},
		{wait: "Which sample", keys: []tea.Msg{enter}},
		{wait: "Tenant", keys: []tea.Msg{typeText("contoso.onmicrosoft.com"), enter}},
		{wait: "A name for this app", keys: []tea.Msg{shiftTab}},
		{wait: "contoso.onmicrosoft.com", keys: []tea.Msg{esc}}, // back at the tenant, its answer kept
		{wait: "Which sample web app?", keys: []tea.Msg{down, enter}},
		{wait: "Tenant", keys: []tea.Msg{enter}}, // the answer kept
		{wait: "A name for this app", keys: []tea.Msg{enter}},
	}
	second := ""
	n := 0
	for _, m := range cat {
		if m.TenantType == samples.Workforce {
			if n++; n == 2 {
				second = m.ID
			}
		}
	}
	m := find(cat, second)
	if len(m.Credentials) > 1 {
		screens = append(screens, screen{wait: "How should the app prove", keys: []tea.Msg{enter}})
	}
	screens = append(screens, screen{wait: "Where is the sample", keys: []tea.Msg{enter}})
	got, err := Ask(context.Background(), Answers{}, Options{Catalog: cat, runProgram: teaRunner(t, screens, &final)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Sample != second || got.Tenant != "contoso.onmicrosoft.com" || got.Name != DefaultName || got.TenantType != samples.Workforce {
		t.Errorf("answers %+v, want sample %s in contoso.onmicrosoft.com named %s", got, second, DefaultName)
	}
	for _, want := range []string{"Which kind of tenant? Workforce tenant", "Which sample web app? " + m.Title, "Tenant contoso.onmicrosoft.com",
		"A name for this app " + DefaultName, "Where is the sample? Download"} {
		if strings.Count(final, want) != 1 {
			t.Errorf("the final screen should show %q once:\n%s", want, final)
		}
	}
}

// TestTerminalUICtrlC: Ctrl-C at a question ends the wizard with ErrCancelled (the command
// exits 130, as for Ctrl-C anywhere else), at the confirmation too.
func TestTerminalUICtrlC(t *testing.T) {
	_, err := Ask(context.Background(), Answers{}, Options{Catalog: catalog(t), runProgram: teaRunner(t, []screen{
		{wait: "Which kind of tenant", keys: []tea.Msg{enter}},
		{wait: "Which sample", keys: []tea.Msg{ctrlC}},
	}, nil)})
	if !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "sample") {
		t.Fatalf("err = %v, want ErrCancelled at the sample question", err)
	}
	_, err = Confirm(context.Background(), "Apply this plan?", "", Options{runProgram: teaRunner(t, []screen{{wait: "Apply this plan", keys: []tea.Msg{ctrlC}}}, nil)})
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("confirm: err = %v, want ErrCancelled", err)
	}
	var final string
	ok, err := Confirm(context.Background(), "Apply this plan?", "", Options{runProgram: teaRunner(t, []screen{{wait: "Apply this plan", keys: []tea.Msg{typeText("y")}}}, &final)})
	if err != nil || !ok || !strings.Contains(final, "Apply this plan? Yes") {
		t.Fatalf("confirm: ok=%v err=%v, final screen %q", ok, err, final)
	}
}

// TestAccessibleShowsDescriptionsAndDefaults: the plain prompts keep every question's
// description and say what Enter takes (golden file; -update rewrites it).
func TestAccessibleShowsDescriptionsAndDefaults(t *testing.T) {
	var out bytes.Buffer
	_, err := Ask(context.Background(), Answers{}, Options{In: strings.NewReader("\n\n\n\n\n\n"), Out: &out, Accessible: true, Catalog: catalog(t),
		TenantDefault: func(samples.TenantType) string { return "contoso.onmicrosoft.com" }})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"Workforce: your organization's people", "Press Enter for 1 (Workforce tenant", "Press Enter for 'quickstart'",
		"Press Enter for 'contoso.onmicrosoft.com'", "The tool registers the app"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("accessible output lacks %q", want)
		}
	}
	testkit.Golden(t, "testdata/accessible.golden", out.Bytes())
}
