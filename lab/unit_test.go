package lab

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseRoster(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      []Attendee
		err       string
	}{
		{name: "header", csv: "Name,Email\nAda Lovelace,ada@contoso.com\nAlan Turing,alan@contoso.com\n",
			want: []Attendee{{"ada-lovelace", "Ada Lovelace", "ada@contoso.com"}, {"alan-turing", "Alan Turing", "alan@contoso.com"}}},
		{name: "no header, accents, duplicates, comments, blank lines", csv: "\ufeffJosé Núñez,jose@x.org\n# late joiners\n\nJose Nunez\nJosé Núñez,\n",
			want: []Attendee{{"jose-nunez", "José Núñez", "jose@x.org"}, {"jose-nunez-2", "Jose Nunez", ""}, {"jose-nunez-3", "José Núñez", ""}}},
		{name: "columns by name, id column", csv: "email,id,name\nb@x.org,bee,Béatrice\n,,Zoë\n",
			want: []Attendee{{"bee", "Béatrice", "b@x.org"}, {"zoe", "Zoë", ""}}},
		{name: "email only", csv: "name,email\n,kim@x.org\n", want: []Attendee{{"kim", "kim", "kim@x.org"}}},
		{name: "nothing usable", csv: "# only a comment\n", err: "lists nobody"},
		{name: "bad id", csv: "name,id\nAda,Ada Lovelace!\n", err: "id \"ada lovelace!\""},
		{name: "bad email", csv: "Ada,not-an-email\n", err: "not an email address"},
		{name: "non-Latin name", csv: "李雷\n", want: []Attendee{{"attendee", "李雷", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRoster(strings.NewReader(tc.csv))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("attendee %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestNumberedAndNames(t *testing.T) {
	for _, tc := range []struct {
		n           int
		first, last string
		err         bool
	}{{3, "attendee-01", "attendee-03", false}, {100, "attendee-001", "attendee-100", false}, {0, "", "", true}, {MaxAttendees + 1, "", "", true}} {
		got, err := Numbered(tc.n)
		if tc.err {
			if err == nil {
				t.Errorf("Numbered(%d) accepted", tc.n)
			}
			continue
		}
		if err != nil || got[0].ID != tc.first || got[len(got)-1].ID != tc.last {
			t.Errorf("Numbered(%d) = %v..., %v", tc.n, got[0], err)
		}
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"build-2026", true}, {"a", true}, {"a.b", true}, {strings.Repeat("x", 32), true}, {"Build", false}, {"-x", false}, {"has space", false}, {strings.Repeat("x", 33), false}} {
		if err := ValidateName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v", tc.name, err)
		}
	}
}

func TestCost(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		units       int
		write       bool
	}{
		{"GET", "https://graph.microsoft.com/v1.0/organization", 1, false},
		{"GET", "https://graph.microsoft.com/v1.0/applications(uniqueName='x')", 2, false},
		{"GET", "https://graph.microsoft.com/v1.0/applications(uniqueName='x')?$select=id,appId", 1, false},
		{"GET", "https://localhost:8443/v1.0/oauth2PermissionGrants?$filter=clientId%20eq%20'x'", 2, false},
		{"GET", "https://graph.microsoft.com/v1.0/applications?$top=5&$select=id", 1, false},
		{"GET", "https://graph.microsoft.com/v1.0/servicePrincipals?$expand=owners", 2, false},
		{"PATCH", "https://graph.microsoft.com/v1.0/applications(uniqueName='x')", 1, true},
		{"POST", "https://graph.microsoft.com/v1.0/applications/1/addPassword", 1, true},
		{"DELETE", "https://graph.microsoft.com/v1.0/directory/deletedItems/1", 1, true},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if u, w := Cost(r); u != tc.units || w != tc.write {
			t.Errorf("%s %s = %d, %v; want %d, %v", tc.method, tc.url, u, w, tc.units, tc.write)
		}
	}
}

// fakeGraph answers every request, 429 while told to, and records when writes arrived.
type fakeGraph struct {
	mu       sync.Mutex
	times    []time.Time
	throttle int // answer this many 429s first
}

func (f *fakeGraph) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}
	if f.throttle > 0 {
		f.throttle--
		resp.StatusCode = http.StatusTooManyRequests
		resp.Header.Set("Retry-After", "1")
		return resp, nil
	}
	f.times = append(f.times, time.Now())
	return resp, nil
}

// The write budget holds over every window, the writes go as fast as it allows, and a 429
// pauses every request for its Retry-After and halves the concurrency limit.
func TestGovernorBudgetAndThrottle(t *testing.T) {
	b := Budget{ResourceUnits: 1000, Window: time.Second, Writes: 5, WriteWindow: 200 * time.Millisecond}
	g := NewGovernor(GovernorOptions{Budget: b, Margin: 10 * time.Millisecond, Start: 2, Max: 16})
	f := &fakeGraph{}
	c := &http.Client{Transport: g.Wrap(f)}
	start := time.Now()
	var wg sync.WaitGroup
	for range 15 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Post("https://graph.microsoft.com/v1.0/applications", "application/json", nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if elapsed < 400*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("15 writes at 5 per 200 ms took %s, want about 420 ms", elapsed)
	}
	for i := range f.times {
		n := 0
		for j := i; j < len(f.times) && f.times[j].Sub(f.times[i]) < b.WriteWindow; j++ {
			n++
		}
		if n > b.Writes {
			t.Fatalf("%d writes within one window from write %d", n, i)
		}
	}

	// Concurrency: slow start grows the limit by one per success; a 429 halves it and pauses.
	ctx := context.Background()
	for range 6 {
		rel, err := g.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rel(true)
	}
	if l := g.Stats().Limit; l != 8 {
		t.Errorf("after 6 successes from 2 the limit is %v, want 8", l)
	}
	f.throttle = 1
	resp, err := c.Get("https://graph.microsoft.com/v1.0/organization")
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("the throttled answer: %v %v", resp, err)
	}
	resp.Body.Close()
	if st := g.Stats(); st.Limit != 4 || st.Throttled != 1 {
		t.Errorf("after a 429: limit %v, throttled %d; want 4, 1", st.Limit, st.Throttled)
	}
	t0 := time.Now()
	resp, err = c.Get("https://graph.microsoft.com/v1.0/organization")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(t0); d < 900*time.Millisecond {
		t.Errorf("the request after a 429 with Retry-After: 1 left after %s", d)
	}
	// A cancelled wait returns at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.admit(cctx, 1, true, false); err == nil {
		t.Error("admit ignored a cancelled context")
	}
}

func TestRecord(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadRecord(dir, "ws"); !os.IsNotExist(err) {
		t.Fatalf("LoadRecord of nothing = %v", err)
	}
	r := Record{Name: "ws", Dir: "/tmp/ws", Sample: "node-workforce", TenantID: "t"}
	if err := SaveRecord(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRecord(dir, "ws")
	if err != nil || got.Dir != r.Dir || got.Sample != r.Sample {
		t.Fatalf("LoadRecord = %+v, %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "ws.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("record mode %v", fi.Mode())
	}
	if err := RemoveRecord(dir, "ws"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRecord(dir, "ws"); err != nil {
		t.Errorf("removing a missing record: %v", err)
	}
}

// TestZipHoldsExactlyTheBundlesList: strays in a bundle's folder (a backup, a staging file a
// kill left, an attendee's own file) never reach the zip; the listed files do, under the prefix.
func TestZipHoldsExactlyTheBundlesList(t *testing.T) {
	bundle := t.TempDir()
	files := map[string]string{
		"HANDOUT.md": "# hi", "HANDOUT.html": "<p>hi</p>", "config/.env": "CLIENT_SECRET=x",
		"config/.gitignore": "/.env\n",
		// strays
		"config/.env.bak": "CLIENT_SECRET=old", "config/..env.tmp-123": "CLIENT_SECRET=half", "notes.txt": "mine",
		markerName: "{}",
	}
	for rel, body := range files {
		p := filepath.Join(bundle, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "alice.zip")
	list := []string{"HANDOUT.md", "HANDOUT.html", "config/.env", "config/.gitignore"}
	if err := zipBundle(dst, bundle, "alice", list); err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var got []string
	for _, f := range z.File {
		got = append(got, f.Name)
	}
	want := []string{"alice/config/", "alice/HANDOUT.md", "alice/HANDOUT.html", "alice/config/.env", "alice/config/.gitignore"}
	if !slices.Equal(got, want) {
		t.Fatalf("zip entries %v; want exactly %v", got, want)
	}
	if err := zipBundle(dst, bundle, "alice", []string{"config/missing"}); err == nil {
		t.Fatal("a listed file that is not there was zipped without an error")
	}
}

// TestRosterNamesEscapedInPages: a roster name with markup and escape sequences reaches
// HANDOUT.md and INDEX.md escaped: no link, no extra column, no raw control character.
func TestRosterNamesEscapedInPages(t *testing.T) {
	evil := "Eve\x1b[2J | [click](https://evil.example) <b>"
	tm, err := parseText("handout.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	hand, err := render(tm, handoutData{Attendee: evil, DisplayName: evil})
	if err != nil {
		t.Fatal(err)
	}
	im, err := parseText("index.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := render(im, &Report{Lab: "w", Attendees: []AttendeeResult{{Attendee: Attendee{Name: evil, Email: evil}, DisplayName: evil, Error: evil}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"HANDOUT.md": hand, "INDEX.md": idx} {
		s := string(b)
		if strings.Contains(s, "\x1b") || strings.Contains(s, " | [click]") || strings.Contains(s, "<b>") {
			t.Errorf("%s carries the roster name raw:\n%s", name, s)
		}
		if !strings.Contains(s, `Eve\\x1b\[2J \| \[click\]`) {
			t.Errorf("%s does not show the escaped name:\n%s", name, s)
		}
	}
}
