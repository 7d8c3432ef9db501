package samples

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
)

// TestResolvePinFromGitArchive: the pin is the commit git archive wrote into the zip comment and
// the SHA-256 of that commit's own archive, and the tool then downloads exactly it.
func TestResolvePinFromGitArchive(t *testing.T) {
	m, err := Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	gh := testkit.ServeGitHubArchives(t, m.Repository, m.Branch, map[string]string{m.Folder + "/app.js": "console.log(1)\n"})
	opts, head := DownloadOptions{BaseURL: gh.URL, Client: gh.Client}, gh.Head
	pin, err := ResolvePin(context.Background(), m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pin.Commit != head {
		t.Errorf("commit %q, want the head %q", pin.Commit, head)
	}
	resp, err := opts.Client.Get(opts.BaseURL + "/" + m.Repository + "/archive/" + head + ".zip")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if want := hex.EncodeToString(sum[:]); pin.ArchiveSHA256 != want {
		t.Errorf("sha256 %s, want %s", pin.ArchiveSHA256, want)
	}
	if err := CheckPinned(context.Background(), m, pin, opts); err != nil {
		t.Errorf("the pinned archive is refused: %v", err)
	}
	wrong := pin
	wrong.ArchiveSHA256 = strings.Repeat("0", 64)
	if err := CheckPinned(context.Background(), m, wrong, opts); err == nil {
		t.Error("a wrong SHA-256 was accepted")
	}
}

// TestResolvePinNeedsACommitComment: an archive with no commit id (not made by git archive) is
// not guessed at.
func TestResolvePinNeedsACommitComment(t *testing.T) {
	m, err := Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	opts := serveZip(t, m, makeZip(t, []zipEntry{{name: "x-main/App/app.js", body: "1"}}))
	if _, err := ResolvePin(context.Background(), m, opts); err == nil || !strings.Contains(err.Error(), "zip comment") {
		t.Fatalf("ResolvePin of an archive without a commit id: %v; want an error naming the zip comment", err)
	}
}

// TestWithPin: the pin goes in after the branch, replaces an older pin, and nothing else moves.
func TestWithPin(t *testing.T) {
	text, err := embedded.ReadFile("manifests/flask-workforce.json")
	if err != nil {
		t.Fatal(err)
	}
	p := Pin{Commit: strings.Repeat("a", 40), ArchiveSHA256: strings.Repeat("b", 64)}
	once, err := WithPin(text, p)
	if err != nil {
		t.Fatal(err)
	}
	p2 := Pin{Commit: strings.Repeat("c", 40), ArchiveSHA256: strings.Repeat("d", 64)}
	twice, err := WithPin(once, p2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(twice)
	if err != nil {
		t.Fatal(err)
	}
	if m.Commit != p2.Commit || m.ArchiveSHA256 != p2.ArchiveSHA256 {
		t.Errorf("the second pin did not replace the first: %q %q", m.Commit, m.ArchiveSHA256)
	}
	if got := strings.Count(string(twice), `"commit"`); got != 1 {
		t.Errorf("%d commit lines, want 1", got)
	}
	stripped := pinLines.ReplaceAll(twice, nil)
	if string(stripped) != string(text) {
		t.Error("pinning changed more than the two pin lines")
	}
	if _, err := WithPin(text, Pin{Commit: "main", ArchiveSHA256: "x"}); err == nil {
		t.Error("a malformed pin was accepted")
	}
}
