// Package emustate keeps the record of the standalone emulators running on this machine: each
// `entra-quickstart emulator` writes one file while it runs (its address, CA, admin-token file,
// data file and process id) and removes it when it stops, so that `entra-quickstart run` can
// find the emulator a sample's configuration names. The files live in the tool's config folder
// (internal/appdir), one per port.
package emustate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
)

// Folder is the sub-folder of the config folder that holds the records.
const Folder = "running-emulators"

// Running is one running standalone emulator.
type Running struct {
	// URL is its local base (https://localhost:PORT); Addr the address it listens on.
	URL  string `json:"url"`
	Addr string `json:"addr"`
	// CAFile is its CA certificate (PEM); AdminTokenFile the file holding its admin token (0600).
	CAFile         string `json:"ca_file"`
	AdminTokenFile string `json:"admin_token_file"`
	// DataFile is its --data file, empty when its directory lives in memory only.
	DataFile string    `json:"data_file,omitempty"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
}

// Port is the port of its local base.
func (r Running) Port() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Port()
}

// Dir is the folder of the records: <config folder>/running-emulators.
func Dir() (string, error) {
	d, err := appdir.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, Folder), nil
}

func fileFor(dir, port string) string { return filepath.Join(dir, port+".json") }

// Write records r in dir (mode 0600: it names the admin token's file) and returns the file's
// path, for Remove.
func Write(dir string, r Running) (string, error) {
	port := r.Port()
	if port == "" {
		return "", fmt.Errorf("emulator running state: no port in %q", r.URL)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("emulator running state: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	p := fileFor(dir, port)
	if err := atomicfile.Write(p, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("emulator running state: %w", err)
	}
	return p, nil
}

// Remove deletes a record written by Write, if it is still the one of pid (a later emulator on
// the same port may have replaced it).
func Remove(path string, pid int) error {
	r, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && r.PID != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("emulator running state: %w", err)
	}
	return nil
}

func read(path string) (Running, error) {
	var r Running
	b, _, err := atomicfile.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("emulator running state %s: %w", path, err)
	}
	return r, nil
}

// ErrNotRunning says no emulator is recorded at the address asked for.
var ErrNotRunning = errors.New("no emulator is running there")

// Find returns the record of the emulator whose local base is base's host and port (the
// authority a sample's config names, such as https://localhost:8443/<tenant>). A record whose
// process is gone or whose port no longer listens is stale: ErrNotRunning, and the record is
// kept (its data file still tells how to start it again) and returned.
func Find(dir, base string) (Running, error) {
	u, err := url.Parse(base)
	if err != nil || u.Port() == "" {
		return Running{}, fmt.Errorf("%q names no emulator (no https://localhost:PORT): %w", base, ErrNotRunning)
	}
	r, err := read(fileFor(dir, u.Port()))
	if errors.Is(err, fs.ErrNotExist) {
		return Running{}, ErrNotRunning
	}
	if err != nil {
		return Running{}, err
	}
	if !Alive(r) {
		return r, ErrNotRunning
	}
	return r, nil
}

// Alive reports whether the recorded emulator still accepts connections at its address.
func Alive(r Running) bool {
	if r.Addr == "" {
		return false
	}
	c, err := net.DialTimeout("tcp", r.Addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// IsLocalBase reports whether a URL's host is this machine (localhost or a loopback address)
// with a port: the form in which config written for an emulator names it.
func IsLocalBase(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Port() == "" || !strings.EqualFold(u.Scheme, "https") {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
