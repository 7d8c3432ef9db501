// Package reliability keeps RELIABILITY.md's figures current: the tests that measure them
// (the end-to-end fault matrix, the bad-input table, the fuzzing summary) rewrite their own
// generated block of that file when run with -update, and leave the prose around it alone.
package reliability

import (
	"bytes"
	"fmt"
	"os"
)

// marker returns the begin and end lines of a generated block.
func marker(name string) (begin, end []byte) {
	return []byte("<!-- BEGIN GENERATED " + name + " -->\n"), []byte("<!-- END GENERATED " + name + " -->")
}

// UpdateBlock replaces the text between the markers of block name in the file at path (written
// as <!-- BEGIN GENERATED name --> and <!-- END GENERATED name -->, each on its own line) with
// body. The file must already hold both markers: a block is placed by a person, filled by a test.
func UpdateBlock(path, name, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reliability: %w", err)
	}
	out, err := Replace(b, name, body)
	if err != nil {
		return fmt.Errorf("reliability: %s: %w", path, err)
	}
	if bytes.Equal(out, b) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return fmt.Errorf("reliability: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reliability: %w", err)
	}
	return nil
}

// Replace is UpdateBlock on bytes.
func Replace(doc []byte, name, body string) ([]byte, error) {
	begin, end := marker(name)
	i := bytes.Index(doc, begin)
	if i < 0 {
		return nil, fmt.Errorf("no line %q", bytes.TrimSpace(begin))
	}
	j := bytes.Index(doc[i+len(begin):], end)
	if j < 0 {
		return nil, fmt.Errorf("no line %q after its BEGIN", end)
	}
	j += i + len(begin)
	if body != "" && body[len(body)-1] != '\n' {
		body += "\n"
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)])
	out.WriteString(body)
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// Block returns the current body of block name, or an error when the markers are missing.
func Block(doc []byte, name string) (string, error) {
	begin, end := marker(name)
	i := bytes.Index(doc, begin)
	if i < 0 {
		return "", fmt.Errorf("no line %q", bytes.TrimSpace(begin))
	}
	rest := doc[i+len(begin):]
	j := bytes.Index(rest, end)
	if j < 0 {
		return "", fmt.Errorf("no line %q after its BEGIN", end)
	}
	return string(rest[:j]), nil
}
