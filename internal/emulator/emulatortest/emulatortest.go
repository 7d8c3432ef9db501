// Package emulatortest starts the built-in emulator for a test, the way net/http/httptest starts
// a server: New returns a started emulator on a loopback port, stopped when the test ends, with
// a client that reaches it under the real host names. Every test that needs an emulator starts
// it here (the emulator's own in-package tests excepted: they cannot import this package).
package emulatortest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// Emulator is a started emulator. Its Transport and Client are made once and their idle
// connections closed when the test ends.
type Emulator struct {
	*emulator.Emulator
	seeded emuclient.Info // as started: Tenant and Admin never take the store's lock
	once   sync.Once
	tr     *http.Transport
}

// Option changes how the emulator starts.
type Option func(*config)

type config struct {
	opts emulator.Options
	seed string
}

// WithDataFile keeps the emulator's directory in a file, as the standalone command does.
func WithDataFile(path string) Option {
	return func(c *config) { c.opts.DataFile = path }
}

// WithDir is the folder of the emulator's CA file.
func WithDir(dir string) Option {
	return func(c *config) { c.opts.Dir = dir }
}

// WithFaults starts the emulator with faults on.
func WithFaults(f emulator.FaultConfig) Option {
	return func(c *config) { c.opts.Faults = f }
}

// FromSeed starts the emulator on a copy of a data file made by Seed, so it does not generate a
// CA and keys again.
func FromSeed(seed string) Option {
	return func(c *config) { c.seed = seed }
}

// New starts an emulator for tb and fails the test when it cannot.
func New(tb testing.TB, opts ...Option) *Emulator {
	tb.Helper()
	e, err := Start(tb, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// Start is New for a goroutine that may not fail the test itself (a worker of a pool): it
// returns the error instead.
func Start(tb testing.TB, opts ...Option) (*Emulator, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.seed != "" {
		b, err := os.ReadFile(c.seed)
		if err != nil {
			return nil, fmt.Errorf("emulator seed: %w", err)
		}
		c.opts.DataFile = filepath.Join(tb.TempDir(), "emulator.json")
		if err := os.WriteFile(c.opts.DataFile, b, 0o600); err != nil {
			return nil, fmt.Errorf("emulator seed: %w", err)
		}
	}
	e, err := emulator.Start(c.opts)
	if err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	x := &Emulator{Emulator: e, seeded: e.Info()}
	tb.Cleanup(func() {
		x.once.Do(func() {}) // Transport may have run on another goroutine
		if x.tr != nil {
			x.tr.CloseIdleConnections()
		}
		e.Close()
	})
	return x, nil
}

// Seed starts an emulator once with a data file and returns that file, for FromSeed.
func Seed(tb testing.TB) string {
	tb.Helper()
	data := filepath.Join(tb.TempDir(), "seed.json")
	e, err := emulator.Start(emulator.Options{DataFile: data})
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Close()
	if err := e.Store().Do(func(*emulator.Directory) error { return nil }); err != nil {
		tb.Fatal(err)
	}
	return data
}

// Transport reaches the real host names (login.microsoftonline.com, graph.microsoft.com,
// *.ciamlogin.com) at the emulator and trusts only its CA. It is the same transport on every
// call.
func (e *Emulator) Transport() *http.Transport {
	e.once.Do(func() { e.tr = e.Emulator.Transport() })
	return e.tr
}

// Client is an http.Client over Transport.
func (e *Emulator) Client() *http.Client {
	return &http.Client{Transport: e.Transport(), Timeout: 60 * time.Second}
}

// Tenant is the emulator's first tenant of a kind as it started (so it may be called inside a
// Store().View); the test fails when there is none.
func (e *Emulator) Tenant(tb testing.TB, kind emuclient.TenantType) emuclient.TenantInfo {
	tb.Helper()
	ti, ok := e.seeded.Tenant(kind)
	if !ok {
		tb.Fatalf("the emulator has no %s tenant", kind)
	}
	return ti
}

// Admin is the tenant of a kind and its admin user; the test fails when there is none.
func (e *Emulator) Admin(tb testing.TB, kind emuclient.TenantType) (emuclient.TenantInfo, emuclient.UserInfo) {
	tb.Helper()
	ti := e.Tenant(tb, kind)
	for _, u := range ti.Users {
		if u.Admin {
			return ti, u
		}
	}
	tb.Fatalf("the emulator's %s tenant has no admin", kind)
	return ti, emuclient.UserInfo{}
}
