package samples

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Pin is what the catalog holds to fix a sample's download: the commit and its archive's SHA-256.
type Pin struct {
	Commit        string
	ArchiveSHA256 string
}

var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ResolvePin finds the commit at the head of the manifest's branch and the SHA-256 of that
// commit's own archive, and checks that Download would accept it (the sample's folder is there
// and passes every rule). The commit is read from the branch archive's zip comment, where
// git archive stores the commit id (git-archive(1): "In ZIP files it is stored as a file
// comment"); GitHub builds its archives with git archive. It needs the network to GitHub, so it
// runs on a maintainer's machine (make pin-samples), never in the tool.
func ResolvePin(ctx context.Context, m *Manifest, opts DownloadOptions) (Pin, error) {
	opts = opts.withDefaults()
	head := *m
	head.Commit, head.ArchiveSHA256 = "", ""
	comment, _, err := fetchArchive(ctx, head.ArchiveURL(opts.BaseURL), opts)
	if err != nil {
		return Pin{}, fmt.Errorf("%s: the branch %s: %w", m.ID, m.Branch, err)
	}
	if !commitID.MatchString(comment) {
		return Pin{}, fmt.Errorf("%s: the archive of branch %s carries no commit id in its zip comment (got %q); pin it by hand: set \"commit\" and run again", m.ID, m.Branch, comment)
	}
	pinned := head
	pinned.Commit = comment
	got, sum, err := fetchArchive(ctx, pinned.ArchiveURL(opts.BaseURL), opts)
	if err != nil {
		return Pin{}, fmt.Errorf("%s: commit %s: %w", m.ID, comment, err)
	}
	if got != comment {
		return Pin{}, fmt.Errorf("%s: the archive of commit %s says it is commit %q", m.ID, comment, got)
	}
	return Pin{Commit: comment, ArchiveSHA256: sum}, nil
}

// fetchArchive downloads one archive and returns its zip comment and its SHA-256.
func fetchArchive(ctx context.Context, url string, opts DownloadOptions) (comment, sum string, err error) {
	tmp, err := os.CreateTemp("", "entra-quickstart-pin-*.zip")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	size, err := fetch(ctx, url, io.MultiWriter(tmp, h), opts)
	if err != nil {
		return "", "", err
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		return "", "", fmt.Errorf("%s is not a zip archive: %w", url, err)
	}
	return strings.TrimSpace(zr.Comment), hex.EncodeToString(h.Sum(nil)), nil
}

// CheckPinned downloads the pinned archive of m exactly as Download does, into a throw-away
// folder, so a pin is only written when the tool would accept it.
func CheckPinned(ctx context.Context, m *Manifest, p Pin, opts DownloadOptions) error {
	pinned := *m
	pinned.Commit, pinned.ArchiveSHA256 = p.Commit, p.ArchiveSHA256
	dir, err := os.MkdirTemp("", "entra-quickstart-pin-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_, err = Download(ctx, &pinned, dir+"/sample", opts)
	return err
}

var (
	branchLine = regexp.MustCompile(`(?m)^(\s*)"branch":\s*"[^"]*",\n`)
	pinLines   = regexp.MustCompile(`(?m)^\s*"(commit|archiveSha256)":\s*"[^"]*",\n`)
)

// WithPin returns a manifest file's text with its commit and archiveSha256 set to p, right after
// the branch, leaving every other byte as it was, and checks that the result still parses.
func WithPin(manifest []byte, p Pin) ([]byte, error) {
	if !commitID.MatchString(p.Commit) || len(p.ArchiveSHA256) != 64 {
		return nil, fmt.Errorf("a pin needs a 40-hex commit and a 64-hex SHA-256, not %q and %q", p.Commit, p.ArchiveSHA256)
	}
	text := pinLines.ReplaceAll(manifest, nil)
	loc := branchLine.FindSubmatchIndex(text)
	if loc == nil {
		return nil, fmt.Errorf("the manifest has no \"branch\" line to put the pin after")
	}
	indent := string(text[loc[2]:loc[3]])
	add := fmt.Sprintf("%s\"commit\": %q,\n%s\"archiveSha256\": %q,\n", indent, p.Commit, indent, p.ArchiveSHA256)
	out := append(append(append([]byte{}, text[:loc[1]]...), add...), text[loc[1]:]...)
	m, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("the pinned manifest does not parse: %w", err)
	}
	if m.Commit != p.Commit || m.ArchiveSHA256 != p.ArchiveSHA256 {
		return nil, fmt.Errorf("the pinned manifest does not hold the pin")
	}
	return out, nil
}
