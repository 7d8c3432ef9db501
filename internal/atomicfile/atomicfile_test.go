package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.env")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	st, _ := os.Stat(p)
	if err != nil || string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v err %v", b, st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestWriteFailureKeepsTheOriginal(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root: a read-only folder does not stop root; checking a missing folder instead")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "missing", "f")
	err := Write(p, []byte("x"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "check that the folder is writable") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadFile: a regular file reads with its mode; a link (to a file or a folder), a folder
// and a FIFO are refused without reading through them; a missing file is fs.ErrNotExist.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(p string) error
		want    string
		wantErr error
	}{
		{"regular", func(p string) error { return os.WriteFile(p, []byte("x=1"), 0o600) }, "x=1", nil},
		{"link to a file", func(p string) error { return os.Symlink(target, p) }, "", ErrNotRegular},
		{"link to a folder", func(p string) error { return os.Symlink(dir, p) }, "", ErrNotRegular},
		{"folder", func(p string) error { return os.Mkdir(p, 0o700) }, "", ErrNotRegular},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "", ErrNotRegular},
		{"missing", func(string) error { return nil }, "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := tt.setup(p); err != nil {
				t.Fatal(err)
			}
			b, mode, err := ReadFile(p)
			if !errors.Is(err, tt.wantErr) || string(b) != tt.want {
				t.Fatalf("ReadFile = %q, %v; want %q, %v", b, err, tt.want, tt.wantErr)
			}
			if err == nil && mode != 0o600 {
				t.Errorf("mode %v, want 0600", mode)
			}
		})
	}
}

// TestStaleStagingFilesRemoved: the next write to a folder removes staging files a kill left
// there (older than staleAfter, of any name), and keeps a fresh one (a write in progress) and
// files that only look alike.
func TestStaleStagingFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-staleAfter - time.Minute)
	tests := []struct {
		name     string
		age      time.Time
		wantGone bool
	}{
		{".env.tmp-123456", old, true},
		{".appsettings.json.tmp-9", old, true},
		{".env.tmp-777", time.Now(), false}, // in progress
		{".env.tmp-abc", old, false},        // not CreateTemp's digits
		{"env.tmp-123", old, false},         // no leading dot
		{".env.tmp-", old, false},           // no digits
		{".gitignore", old, false},          // a person's file
		{".other.env.tmp-42", old, true},    // another file's, in the same folder
		{".env.bak.tmp-42x", old, false},    // not a staging name
		{".secret.pfx.tmp-1234567890", old, true},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte("CLIENT_SECRET=left by a kill"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, tt.age, tt.age); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(filepath.Join(dir, ".env"), []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		_, err := os.Lstat(filepath.Join(dir, tt.name))
		if gone := errors.Is(err, fs.ErrNotExist); gone != tt.wantGone {
			t.Errorf("%s: removed %v, want %v", tt.name, gone, tt.wantGone)
		}
	}
}
