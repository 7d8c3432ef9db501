package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	Restored []string // files put back from their .bak
	Removed  []string // files Write had created
}

// Restore puts the sample's files back as they were before the first Write: every file with a
// .bak (the manifest's files for any credential kind, and the .gitignore files next to them)
// gets its original back, and the files in created (Result.Created of the Write, as recorded
// by the caller) are removed. A file Write created is never removed unless it is listed, so a
// person's own file is safe even when nothing was recorded.
func Restore(m *samples.Manifest, dir string, created []string) (*RestoreResult, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var candidates []string
	for _, f := range m.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		for _, c := range []string{p, filepath.Join(filepath.Dir(p), ".gitignore")} {
			if !slices.Contains(candidates, c) {
				candidates = append(candidates, c)
			}
		}
	}
	res := &RestoreResult{}
	var errs []error
	for _, p := range candidates {
		bak := p + ".bak"
		b, mode, err := atomicfile.ReadFile(bak)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = writeAtomic(p, b, mode)
		}
		if err == nil {
			err = os.Remove(bak)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring %s from %s: %w", p, bak, err))
			continue
		}
		res.Restored = append(res.Restored, p)
	}
	for _, p := range created {
		if _, err := os.Stat(p + ".bak"); err == nil {
			continue // restored above
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s: %w", p, err))
			continue
		}
		res.Removed = append(res.Removed, p)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("restoring %s: %w; the .bak files that remain hold the originals", m.ID, errors.Join(errs...))
	}
	return res, nil
}
