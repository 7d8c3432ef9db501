package testkit

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// GitHubArchives is a local stand-in for GitHub's archive downloads of one real git repository.
type GitHubArchives struct {
	URL    string       // the base to pass as samples.DownloadOptions.BaseURL
	Client *http.Client // trusts the server's certificate
	Head   string       // the commit at the head of the branch
}

// ServeGitHubArchives commits files (slash paths) to a new repository on branch and serves, at
// GitHub's paths, `git archive` zips of the branch (/{repository}/archive/refs/heads/{branch}.zip)
// and of its head commit (/{repository}/archive/{commit}.zip), each under the top folder GitHub
// gives it. git archive stores the commit id as the zip comment, as GitHub's archives carry it.
func ServeGitHubArchives(t testing.TB, repository, branch string, files map[string]string) GitHubArchives {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git", "apt-get install git")
	}
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=" + branch}, args...)...)
		cmd.Dir = repo
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	git("init", "-q")
	for name, body := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-q", "-m", "sample")
	head := strings.TrimSpace(git("rev-parse", "HEAD"))
	_, name, _ := strings.Cut(repository, "/")
	branchZip := git("archive", "--format=zip", "--prefix="+name+"-"+branch+"/", "HEAD")
	commitZip := git("archive", "--format=zip", "--prefix="+name+"-"+head+"/", head)
	mux := http.NewServeMux()
	mux.HandleFunc("/"+repository+"/archive/refs/heads/"+branch+".zip", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(branchZip)) })
	mux.HandleFunc("/"+repository+"/archive/"+head+".zip", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(commitZip)) })
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return GitHubArchives{URL: srv.URL, Client: srv.Client(), Head: head}
}
