package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
