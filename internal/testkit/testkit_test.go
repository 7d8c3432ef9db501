package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of failing the real test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }
func (r *recorder) Fatal(a ...any)            { r.failed = fmt.Sprint(a...) }

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(file, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		got      string
		wantFail bool
	}{
		{"same", file, "a\nb\nc\n", false},
		{"a line differs", file, "a\nB\nc\n", true},
		{"a line more", file, "a\nb\nc\nd\n", true},
		{"a line less", file, "a\nb\n", true},
		{"no golden file", filepath.Join(dir, "missing.golden"), "a\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Golden(r, tt.path, []byte(tt.got))
			if (r.failed != "") != tt.wantFail {
				t.Errorf("failed = %q, want failure %v", r.failed, tt.wantFail)
			}
		})
	}
}

func TestFirstDiff(t *testing.T) {
	tests := []struct {
		a, b     string
		line     int
		got, exp string
	}{
		{"a\nb", "a\nc", 2, "b", "c"},
		{"a", "a\nb", 2, "", "b"},
		{"x", "y", 1, "x", "y"},
	}
	for _, tt := range tests {
		line, g, w := firstDiff([]byte(tt.a), []byte(tt.b))
		if line != tt.line || g != tt.got || w != tt.exp {
			t.Errorf("firstDiff(%q, %q) = %d %q %q, want %d %q %q", tt.a, tt.b, line, g, w, tt.line, tt.got, tt.exp)
		}
	}
}

func TestLog(t *testing.T) {
	var l Log[int]
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Add(i)
		}()
	}
	wg.Wait()
	all := l.All()
	if len(all) != 50 {
		t.Fatalf("len = %d, want 50", len(all))
	}
	seen := map[int]bool{}
	for _, v := range all {
		seen[v] = true
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct values, want 50", len(seen))
	}
	all[0] = -1
	if l.All()[0] == -1 {
		t.Error("All returned the log's own slice, not a copy")
	}
}
