package emustate

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFindRemove(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	rec := Running{URL: "https://localhost:" + port, Addr: ln.Addr().String(), CAFile: "/x/ca.pem", DataFile: "/x/data.json", PID: 42, Started: time.Now().UTC()}
	p, err := Write(dir, rec)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record %s: %v, mode %v", p, err, fi.Mode())
	}
	got, err := Find(dir, "https://localhost:"+port+"/3632269b-3a14-4109-a75c-a16b8f2650ed")
	if err != nil || got.Addr != rec.Addr || got.DataFile != rec.DataFile {
		t.Fatalf("Find = %+v, %v", got, err)
	}
	if _, err := Find(dir, "https://localhost:1/x"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("another port: %v, want ErrNotRunning", err)
	}
	// Stale: the port no longer listens; the record still names its data file.
	ln.Close()
	got, err = Find(dir, rec.URL)
	if !errors.Is(err, ErrNotRunning) || got.DataFile != rec.DataFile {
		t.Errorf("stale: %+v, %v", got, err)
	}
	// Another process's record is left alone; its own is removed.
	if err := Remove(p, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal("a record of another process was removed")
	}
	if err := Remove(p, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, port+".json")); !os.IsNotExist(err) {
		t.Fatal("the record is still there")
	}
}

func TestIsLocalBase(t *testing.T) {
	for s, want := range map[string]bool{
		"https://localhost:8443/tenant":                         true,
		"https://127.0.0.1:8443":                                true,
		"https://login.microsoftonline.com/tenant":              false,
		"https://localhost/tenant":                              false,
		"http://localhost:8443/tenant":                          false,
		"https://contoso.ciamlogin.com/contoso.onmicrosoft.com": false,
	} {
		if got := IsLocalBase(s); got != want {
			t.Errorf("IsLocalBase(%q) = %v", s, got)
		}
	}
}
