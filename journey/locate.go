package journey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// Location is where the sample is and what to do there.
type Location struct {
	Dir        string
	Existing   bool // a checkout of the sample
	Download   bool // to download into Dir first
	ConfigOnly bool // an output folder for the config files alone
	Private    bool // made 0700, not 0755: it holds credentials alone (a lab's bundle)
}

// Locate decides where the configuration goes, before anything is created (a wrong folder costs
// nothing): with download, into dir (default ./<repo>); a dir that holds the sample (or the
// current folder when it does); else config-only output into dir (default
// ./entra-quickstart-<sample>). Its errors are *InputError.
func Locate(m *samples.Manifest, dir string, download bool) (Location, error) {
	abs := func(p string) (string, error) {
		d, err := filepath.Abs(p)
		if err != nil {
			return "", inputf("--dir %s: %w", p, err)
		}
		return d, nil
	}
	if download {
		d := dir
		if d == "" {
			d = m.DownloadDir()
		}
		d, err := abs(d)
		if err != nil {
			return Location{}, err
		}
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			if found, err := samples.Locate(d, m); err == nil {
				// Already downloaded: configure it in place.
				return Location{Dir: found, Existing: true}, nil
			}
			return Location{}, inputf("--download into %s: the folder is not empty and holds no copy of %s; pick an empty or new folder with --dir", d, m.ID)
		}
		return Location{Dir: d, Download: true}, nil
	}
	if dir != "" {
		d, err := abs(dir)
		if err != nil {
			return Location{}, err
		}
		found, err := samples.Locate(d, m)
		switch {
		case err == nil:
			return Location{Dir: found, Existing: true}, nil
		case !errors.Is(err, samples.ErrNotSample) && !errors.Is(err, os.ErrNotExist):
			return Location{}, &InputError{err}
		case emptyOrMissing(d):
			return Location{Dir: d, ConfigOnly: true}, nil
		}
		if _, rerr := templates.Read(m, d); rerr == nil || errors.Is(rerr, templates.ErrNotConfigured) && holdsOurFiles(m, d) {
			return Location{Dir: d, ConfigOnly: true}, nil // config-only output of an earlier run
		}
		return Location{}, inputf("--dir %s: %w", d, err)
	}
	if found, err := samples.Locate("", m); err == nil {
		return Location{Dir: found, Existing: true}, nil
	}
	d, err := abs(m.ConfigDir())
	if err != nil {
		return Location{}, err
	}
	return Location{Dir: d, ConfigOnly: true}, nil
}

func inputf(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }

// holdsOurFiles reports whether every file in dir is one the sample's config consists of (an
// earlier config-only output, perhaps half restored).
func holdsOurFiles(m *samples.Manifest, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	ours := map[string]bool{".gitignore": true}
	for _, f := range m.Files {
		ours[filepath.Base(filepath.FromSlash(f.Path))] = true
		ours[filepath.Base(filepath.FromSlash(f.Path))+".bak"] = true
	}
	for _, e := range entries {
		if !ours[e.Name()] {
			return false
		}
	}
	return true
}

func emptyOrMissing(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Is(err, os.ErrNotExist) // a file is neither: refused before anything is made
	}
	return len(entries) == 0
}
