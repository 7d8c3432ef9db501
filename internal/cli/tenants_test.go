package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestListAndResetCoverBothEmulatorTenants configures a workforce and an External ID sample
// against the in-process emulator: list and reset with no tenant named see both, say which
// tenant each app is in, and reset leaves nothing in either. Naming a tenant (or a kind) still
// narrows them to one.
func TestListAndResetCoverBothEmulatorTenants(t *testing.T) {
	home(t)
	samplesByKind := map[string]string{"workforce": "node-workforce", "external": "node-external"}
	for _, id := range samplesByKind {
		if code, _, errOut := run(t, "init", "--emulator", "--no-input", "--yes", "--sample", id, "--dir", t.TempDir(), "--no-verify"); code != ExitOK {
			t.Fatalf("init %s: %s", id, errOut)
		}
	}
	listJSON := func(args ...string) []ListedApp {
		t.Helper()
		code, out, errOut := run(t, append([]string{"list", "--emulator", "--json"}, args...)...)
		if code != ExitOK {
			t.Fatalf("list %v: exit %d\n%s", args, code, errOut)
		}
		var r listResult
		if err := json.Unmarshal([]byte(out), &r); err != nil || !r.OK || r.ExitCode != ExitOK {
			t.Fatalf("list %v --json: %v\n%s", args, err, out)
		}
		return r.Apps
	}

	apps := listJSON()
	if len(apps) != 2 {
		t.Fatalf("list --emulator shows %d apps, want the workforce and the External ID one: %+v", len(apps), apps)
	}
	tenantOfKind := map[string]ListedApp{}
	for _, a := range apps {
		tenantOfKind[a.TenantType] = a
		if a.TenantID == "" || a.TenantDomain == "" || samplesByKind[a.TenantType] != a.Sample {
			t.Errorf("app %s (sample %s) is listed in tenant %q %q of type %q", a.ClientID, a.Sample, a.TenantID, a.TenantDomain, a.TenantType)
		}
	}
	wf, ext := tenantOfKind["workforce"], tenantOfKind["external"]
	if wf.TenantID == ext.TenantID {
		t.Fatalf("both apps are said to be in tenant %s", wf.TenantID)
	}

	// The table says the tenant of each row.
	code, out, _ := run(t, "list", "--emulator")
	if code != ExitOK || !strings.Contains(out, "TENANT") {
		t.Fatalf("list --emulator: exit %d, no TENANT column:\n%s", code, out)
	}
	for _, a := range apps {
		if !rowHas(out, a.ClientID, a.TenantDomain) {
			t.Errorf("the row of %s does not name its tenant %s:\n%s", a.ClientID, a.TenantDomain, out)
		}
	}

	// Naming a tenant or a kind narrows to that tenant, as before.
	for _, args := range [][]string{{"--tenant", wf.TenantID}, {"--tenant-type", "workforce"}, {"--sample", "node-workforce"}} {
		if got := listJSON(args...); len(got) != 1 || got[0].ClientID != wf.ClientID {
			t.Errorf("list %v: %+v, want only the workforce app", args, got)
		}
	}

	// A dry run names both, each with its tenant, and deletes nothing.
	code, _, errOut := run(t, "reset", "--emulator", "--dry-run")
	if code != ExitOK {
		t.Fatalf("reset --dry-run: exit %d\n%s", code, errOut)
	}
	for _, a := range apps {
		if !rowHas(errOut, a.ClientID, "(tenant "+a.TenantDomain+")") {
			t.Errorf("reset --dry-run does not name %s with its tenant %s:\n%s", a.ClientID, a.TenantDomain, errOut)
		}
	}
	if got := listJSON(); len(got) != 2 {
		t.Fatalf("a dry run deleted something: %+v", got)
	}

	code, out, errOut = run(t, "reset", "--emulator", "--yes", "--json")
	if code != ExitOK {
		t.Fatalf("reset --emulator --yes: exit %d\n%s", code, errOut)
	}
	var rr ResetResult
	if err := json.Unmarshal([]byte(out), &rr); err != nil {
		t.Fatal(err)
	}
	deleted := map[string]string{}
	for _, a := range rr.Deleted {
		deleted[a.ClientID] = a.TenantID
	}
	if len(rr.Deleted) != 2 || len(rr.Purged) != 2 || deleted[wf.ClientID] != wf.TenantID || deleted[ext.ClientID] != ext.TenantID {
		t.Fatalf("reset deleted %+v, purged %+v; want both apps, each in its tenant", rr.Deleted, rr.Purged)
	}
	if got := listJSON(); len(got) != 0 {
		t.Fatalf("after reset list shows %+v", got)
	}
	if code, out, _ := run(t, "list", "--emulator"); code != ExitOK || !strings.Contains(out, wf.TenantDomain) || !strings.Contains(out, ext.TenantDomain) {
		t.Errorf("an empty list does not say which tenants it looked in:\n%s", out)
	}
}

// rowHas reports whether one line of out holds all the words.
func rowHas(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}
