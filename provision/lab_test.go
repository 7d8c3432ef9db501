package provision

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// A lab's spec carries the lab tag and its own notes; outside a lab nothing changes.
func TestSpecLabTag(t *testing.T) {
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, lab string
		wantTag   string
		wantNotes string
	}{
		{name: "alice", lab: "", wantTag: "", wantNotes: "reset --sample node-workforce --name alice"},
		{name: "ws1.alice", lab: "ws1", wantTag: TagLabPrefix + "ws1", wantNotes: "lab reset --name ws1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SpecFor(m, Answers{Name: tc.name, Lab: tc.lab, KeyFile: filepath.Join(t.TempDir(), "k.pem")})
			if err != nil {
				t.Fatal(err)
			}
			hasLab := slices.ContainsFunc(s.Tags, func(x string) bool { return strings.HasPrefix(x, TagLabPrefix) })
			if tc.wantTag == "" && hasLab || tc.wantTag != "" && !slices.Contains(s.Tags, tc.wantTag) {
				t.Errorf("tags %v, want lab tag %q", s.Tags, tc.wantTag)
			}
			if !strings.Contains(s.Notes, tc.wantNotes) {
				t.Errorf("notes %q lack %q", s.Notes, tc.wantNotes)
			}
		})
	}
}

// A lab's uniqueName is valid, distinct per lab and attendee, and never one init could make.
func TestLabUniqueName(t *testing.T) {
	seen := map[string]string{}
	for _, tc := range []struct{ lab, attendee string }{
		{"ws1", "alice"}, {"ws1", "bob"}, {"ws2", "alice"}, {"WS3", "Ada Lovelace"},
		{strings.Repeat("l", 40), strings.Repeat("a", 80)},
	} {
		u := LabUniqueName(tc.lab, tc.attendee)
		if uniqueNameUnsafe.MatchString(u) || len(u) > 100 || !strings.HasPrefix(u, "entra-quickstart.lab.") {
			t.Errorf("LabUniqueName(%q, %q) = %q", tc.lab, tc.attendee, u)
		}
		if prev, ok := seen[u]; ok {
			t.Errorf("%q and %s/%s share %q", prev, tc.lab, tc.attendee, u)
		}
		seen[u] = tc.lab + "/" + tc.attendee
		all, _ := samples.All()
		for _, m := range all {
			if UniqueName(m.ID, tc.lab+"."+tc.attendee) == u {
				t.Errorf("init could make the lab's uniqueName %q", u)
			}
		}
	}
}

// Filter.Lab matches the lab's tag only, and still nothing without our tag.
func TestFilterLab(t *testing.T) {
	lab := []string{Tag, TagSamplePrefix + "node-workforce", TagNamePrefix + "ws1.alice", TagLabPrefix + "ws1"}
	for _, tc := range []struct {
		name string
		f    Filter
		tags []string
		want bool
	}{
		{"the lab", Filter{Lab: "ws1"}, lab, true},
		{"another lab", Filter{Lab: "ws2"}, lab, false},
		{"not a lab app", Filter{Lab: "ws1"}, []string{Tag, TagSamplePrefix + "node-workforce", TagNamePrefix + "ws1"}, false},
		{"lab and sample", Filter{Lab: "ws1", Sample: "node-workforce"}, lab, true},
		{"lab tag without ours", Filter{Lab: "ws1"}, []string{TagLabPrefix + "ws1"}, false},
	} {
		if got := tc.f.match(tc.tags); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Probe asks once: a working secret is ok; a wrong one is "not yet" with Entra's code (a new
// secret is refused the same way until it replicates); no credential is an error before any call.
func TestProbe(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	eng := v.engine(Workforce)
	r := mustApply(t, ctx, eng, v.spec(Workforce, samples.Secret, "probe"))
	cfg := ReadyConfig{TokenURL: v.tokenURL(Workforce), HTTPClient: &http.Client{Transport: v.tr}}
	if ok, reason, err := Probe(ctx, cfg, r); !ok || err != nil {
		t.Fatalf("Probe with the new secret = %v, %q, %v", ok, reason, err)
	}
	bad := *r
	bad.Secret = "not-the-secret"
	if ok, reason, err := Probe(ctx, cfg, &bad); ok || err != nil || !strings.Contains(reason, "AADSTS7000215") {
		t.Errorf("Probe with a wrong secret = %v, %q, %v; want not ok, naming AADSTS7000215", ok, reason, err)
	}
	if _, _, err := Probe(ctx, cfg, &Result{AppID: r.AppID}); err == nil {
		t.Error("Probe without a credential did not fail")
	}
}
