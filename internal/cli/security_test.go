package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
)

// TestResetTouchesOnlyTaggedAppsAndAsksForUnknownOnes, through the command line: beside the app
// init made, the tenant holds an app that looks like ours but lacks the tag, and a tagged app
// this machine's record does not know (another machine's, or a run that failed before it
// recorded its app). reset asks apart for the unknown one; answering no keeps it; --yes then
// deletes it; the untagged app is never touched, not even listed.
func TestResetTouchesOnlyTaggedAppsAndAsksForUnknownOnes(t *testing.T) {
	home(t)
	e, err := emulatortest.Start(t, emulatortest.FromSeed(emulatortest.Seed(t)))
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := e.Info().Tenant(emulator.Workforce)
	base := []string{"--emulator-url", e.URL(), "--ca-file", e.CAFile()}
	if code, _, errOut := run(t, append([]string{"init", "--no-input", "--yes", "--no-verify", "--sample", "node-workforce", "--dir", t.TempDir()}, base...)...); code != ExitOK {
		t.Fatalf("init: %s", errOut)
	}
	mine, _ := tagged(e, ti.ID)
	if len(mine) != 1 {
		t.Fatalf("init made %d apps", len(mine))
	}
	add := func(name string, tags []string) string {
		id := uuid.NewString()
		un := name
		err := e.Store().Do(func(d *emulator.Directory) error {
			for _, tn := range d.Tenants {
				if tn.ID == ti.ID {
					tn.Applications = append(tn.Applications, &emulator.Application{ID: id, AppID: uuid.NewString(), UniqueName: &un,
						DisplayName: "node-workforce (" + name + ") by entra-quickstart", SignInAudience: "AzureADMyOrg", Tags: tags,
						CreatedDateTime: time.Now().Add(-time.Hour)})
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	untagged := add("entra-quickstart.node-workforce.lookalike", []string{"entra-quickstart-ish", "entra-quickstart:sample:node-workforce"})
	unknown := add("entra-quickstart.node-workforce.elsewhere", []string{"entra-quickstart", "entra-quickstart:sample:node-workforce", "entra-quickstart:name:elsewhere"})
	exists := func(id string) bool {
		found := false
		e.Store().View(func(d *emulator.Directory) {
			for _, tn := range d.Tenants {
				for _, a := range tn.Applications {
					if a.ID == id {
						found = true
					}
				}
			}
		})
		return found
	}

	// Yes to ours; the unknown one is named apart and left alone without --all-tagged.
	code, _, errOut := runIn(t, "y\n", append([]string{"reset", "--accessible"}, base...)...)
	if code != ExitOK {
		t.Fatalf("reset: exit %d\n%s", code, errOut)
	}
	switch {
	case !strings.Contains(errOut, "not yours") || !strings.Contains(errOut, "--all-tagged") || !strings.Contains(errOut, "elsewhere"):
		t.Errorf("reset did not name the unknown app apart and say how to include it:\n%s", errOut)
	case strings.Contains(errOut, "lookalike"):
		t.Errorf("reset listed the untagged app:\n%s", errOut)
	case exists(mine[0].ID):
		t.Errorf("reset kept the app this machine made")
	case !exists(unknown):
		t.Errorf("reset deleted the unknown tagged app without --all-tagged")
	}
	// --yes alone still leaves it; --yes --all-tagged deletes every tagged app, and still not
	// the untagged one.
	if code, _, errOut := run(t, append([]string{"reset", "--yes", "--no-input"}, base...)...); code != ExitOK || !exists(unknown) {
		t.Fatalf("reset --yes: exit %d, unknown app kept %v (want true)\n%s", code, exists(unknown), errOut)
	}
	if code, _, errOut := run(t, append([]string{"reset", "--yes", "--no-input", "--all-tagged"}, base...)...); code != ExitOK {
		t.Fatalf("reset --yes --all-tagged: exit %d\n%s", code, errOut)
	}
	if exists(unknown) || !exists(untagged) {
		t.Errorf("after reset --yes: unknown tagged app present %v (want false), untagged app present %v (want true)", exists(unknown), exists(untagged))
	}
}
