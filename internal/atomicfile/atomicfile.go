// Package atomicfile replaces files so that a crash, a full disk or a kill leaves the old
// content or the new, never a mix: every file the tool writes (sample configuration, keys, the
// local record, the emulator's state, lab bundles) goes through Write.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Write replaces path with data and mode: a temporary file in the same folder (same file
// system, so the rename is atomic), synced before the rename, the folder synced after.
func Write(path string, data []byte, mode fs.FileMode) error {
	s, err := Stage(path, data, mode)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is a file written and synced beside its destination, not yet in place. Staging every
// file of a set before committing any makes the set all-or-nothing for every failure but the
// renames themselves (a full disk, a read-only folder, a kill all strike while staging).
type Staged struct {
	path, tmp string
}

// Stage writes data with mode to a temporary file beside path; Commit puts it in place,
// Discard removes it.
func Stage(path string, data []byte, mode fs.FileMode) (*Staged, error) {
	dir := filepath.Dir(path)
	removeStale(dir, time.Now())
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w; check that the folder is writable", path, err)
	}
	name := tmp.Name()
	fail := func(err error) (*Staged, error) {
		tmp.Close()
		os.Remove(name)
		return nil, fmt.Errorf("writing %s: %w", path, err)
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
		os.Remove(name)
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &Staged{path: path, tmp: name}, nil
}

// Commit renames the staged file over its destination and syncs the folder.
func (s *Staged) Commit() error {
	if err := os.Rename(s.tmp, s.path); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync() // best effort: makes the rename durable where the OS supports it
		d.Close()
	}
	return nil
}

// Discard removes the staged file; the destination stays as it was.
func (s *Staged) Discard() { os.Remove(s.tmp) }

// staleAfter is how old a staging file must be to count as left by a kill: a write in progress
// (in this process or another run) stages and commits within seconds, so one this old is an
// orphan, and a secret in it must not linger beside the sample.
const staleAfter = 2 * time.Minute

// removeStale removes staging files (".<name>.tmp-<digits>", as Stage makes them) older than
// staleAfter from dir. Best effort: a file it cannot remove is left for the next write.
func removeStale(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !isStagingName(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleAfter {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// isStagingName reports whether name is one CreateTemp makes for Stage: a leading dot, the
// file's name, ".tmp-" and the random digits.
func isStagingName(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if !strings.HasPrefix(name, ".") || i < 2 || i+len(".tmp-") == len(name) {
		return false
	}
	for _, r := range name[i+len(".tmp-"):] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
