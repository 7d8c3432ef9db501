package samples

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Limits of a download. The largest of the five repositories' archives is a few megabytes; the
// limits are far above that and far below what could fill a disk.
const (
	DefaultMaxDownload = 200 << 20 // bytes of the zip archive
	DefaultMaxExtract  = 200 << 20 // bytes written for the sample's folder
	DefaultMaxFiles    = 10000     // files and folders in the sample's folder
)

// ErrUnsafeArchive is returned (wrapped) for an archive that is refused: a path that would
// escape the target, a symbolic link or special file, or more than the limits allow.
var ErrUnsafeArchive = errors.New("unsafe archive")

// DownloadOptions tune Download. The zero value downloads from GitHub with the default limits.
type DownloadOptions struct {
	BaseURL string       // where archives are served; DefaultArchiveBase if empty (tests use a local server)
	Client  *http.Client // nil: a client with connect, TLS and first-byte timeouts
	// StallTimeout ends a download that receives nothing for this long; default 30 s.
	StallTimeout time.Duration
	MaxDownload  int64
	MaxExtract   int64
	MaxFiles     int
	// Progress, if set, is called as bytes arrive and as files are written.
	Progress func(Progress)
}

// Progress reports how far a download has come. Total is -1 when unknown.
type Progress struct {
	Phase string // "download" or "extract"
	Done  int64  // bytes downloaded, or files written
	Total int64  // bytes announced by the server, or files to write
}

// Download fetches the sample's repository archive and extracts only the sample's folder into
// target, which must not exist or be empty. On any error nothing is left in target (it is
// removed if Download created it) and nothing is written outside it (the archive itself goes to
// a temporary file that is removed). It returns target as an absolute path.
func Download(ctx context.Context, m *Manifest, target string, opts DownloadOptions) (string, error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", target, err)
	}
	created, err := prepareTarget(abs)
	if err != nil {
		return "", err
	}
	url := m.ArchiveURL(opts.BaseURL)
	err = downloadAndExtract(ctx, m, url, abs, opts)
	if err != nil {
		cleanTarget(abs, created)
		return "", fmt.Errorf("downloading %s from %s: %w", m.ID, url, err)
	}
	return abs, nil
}

// withDefaults fills the zero fields of opts with the default limits, client and timeouts.
func (opts DownloadOptions) withDefaults() DownloadOptions {
	if opts.MaxDownload <= 0 {
		opts.MaxDownload = DefaultMaxDownload
	}
	if opts.MaxExtract <= 0 {
		opts.MaxExtract = DefaultMaxExtract
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}}
	}
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = 30 * time.Second
	}
	if opts.Progress == nil {
		opts.Progress = func(Progress) {}
	}
	return opts
}

// prepareTarget makes sure target is a new or empty folder, and says whether it created it.
func prepareTarget(target string) (created bool, err error) {
	entries, err := os.ReadDir(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(target, 0o755); err != nil {
			return false, fmt.Errorf("creating %s: %w", target, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("the download folder %s cannot be used: %w; choose another with --dir", target, err)
	case len(entries) > 0:
		return false, fmt.Errorf("the download folder %s is not empty; choose a new folder with --dir, or configure the checkout there without --download", target)
	}
	return false, nil
}

func cleanTarget(target string, created bool) {
	if created {
		os.RemoveAll(target)
		return
	}
	entries, _ := os.ReadDir(target)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(target, e.Name()))
	}
}

func downloadAndExtract(ctx context.Context, m *Manifest, url, target string, opts DownloadOptions) error {
	tmp, err := os.CreateTemp("", "entra-quickstart-*.zip")
	if err != nil {
		return fmt.Errorf("creating a temporary file for the archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	sum := sha256.New()
	size, err := fetch(ctx, url, io.MultiWriter(tmp, sum), opts)
	if err != nil {
		return err
	}
	if want := strings.ToLower(m.ArchiveSHA256); want != "" {
		if got := hex.EncodeToString(sum.Sum(nil)); got != want {
			return fmt.Errorf("%w: the archive's SHA-256 is %s, not the %s the catalog pins for commit %s; nothing was extracted: clone %s at that commit and pass --dir", ErrUnsafeArchive, got, want, m.Commit, m.RepositoryURL())
		}
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		return fmt.Errorf("the download is not a zip archive (%v); check the address, or clone %s and pass --dir", err, m.RepositoryURL())
	}
	return extract(ctx, zr, m.Folder, target, opts)
}

func fetch(ctx context.Context, url string, w io.Writer, opts DownloadOptions) (int64, error) {
	// A stalled transfer (connected, but no bytes for StallTimeout) is ended by cancelling the
	// request; each arriving chunk resets the timer.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errStalled := fmt.Errorf("no data for %s: the download stalled", opts.StallTimeout)
	stall := time.AfterFunc(opts.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		if context.Cause(ctx) == errStalled {
			err = errStalled
		}
		return 0, fmt.Errorf("%w; check the network, or clone the repository and pass --dir", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the server answered %s; check the network, or clone the repository and pass --dir", resp.Status)
	}
	if resp.ContentLength > opts.MaxDownload {
		return 0, fmt.Errorf("%w: the archive is %d bytes, over the limit of %d", ErrUnsafeArchive, resp.ContentLength, opts.MaxDownload)
	}
	pw := &progressWriter{w: w, total: resp.ContentLength, report: func(p Progress) {
		stall.Reset(opts.StallTimeout)
		opts.Progress(p)
	}}
	n, err := io.Copy(pw, io.LimitReader(resp.Body, opts.MaxDownload+1))
	if err != nil {
		if context.Cause(ctx) == errStalled {
			err = errStalled
		}
		return 0, fmt.Errorf("reading the archive: %w; check the network, or clone the repository and pass --dir", err)
	}
	if n > opts.MaxDownload {
		return 0, fmt.Errorf("%w: the archive is over the limit of %d bytes", ErrUnsafeArchive, opts.MaxDownload)
	}
	return n, nil
}

type progressWriter struct {
	w      io.Writer
	done   int64
	total  int64
	report func(Progress)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report(Progress{Phase: "download", Done: p.done, Total: p.total})
	return n, err
}

// extract writes the entries under <top>/<folder>/ into target. Every entry of the archive is
// checked first, so a malicious archive is refused before a single file is written.
func extract(ctx context.Context, zr *zip.Reader, folder, target string, opts DownloadOptions) error {
	var top string
	type item struct {
		f   *zip.File
		rel string
	}
	var items []item
	var declared int64
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if name == "" || strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
			return fmt.Errorf("%w: the entry %q would be written outside the target folder", ErrUnsafeArchive, f.Name)
		}
		first, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return fmt.Errorf("%w: entries under %q and %q; a repository archive has one top folder", ErrUnsafeArchive, top, first)
		}
		var rel string
		switch {
		case folder == "" || folder == ".":
			rel = rest
		case rest == folder:
			rel = ""
		case strings.HasPrefix(rest, folder+"/"):
			rel = strings.TrimPrefix(rest, folder+"/")
		default:
			continue
		}
		mode := f.Mode()
		if mode&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %q is a symbolic link; links are refused so nothing can point outside the folder", ErrUnsafeArchive, f.Name)
		}
		if !mode.IsDir() && !mode.IsRegular() {
			return fmt.Errorf("%w: %q is not a regular file", ErrUnsafeArchive, f.Name)
		}
		if rel == "" {
			continue
		}
		items = append(items, item{f, rel})
		declared += int64(f.UncompressedSize64)
		if len(items) > opts.MaxFiles {
			return fmt.Errorf("%w: the folder %s has more than %d entries", ErrUnsafeArchive, folder, opts.MaxFiles)
		}
		if declared > opts.MaxExtract || f.UncompressedSize64 > uint64(opts.MaxExtract) {
			return fmt.Errorf("%w: the folder %s holds more than %d bytes", ErrUnsafeArchive, folder, opts.MaxExtract)
		}
	}
	if len(items) == 0 {
		return fmt.Errorf("the archive has no folder %s; the repository layout may have changed: clone it and pass --dir with the sample's folder", folder)
	}
	root, err := os.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	budget := opts.MaxExtract
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := filepath.FromSlash(it.rel)
		if it.f.Mode().IsDir() {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		} else {
			if dir := filepath.Dir(name); dir != "." {
				if err := root.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			n, err := writeEntry(root, name, it.f, budget)
			if err != nil {
				return err
			}
			budget -= n
		}
		opts.Progress(Progress{Phase: "extract", Done: int64(i + 1), Total: int64(len(items))})
	}
	return nil
}

// writeEntry copies one file, counting the bytes really inflated: the sizes in a zip's
// directory are not to be trusted.
func writeEntry(root *os.Root, name string, f *zip.File, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("reading %s from the archive: %w", f.Name, err)
	}
	defer rc.Close()
	perm := fs.FileMode(0o644)
	if f.Mode()&0o111 != 0 {
		perm = 0o755
	}
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", name, err)
	}
	if n > budget {
		return n, fmt.Errorf("%w: the folder holds more bytes than the limit", ErrUnsafeArchive)
	}
	return n, nil
}
