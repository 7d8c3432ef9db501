package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/state"
)

// TestLockRunRefusesASecondRun: while one run holds a folder, a second run on that folder, or on
// the same app registration from another folder, fails at once with an error that says what the
// first one is doing and who it is; the locks live in the config folder, not the sample's; and
// once released, the next run gets them.
func TestLockRunRefusesASecondRun(t *testing.T) {
	home(t)
	dir := t.TempDir()
	release, err := lockRun(dir, "https://graph|tenant|entra-quickstart.node-workforce.a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, app, want string
	}{
		{dir, "https://graph|tenant|entra-quickstart.node-workforce.b", "configuring " + dir},
		{t.TempDir(), "https://graph|tenant|entra-quickstart.node-workforce.a", "working on the same app registration"},
		{t.TempDir(), "HTTPS://GRAPH|TENANT|ENTRA-QUICKSTART.NODE-WORKFORCE.A", "working on the same app registration"},
	} {
		_, err := lockRun(tc.dir, tc.app)
		if err == nil || !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), "run the same command again") {
			t.Errorf("second run on %s / %s: %v; want a lock error naming %q and the holder", tc.dir, tc.app, err, tc.want)
		}
	}
	// A refused run took no lock: another folder and app are free.
	r2, err := lockRun(t.TempDir(), "https://graph|tenant|entra-quickstart.node-workforce.c")
	if err != nil {
		t.Fatalf("an unrelated run was refused: %v", err)
	}
	r2()
	release()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the lock left files in the sample's folder: %v", entries)
	}
	r3, err := lockRun(dir, "https://graph|tenant|entra-quickstart.node-workforce.b")
	if err != nil {
		t.Fatalf("after release the folder is still locked: %v", err)
	}
	r3()
}

// TestLockLab: one provision or reset per lab at a time, and a provision's bundle folder is
// guarded like a sample folder.
func TestLockLab(t *testing.T) {
	home(t)
	dir := t.TempDir()
	release, err := lockLab("build-2026", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := lockLab("build-2026", ""); !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), "the lab build-2026") {
		t.Errorf("a reset during a provision: %v", err)
	}
	if _, err := lockLab("other", dir); !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), "writing in "+dir) {
		t.Errorf("another lab into the same folder: %v", err)
	}
	if _, err := lockRun(dir, "x"); !errors.Is(err, state.ErrLocked) {
		t.Errorf("init into a lab's folder during its provision: %v", err)
	}
}

// TestLockFolderThroughALink: a folder reached through a symbolic link, a relative path or a
// trailing ".." is the same lock; a folder not made yet is named by its resolved parent.
func TestLockFolderThroughALink(t *testing.T) {
	home(t)
	base := t.TempDir()
	app := filepath.Join(base, "sample", "App")
	if err := os.MkdirAll(app, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "sample"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	release, err := lockRun(app, "app-a")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, other := range []string{filepath.Join(link, "App"), filepath.Join(app, "..", "App"), app + string(filepath.Separator)} {
		if _, err := lockRun(other, "app-b"); !errors.Is(err, state.ErrLocked) {
			t.Errorf("--dir %s took the lock that --dir %s holds: %v", other, app, err)
		}
	}
	if folderKey(filepath.Join(link, "App", "new")) != folderKey(filepath.Join(app, "new")) {
		t.Errorf("a folder not made yet: %s vs %s", folderKey(filepath.Join(link, "App", "new")), folderKey(filepath.Join(app, "new")))
	}
}
