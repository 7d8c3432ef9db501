package templates

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// gitInfo answers "does git track this file" and "would git ignore it", with git when it is
// installed and the folder is in a repository, else by reading .gitignore files.
type gitInfo struct {
	ctx context.Context
	git string // "" when git is not used
}

func newGitInfo(ctx context.Context, gitPath string) gitInfo {
	switch gitPath {
	case "none":
		return gitInfo{ctx: ctx}
	case "":
		p, err := exec.LookPath("git")
		if err != nil {
			return gitInfo{ctx: ctx}
		}
		gitPath = p
	}
	return gitInfo{ctx: ctx, git: gitPath}
}

// run returns git's exit code, or -1 when git could not answer (not installed, not a repository).
func (g gitInfo) run(dir string, args ...string) int {
	if g.git == "" {
		return -1
	}
	cmd := exec.CommandContext(g.ctx, g.git, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return 1
	}
	return -1
}

// tracked reports whether git tracks the file (false when git cannot tell).
func (g gitInfo) tracked(file string) bool {
	return g.run(filepath.Dir(file), "ls-files", "--error-unmatch", "--", filepath.Base(file)) == 0
}

// ignored reports whether git would ignore file; stop bounds the search for .gitignore files
// when git cannot answer.
func (g gitInfo) ignored(file, stop string) bool {
	switch g.run(filepath.Dir(file), "check-ignore", "-q", "--", filepath.Base(file)) {
	case 0:
		return true
	case 1:
		return false
	}
	return ignoredByFiles(file, stop)
}

// ignoredByFiles applies the .gitignore files from the repository root (the nearest folder
// with .git, else stop) down to the file's folder. It covers the usual patterns (names, globs,
// anchored paths, folders, negation, a leading **/), not every corner of gitignore(5).
func ignoredByFiles(file, stop string) bool {
	var dirs []string
	found := false
	for d := filepath.Dir(file); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			found = true
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if !found {
		// No repository: only the .gitignore files inside the sample count.
		for i, d := range dirs {
			if d == stop {
				dirs = dirs[:i+1]
				break
			}
		}
		if !isAncestor(stop, dirs[len(dirs)-1]) {
			dirs = dirs[:1]
		}
	}
	ignored := false
	for i := len(dirs) - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(dirs[i], ".gitignore"))
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(dirs[i], file)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimRight(line, " \r\t")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			neg := strings.HasPrefix(line, "!")
			line = strings.TrimPrefix(line, "!")
			if gitignoreMatch(line, rel) {
				ignored = !neg
			}
		}
	}
	return ignored
}

func isAncestor(a, b string) bool {
	rel, err := filepath.Rel(a, b)
	return err == nil && !strings.HasPrefix(rel, "..")
}

func gitignoreMatch(pat, rel string) bool {
	dirOnly := strings.HasSuffix(pat, "/")
	pat = strings.TrimSuffix(pat, "/")
	pat = strings.TrimPrefix(pat, "**/")
	anchored := strings.Contains(pat, "/")
	pat = strings.TrimPrefix(pat, "/")
	parts := strings.Split(rel, "/")
	// Match the path itself (unless the pattern is for folders) or any folder above it.
	for n := len(parts); n >= 1; n-- {
		if dirOnly && n == len(parts) {
			continue
		}
		sub := strings.Join(parts[:n], "/")
		if anchored {
			if ok, _ := path.Match(pat, sub); ok {
				return true
			}
		} else if ok, _ := path.Match(pat, parts[n-1]); ok {
			return true
		}
	}
	return false
}
