package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutFindRemove(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var r Record
	a := App{Cloud: "https://graph.microsoft.com", TenantID: "T1", UniqueName: "eq-node-workforce-alice", AppID: "a1"}
	r.Put(a, t0)
	a.AppID = "a2"
	r.Put(a, t0.Add(time.Hour))
	if len(r.Apps) != 1 {
		t.Fatalf("Put twice made %d apps, want 1", len(r.Apps))
	}
	got := r.Find("https://graph.microsoft.com", "t1", "EQ-node-workforce-alice")
	if got == nil || got.AppID != "a2" || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Find = %+v; want the second AppID, first CreatedAt, second UpdatedAt", got)
	}
	if n := len(r.InTenant("https://graph.microsoft.com", "T1")); n != 1 {
		t.Fatalf("InTenant = %d apps, want 1", n)
	}
	if !r.Remove(a.Cloud, a.TenantID, a.UniqueName) || len(r.Apps) != 0 {
		t.Fatalf("Remove did not remove: %+v", r.Apps)
	}
}

func TestUpdateWritesAtomicallyWithPrivateMode(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "sub", FileName))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := s.Load(ctx)
	if err != nil || len(r.Apps) != 0 {
		t.Fatalf("Load of a missing record = %+v, %v; want empty", r, err)
	}
	err = s.Update(ctx, func(r *Record) error {
		r.Put(App{Cloud: "c", TenantID: "t", UniqueName: "u", AppID: "x"}, time.Now())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("record mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(s.Path())); di.Mode().Perm() != 0o700 {
		t.Errorf("folder mode = %v, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path()))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	// A failing update writes nothing.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(r *Record) error { r.Apps = nil; return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want boom", err)
	}
	r, _ = s.Load(ctx)
	if len(r.Apps) != 1 || r.Version != Version {
		t.Fatalf("after a failed update the record is %+v; want the one app", r)
	}
}

// Concurrent updates through separate Stores (separate lock file descriptions, as two
// processes would have) must not lose any write.
func TestConcurrentUpdatesDoNotInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := Open(path)
			s.poll = time.Millisecond
			errs <- s.Update(context.Background(), func(r *Record) error {
				r.Put(App{Cloud: "c", TenantID: "t", UniqueName: fmt.Sprint("u", i)}, time.Now())
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, _ := Open(path)
	r, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Apps) != n {
		t.Fatalf("%d apps recorded, want %d: updates were lost", len(r.Apps), n)
	}
}

func TestLockWaitStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	holder, _ := Open(path)
	inside := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = holder.Update(context.Background(), func(*Record) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	defer close(release)
	other, _ := Open(path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := other.Update(ctx, func(*Record) error { return nil })
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another entra-quickstart") {
		t.Fatalf("Update while locked = %v; want a deadline error naming the other run", err)
	}
}

func TestUnreadableRecords(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"corrupt", "{not json", "move it away"},
		{"newer", `{"version": 99, "apps": []}`, "newer entra-quickstart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, _ := Open(path)
			_, err := s.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v; want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestDefaultPath: the record is in the user's config folder, or in ENTRA_QUICKSTART_HOME when
// it is set, like everything else of the tool's.
func TestDefaultPath(t *testing.T) {
	xdg, eqHome := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv("HOME", t.TempDir())
	cfg, _ := os.UserConfigDir()
	for _, tc := range []struct {
		name, env, want string
	}{
		{"user config dir", "", filepath.Join(cfg, "entra-quickstart", FileName)},
		{"ENTRA_QUICKSTART_HOME", eqHome, filepath.Join(eqHome, FileName)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ENTRA_QUICKSTART_HOME", tc.env)
			p, err := DefaultPath()
			if err != nil || p != tc.want {
				t.Fatalf("DefaultPath = %s, %v; want %s", p, err, tc.want)
			}
		})
	}
}

// MovedTo keeps the folders an app's secrets were written to: the current folder joins the
// others with its secret when the configuration moves, the new folder leaves them, and a folder
// is listed once with its latest secret.
func TestMovedTo(t *testing.T) {
	fs := func(pairs ...string) []FolderSecret {
		var out []FolderSecret
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, FolderSecret{Folder: pairs[i], SecretKeyID: pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		app  App
		to   string
		want []FolderSecret
	}{
		{"first folder", App{}, "/a", nil},
		{"same folder again", App{Folder: "/a", SecretKeyID: "k1"}, "/a", nil},
		{"a second folder", App{Folder: "/a", SecretKeyID: "k1"}, "/b", fs("/a", "k1")},
		{"a third folder", App{Folder: "/b", SecretKeyID: "k2", OtherFolders: fs("/a", "k1")}, "/c", fs("/a", "k1", "/b", "k2")},
		{"back to the first", App{Folder: "/b", SecretKeyID: "k2", OtherFolders: fs("/a", "k1")}, "/a/", fs("/b", "k2")},
		{"a folder again with a new secret", App{Folder: "/a", SecretKeyID: "k3", OtherFolders: fs("/a", "k1", "/b", "k2")}, "/c", fs("/b", "k2", "/a", "k3")},
		{"no secret (a certificate)", App{Folder: "/a"}, "/b", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.app.MovedTo(tc.to)
			if len(got) != len(tc.want) {
				t.Fatalf("MovedTo(%s) = %+v, want %+v", tc.to, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("MovedTo(%s) = %+v, want %+v", tc.to, got, tc.want)
				}
			}
			a := tc.app
			a.OtherFolders = got
			for _, f := range got {
				if !slices.Contains(a.FoldersUsing(f.SecretKeyID), f.Folder) {
					t.Errorf("FoldersUsing(%s) misses %s", f.SecretKeyID, f.Folder)
				}
			}
		})
	}
}
