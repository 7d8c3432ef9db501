// Command pinsamples fills in each catalog manifest's "commit" and "archiveSha256" from the head
// of its branch on GitHub, so the tool downloads exactly that archive and refuses any other. It
// needs the network to GitHub, which the project's build machines do not have: a maintainer
// runs it (make pin-samples), reviews the diff and commits it. A pin is written only after the
// pinned archive downloaded and extracted under the tool's own rules.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

func main() {
	dir := flag.String("dir", "samples/manifests", "the folder of manifest files to pin")
	only := flag.String("only", "", "pin only these sample ids (comma-separated); default every manifest")
	base := flag.String("base", "", "where archives are served (default: GitHub)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dir, *only, samples.DownloadOptions{BaseURL: *base}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pinsamples:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, only string, opts samples.DownloadOptions, out io.Writer) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no manifest in %s; run from the repository root or pass -dir", dir)
	}
	sort.Strings(files)
	want := map[string]bool{}
	for _, id := range strings.Split(only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	var failed []string
	for _, path := range files {
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m, err := samples.Parse(text)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(want) > 0 && !want[m.ID] {
			continue
		}
		pin, err := samples.ResolvePin(ctx, m, opts)
		if err == nil {
			err = samples.CheckPinned(ctx, m, pin, opts)
		}
		var pinned []byte
		if err == nil {
			pinned, err = samples.WithPin(text, pin)
		}
		if err == nil {
			err = atomicfile.Write(path, pinned, 0o644)
		}
		if err != nil {
			fmt.Fprintf(out, "%-18s not pinned: %v\n", m.ID, err)
			failed = append(failed, m.ID)
			continue
		}
		fmt.Fprintf(out, "%-18s %s@%s sha256 %s\n", m.ID, m.Repository, pin.Commit[:12], pin.ArchiveSHA256)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d manifests not pinned (%s); the others were written", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
