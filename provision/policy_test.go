package provision

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// A tenant's app management policy (facts/tenants.md §4), which the tool's token cannot read:
// a secret lifetime over the maximum steps down (180, 90, 30, 7, 1 days below the one asked)
// until one is allowed, reported as a retry and in Result.Notes; when none is, or secrets are
// blocked, Apply returns a *PolicyError naming the restriction, the policy and who may change it.
func TestSecretPolicy(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name        string
		policy      emulator.AppManagementPolicy
		lifetime    time.Duration
		wantDays    int  // the secret's lifetime; 0: refused
		wantBlocked bool // refused as blocked
		wantErr     []string
	}{
		{name: "within the policy", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(60 * day)}, lifetime: 30 * day, wantDays: 30},
		{name: "over the maximum", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(100 * day)}, lifetime: 365 * day, wantDays: 90},
		{name: "a week at most", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(10 * day)}, lifetime: 30 * day, wantDays: 7},
		{name: "under a day", policy: emulator.AppManagementPolicy{MaxPasswordLifetime: emulator.Duration(12 * time.Hour)}, lifetime: 30 * day,
			wantErr: []string{"CredentialInvalidLifetimeAsPerAppPolicy", "00000000-0000-0000-0000-000000000000", "1 days (restriction passwordLifetime)", PolicyChangers}},
		{name: "secrets blocked", policy: emulator.AppManagementPolicy{BlockPasswordAddition: true}, lifetime: 30 * day, wantBlocked: true,
			wantErr: []string{"CredentialTypeNotAllowedAsPerAppPolicy", "restriction passwordAddition", PolicyChangers}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newEnv(t)
			s := emulator.DefaultSettings()
			s.AppManagementPolicy = tc.policy
			if err := v.e.SetSettings("", s); err != nil {
				t.Fatal(err)
			}
			eng := v.engine(Workforce)
			spec := v.spec(Workforce, samples.Secret, "policy")
			spec.Credential.Lifetime = tc.lifetime
			ctx := context.Background()
			p, err := eng.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			r, err := eng.Apply(ctx, p)
			if tc.wantDays == 0 {
				var pe *PolicyError
				if !errors.As(err, &pe) || pe.PasswordsBlocked != tc.wantBlocked {
					t.Fatalf("Apply: %v; want a *PolicyError (blocked %v)", err, tc.wantBlocked)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error does not say %q: %v", w, err)
					}
				}
				if r.ObjectID == "" {
					t.Error("the result does not hold the app made before the refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := time.Until(r.SecretExpires)
			if got > time.Duration(tc.wantDays)*day || got < time.Duration(tc.wantDays)*day-time.Hour {
				t.Errorf("the secret is valid for %s, want %d days", got, tc.wantDays)
			}
			stepped := time.Duration(tc.wantDays)*day != tc.lifetime
			if (len(r.Notes) == 1) != stepped {
				t.Errorf("notes %q; want one when the lifetime stepped down", r.Notes)
			}
			retries := 0
			for _, ev := range v.events.All() {
				if ev.Step == "add a client secret" && ev.Status == Retrying && strings.Contains(ev.Detail, "app management policy") {
					retries++
				}
			}
			if stepped != (retries > 0) {
				t.Errorf("%d step-down reports; want some only when the lifetime stepped down", retries)
			}
		})
	}
}
