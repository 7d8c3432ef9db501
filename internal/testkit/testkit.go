// Package testkit is what test packages share beyond the emulator (emulatortest): golden files
// with the -update flag, and a log that goroutines add to. Only tests import it.
package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// update is the one -update flag of every test binary that imports testkit: defined twice, the
// flag package would panic at start. A package initialised before this one may have defined it
// already (teatest's golden files do, and sort before testkit): that one is shared.
var update = func() func() bool {
	if f := flag.Lookup("update"); f != nil {
		return func() bool { return f.Value.String() == "true" }
	}
	b := flag.Bool("update", false, "rewrite golden files and generated documentation blocks")
	return func() bool { return *b }
}()

// Updating reports whether the test run was given -update: tests then rewrite what they check
// against instead of failing.
func Updating() bool { return update() }

// Golden compares got with the file at path. With -update it writes got there instead (making
// the folder). A difference is reported with the first line that differs and both contents.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		line, g, w := firstDiff(got, want)
		t.Errorf("%s differs from its golden file at line %d (go test -update rewrites it)\n got: %s\nwant: %s\n--- got\n%s\n--- want\n%s", path, line, g, w, got, want)
	}
}

// firstDiff is the first line (from 1) where a and b differ, and that line of each.
func firstDiff(a, b []byte) (int, string, string) {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) || i >= len(al) || i >= len(bl) {
			return i + 1, string(x), string(y)
		}
	}
	return 0, "", ""
}

// Log keeps what goroutines add (progress events, typically), in order of arrival.
type Log[T any] struct {
	mu    sync.Mutex
	items []T
}

// Add appends v; it is safe to call from any goroutine (give it as a progress callback).
func (l *Log[T]) Add(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
}

// All is a copy of what was added so far.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

// Buffer is a bytes.Buffer that goroutines (a child process's output copiers) and the test may
// use at once.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
