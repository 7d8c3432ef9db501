package samples

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrNotSample is returned (wrapped) when a folder is not a checkout of the expected sample.
var ErrNotSample = errors.New("not the expected sample")

// Matches reports whether dir is the sample's folder, and if not, the first marker that failed.
func (m *Manifest) Matches(dir string) (ok bool, missing string) {
	for _, mk := range m.Detect {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(mk.Path)))
		if err != nil {
			return false, mk.Path
		}
		if mk.Contains != "" && !bytes.Contains(b, []byte(mk.Contains)) {
			return false, fmt.Sprintf("%s containing %q", mk.Path, mk.Contains)
		}
	}
	return true, ""
}

// Locate finds the sample's folder from start (a folder the person named, or the current
// folder): start itself, the sample folder under start as a repository root, under a clone of
// the repository inside start, or a folder above start (someone inside the sample's tree).
// The error for a folder that is not the sample says what is missing and, when the folder is
// another known sample, which one.
func Locate(start string, m *Manifest) (string, error) {
	if start == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("finding the current folder: %w", err)
		}
		start = wd
	}
	abs, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", start, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("the folder %s cannot be read: %w; pass --dir with a checkout of %s, or use --download", abs, err, m.RepositoryURL())
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is a file, not a folder: %w; pass --dir with the folder of a checkout of %s", abs, ErrNotSample, m.RepositoryURL())
	}
	folder := filepath.FromSlash(m.Folder)
	candidates := []string{abs, filepath.Join(abs, folder), filepath.Join(abs, repoName(m.Repository), folder)}
	// Someone inside the sample (App/routes): walk up as many levels as the folder is deep, plus
	// the folder's own depth, which is enough to reach the repository root.
	up := abs
	for range strings.Count(m.Folder, "/") + 3 {
		parent := filepath.Dir(up)
		if parent == up {
			break
		}
		up = parent
		candidates = append(candidates, up, filepath.Join(up, folder))
	}
	for _, c := range candidates {
		if ok, _ := m.Matches(c); ok {
			return c, nil
		}
	}
	_, missing := m.Matches(abs)
	hint := ""
	if all, err := catalog(); err == nil {
		for _, other := range all {
			if other.ID == m.ID || other.Folder == m.Folder && other.Repository == m.Repository {
				continue
			}
			if ok, _ := other.Matches(abs); ok {
				hint = fmt.Sprintf(" It looks like the %s sample (--sample %s).", other.ID, other.ID)
				break
			}
		}
	}
	return "", fmt.Errorf("%s is %w %s (%s): %s is missing.%s Pass --dir with the folder %s of a checkout of %s, or use --download",
		abs, ErrNotSample, m.ID, m.Title, missing, hint, path.Clean(m.Folder), m.RepositoryURL())
}
