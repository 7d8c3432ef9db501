package provision

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// Every sample in the catalog makes a valid spec whose registration carries what the sample needs.
func TestSpecForEverySample(t *testing.T) {
	all, err := samples.All()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range all {
		t.Run(m.ID, func(t *testing.T) {
			s, err := SpecFor(m, Answers{Name: "Ada Lovelace", KeyFile: filepath.Join(t.TempDir(), "k.pem")})
			if err != nil {
				t.Fatal(err)
			}
			if seen[s.UniqueName] {
				t.Errorf("uniqueName %s is not unique", s.UniqueName)
			}
			seen[s.UniqueName] = true
			if s.UniqueName != UniqueName(m.ID, "Ada Lovelace") || strings.ContainsAny(s.UniqueName, " '") {
				t.Errorf("uniqueName %q", s.UniqueName)
			}
			if !slices.Contains(s.RedirectURIs, m.RedirectURI) || (m.PostLogoutRedirectURI != "" && !slices.Contains(s.RedirectURIs, m.PostLogoutRedirectURI)) {
				t.Errorf("redirect URIs %v miss the sample's", s.RedirectURIs)
			}
			if s.LogoutURL != m.FrontChannelLogoutURL || s.IDTokenIssuance != m.ImplicitGrant.IDToken {
				t.Errorf("logout %q idToken %v", s.LogoutURL, s.IDTokenIssuance)
			}
			for _, sc := range BaseScopes() {
				if !slices.Contains(s.GraphScopes, sc) {
					t.Errorf("scopes %v miss %s", s.GraphScopes, sc)
				}
			}
			if !slices.Contains(s.Tags, Tag) || !slices.Contains(s.Tags, TagSamplePrefix+m.ID) || !slices.Contains(s.Tags, TagNamePrefix+"Ada-Lovelace") {
				t.Errorf("tags %v", s.Tags)
			}
			if string(s.Credential.Kind) != string(m.DefaultCredential()) || string(s.TenantType) != string(m.TenantType) {
				t.Errorf("credential %s tenant %s", s.Credential.Kind, s.TenantType)
			}
		})
	}
	m, _ := samples.Lookup("node-workforce")
	if _, err := SpecFor(m, Answers{Credential: samples.Certificate}); err == nil {
		t.Error("a certificate for a secret-only sample was accepted")
	}
}

func TestSpecValidation(t *testing.T) {
	base := NewSpec(Spec{Sample: "s", TenantType: Workforce, RedirectURIs: []string{"http://localhost:3000/cb"}})
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"http redirect", func(s *Spec) { s.RedirectURIs = []string{"http://example.com/cb"} }, "must use https"},
		{"http logout", func(s *Spec) { s.LogoutURL = "http://localhost/logout" }, "logout URL"},
		{"tag with space", func(s *Spec) { s.Tags = append(s.Tags, "a b") }, "without spaces"},
		{"unknown scope", func(s *Spec) { s.GraphScopes = append(s.GraphScopes, "Mail.Read") }, "Mail.Read"},
		{"cert without key file", func(s *Spec) { s.Credential.Kind = samples.Certificate }, "KeyFile"},
		{"lifetime", func(s *Spec) { s.Credential.Lifetime = 3 * 365 * 24 * time.Hour }, "lifetime"},
		{"tenant type", func(s *Spec) { s.TenantType = "b2c" }, "tenant type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.Tags = slices.Clone(base.Tags)
			s.GraphScopes = slices.Clone(base.GraphScopes)
			tc.mod(&s)
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v; want %q", err, tc.want)
			}
		})
	}
	if u := UniqueName("node-workforce", "O'Brien app/1"); u != "entra-quickstart.node-workforce.o-brien-app-1" {
		t.Errorf("UniqueName = %q", u)
	}
}

// Renewing a certificate uploads a new one, keeps the previous as the grace key, and the new one
// authenticates (client assertion signed with the key on disk).
func TestCertificateRenewal(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	eng := v.engine(Workforce)
	spec := v.spec(Workforce, samples.Certificate, "certs")
	var thumbs []string
	for i := range 3 {
		s := spec
		s.Credential.Renew = i > 0
		r := mustApply(t, ctx, eng, s)
		if err := v.ready(ctx, Workforce, r); err != nil {
			t.Fatalf("renewal %d: %v", i, err)
		}
		thumbs = append(thumbs, r.Certificate.Thumbprint)
		want := min(i+1, 2)
		if c := v.count(Workforce, spec.UniqueName); c.keys != want || c.apps != 1 {
			t.Fatalf("after renewal %d: %+v; want %d keys", i, c, want)
		}
	}
	if thumbs[0] == thumbs[1] || thumbs[1] == thumbs[2] {
		t.Errorf("renewals reused certificates: %v", thumbs)
	}
}

func TestPersonalUniqueName(t *testing.T) {
	long := strings.Repeat("x", 120)
	for _, tc := range []struct{ sample, name, who, want string }{
		{"node-workforce", "quickstart", "8F3a2b1c-0000-4000-8000-000000000000", "entra-quickstart.node-workforce.quickstart.8f3a2b1c"},
		{"node-workforce", "quickstart", "", "entra-quickstart.node-workforce.quickstart"},
		{"node-workforce", long, "abcdef12-3456", "entra-quickstart.node-workforce." + long[:100-len("entra-quickstart.node-workforce.")-9] + ".abcdef12"},
	} {
		if got := PersonalUniqueName(tc.sample, tc.name, tc.who); got != tc.want || len(got) > 100 {
			t.Errorf("PersonalUniqueName(%q, %q, %q) = %q, want %q", tc.sample, tc.name, tc.who, got, tc.want)
		}
	}
}
