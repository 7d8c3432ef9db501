package reliability

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
)

func TestReplace(t *testing.T) {
	doc := []byte("a\n<!-- BEGIN GENERATED x -->\nold\n<!-- END GENERATED x -->\nb\n")
	out, err := Replace(doc, "x", "new")
	if err != nil || string(out) != "a\n<!-- BEGIN GENERATED x -->\nnew\n<!-- END GENERATED x -->\nb\n" {
		t.Fatalf("%q %v", out, err)
	}
	if body, err := Block(out, "x"); err != nil || body != "new\n" {
		t.Fatalf("Block = %q %v", body, err)
	}
	if _, err := Replace(doc, "y", "z"); err == nil {
		t.Fatal("a missing block was not reported")
	}
}

var testName = regexp.MustCompile("`((?:Test|Fuzz)[A-Z][A-Za-z0-9_]*)`")

// TestReliabilityDoc keeps RELIABILITY.md honest: its generated blocks are there and filled, and
// every test it names as proof of a promise exists. With -update and FUZZ_REPORT (the file
// scripts/fuzz.sh writes, see make reliability) it rewrites the fuzzing figures.
func TestReliabilityDoc(t *testing.T) {
	root := testenv.RepoRoot()
	path := filepath.Join(root, "RELIABILITY.md")
	if testkit.Updating() {
		if rep := os.Getenv("FUZZ_REPORT"); rep != "" {
			body, err := fuzzTable(rep)
			if err != nil {
				t.Fatal(err)
			}
			if err := UpdateBlock(path, "fuzz", body); err != nil {
				t.Fatal(err)
			}
		}
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"fault-matrix", "bad-input", "fuzz"} {
		body, err := Block(doc, b)
		if err != nil {
			t.Errorf("RELIABILITY.md: block %s: %v", b, err)
		} else if strings.TrimSpace(body) == "" {
			t.Errorf("RELIABILITY.md: block %s is empty: run make reliability", b)
		}
	}
	defined := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`).FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named := testName.FindAllStringSubmatch(string(doc), -1)
	if len(named) < 10 {
		t.Errorf("RELIABILITY.md names only %d tests", len(named))
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("RELIABILITY.md names %s, which no test file defines", m[1])
		}
	}
}

// fuzzTable renders scripts/fuzz.sh's report: package, target, seconds, executions, corpus.
func fuzzTable(report string) (string, error) {
	f, err := os.Open(report)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	b.WriteString("| target | package | time (s, with its build) | executions | corpus (seeds + found) |\n|---|---|---|---|---|\n")
	secs, execs, corpus, n := 0, 0, 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) != 5 {
			return "", fmt.Errorf("%s: unexpected line %q", report, sc.Text())
		}
		s, _ := strconv.Atoi(fl[2])
		e, _ := strconv.Atoi(fl[3])
		c, _ := strconv.Atoi(fl[4])
		secs, execs, corpus, n = secs+s, execs+e, corpus+c, n+1
		fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %d |\n", fl[1], strings.TrimPrefix(fl[0], "./"), s, e, c)
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "| **%d targets** | | **%d** | **%d** | **%d** |\n", n, secs, execs, corpus)
	return b.String(), nil
}
