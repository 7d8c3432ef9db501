package templates

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestReadBackNeverThroughALink: a sample's configuration file that is a link (to another
// secret-holding file, or to a folder) is refused, not read through; the file itself reads.
func TestReadBackNeverThroughALink(t *testing.T) {
	m, err := samples.Lookup("flask-workforce")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "other.env")
	if err := os.WriteFile(elsewhere, []byte("CLIENT_ID=00000000-0000-0000-0000-000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(p string) error
		wantErr error
	}{
		{"a link to another file", func(p string) error { return os.Symlink(elsewhere, p) }, atomicfile.ErrNotRegular},
		{"a link to a folder", func(p string) error { return os.Symlink(filepath.Dir(elsewhere), p) }, atomicfile.ErrNotRegular},
		{"the file itself", func(p string) error { return os.WriteFile(p, []byte("CLIENT_ID=x\n"), 0o600) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.setup(filepath.Join(dir, ".env")); err != nil {
				t.Fatal(err)
			}
			_, err := Read(m, dir)
			if tt.wantErr == nil {
				if errors.Is(err, atomicfile.ErrNotRegular) {
					t.Fatalf("a regular .env refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
