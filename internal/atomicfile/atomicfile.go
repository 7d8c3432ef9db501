// Package atomicfile replaces files so that a crash, a full disk or a kill leaves the old
// content or the new, never a mix: every file the tool writes (sample configuration, keys, the
// local record, the emulator's state, lab bundles) goes through Write.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data and mode: a temporary file in the same folder (same file
// system, so the rename is atomic), synced before the rename, the folder synced after.
func Write(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w; check that the folder is writable", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op after the rename
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Chmod before the data goes in: a secret is never readable by others, not even briefly.
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: makes the rename durable where the OS supports it
		d.Close()
	}
	return nil
}
