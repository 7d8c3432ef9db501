// Package state keeps the local record of what entra-quickstart created: which app
// registrations, in which tenant and cloud, for which sample folder, and when. reset, the wizard
// (secret rotation, "already set up here") and doctor read it. The record is one JSON file per
// user in the OS configuration folder, written atomically with mode 0600 and guarded by a file
// lock, so two runs at once never interleave their updates. It holds no secrets: only ids.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
)

// Version is the record format this code writes.
const Version = 1

// FileName is the record's file name inside the tool's configuration folder.
const FileName = "state.json"

// Record is everything the tool remembers.
type Record struct {
	Version int   `json:"version"`
	Apps    []App `json:"apps"`
}

// App is one app registration the tool created or updated.
type App struct {
	// Where: the Graph endpoint (cloud), the tenant.
	Cloud        string `json:"cloud"`
	TenantID     string `json:"tenantId"`
	TenantDomain string `json:"tenantDomain,omitempty"`
	TenantType   string `json:"tenantType"` // workforce or external
	// What: the sample, the user's name for it, and the ids Graph gave.
	Sample             string `json:"sample"`
	Name               string `json:"name"`
	UniqueName         string `json:"uniqueName"`
	DisplayName        string `json:"displayName,omitempty"`
	AppID              string `json:"appId"`
	ObjectID           string `json:"objectId"`
	ServicePrincipalID string `json:"servicePrincipalId,omitempty"`
	UserFlowID         string `json:"userFlowId,omitempty"`
	// The sample folder the configuration was written to.
	Folder string `json:"folder,omitempty"`
	// The credential the configuration holds: its kind, and the secret's keyId or the
	// certificate's thumbprint and private key file (never the secret or the key themselves).
	Credential            string    `json:"credential,omitempty"` // secret or certificate
	SecretKeyID           string    `json:"secretKeyId,omitempty"`
	SecretExpires         time.Time `json:"secretExpires,omitzero"`
	CertificateThumbprint string    `json:"certificateThumbprint,omitempty"`
	CertificateKeyFile    string    `json:"certificateKeyFile,omitempty"`
	// CreatedFiles are the files the tool created in Folder (not edited ones): reset
	// --restore-files removes them, and only them.
	CreatedFiles []string `json:"createdFiles,omitempty"`
	// OtherFolders are folders configured for this app before Folder, with the secret each was
	// given: a run for another folder does not retire a secret one of them still uses without
	// saying so and asking.
	OtherFolders []FolderSecret `json:"otherFolders,omitempty"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
}

// FolderSecret is a folder configured for an app and the client secret written there (its
// keyId, never the secret).
type FolderSecret struct {
	Folder        string    `json:"folder"`
	SecretKeyID   string    `json:"secretKeyId"`
	SecretExpires time.Time `json:"secretExpires,omitzero"`
}

// MovedTo is the app's OtherFolders once its configuration is written to folder: the folder it
// held before joins them with its secret (when it had one), folder itself leaves them, and each
// folder is listed once, the latest secret kept.
func (a App) MovedTo(folder string) []FolderSecret {
	out := slices.Clone(a.OtherFolders)
	if a.Folder != "" && a.SecretKeyID != "" && !sameFolder(a.Folder, folder) {
		out = append(out, FolderSecret{Folder: a.Folder, SecretKeyID: a.SecretKeyID, SecretExpires: a.SecretExpires})
	}
	var kept []FolderSecret
	for i := len(out) - 1; i >= 0; i-- {
		f := out[i]
		if sameFolder(f.Folder, folder) || slices.ContainsFunc(kept, func(k FolderSecret) bool { return sameFolder(k.Folder, f.Folder) }) {
			continue
		}
		kept = append(kept, f)
	}
	slices.Reverse(kept)
	return kept
}

// FoldersUsing lists the other folders on record given the secret keyID.
func (a App) FoldersUsing(keyID string) []string {
	var out []string
	for _, f := range a.OtherFolders {
		if keyID != "" && strings.EqualFold(f.SecretKeyID, keyID) {
			out = append(out, f.Folder)
		}
	}
	return out
}

func sameFolder(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

// Key identifies an app across runs: the same uniqueName in the same tenant of the same cloud.
func (a App) Key() string {
	return strings.ToLower(a.Cloud + "|" + a.TenantID + "|" + a.UniqueName)
}

// Find returns the app with the same cloud, tenant and uniqueName, or nil.
func (r *Record) Find(cloud, tenantID, uniqueName string) *App {
	k := App{Cloud: cloud, TenantID: tenantID, UniqueName: uniqueName}.Key()
	for i := range r.Apps {
		if r.Apps[i].Key() == k {
			return &r.Apps[i]
		}
	}
	return nil
}

// Put adds or replaces an app (matched by Key), keeping its first CreatedAt and stamping
// UpdatedAt with now.
func (r *Record) Put(a App, now time.Time) {
	a.UpdatedAt = now.UTC()
	if old := r.Find(a.Cloud, a.TenantID, a.UniqueName); old != nil {
		if !old.CreatedAt.IsZero() {
			a.CreatedAt = old.CreatedAt
		}
		*old = a
		return
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now.UTC()
	}
	r.Apps = append(r.Apps, a)
}

// Remove drops an app; it reports whether there was one.
func (r *Record) Remove(cloud, tenantID, uniqueName string) bool {
	k := App{Cloud: cloud, TenantID: tenantID, UniqueName: uniqueName}.Key()
	n := len(r.Apps)
	r.Apps = slices.DeleteFunc(r.Apps, func(a App) bool { return a.Key() == k })
	return len(r.Apps) != n
}

// InTenant lists the apps recorded for a tenant of a cloud.
func (r *Record) InTenant(cloud, tenantID string) []App {
	var out []App
	for _, a := range r.Apps {
		if strings.EqualFold(a.Cloud, cloud) && strings.EqualFold(a.TenantID, tenantID) {
			out = append(out, a)
		}
	}
	return out
}

// Store is the record's file.
type Store struct {
	path string
	// poll is how often a held lock is tried again.
	poll time.Duration
}

// DefaultPath is state.json in the tool's folder (appdir.Dir: ENTRA_QUICKSTART_HOME, else
// <user config dir>/entra-quickstart).
func DefaultPath() (string, error) {
	dir, err := appdir.Dir()
	if err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	return filepath.Join(dir, FileName), nil
}

// Open returns the store at path; an empty path means DefaultPath.
func Open(path string) (*Store, error) {
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return &Store{path: path, poll: 50 * time.Millisecond}, nil
}

// Path is the record's file.
func (s *Store) Path() string { return s.path }

// Load reads the record (empty when there is none yet), under the lock so it never sees a
// half-finished update.
func (s *Store) Load(ctx context.Context) (*Record, error) {
	var out *Record
	err := s.locked(ctx, func() error {
		r, err := s.read()
		out = r
		return err
	})
	return out, err
}

// Update reads the record, lets f change it, and writes it back atomically, all under the
// lock. When f returns an error nothing is written.
func (s *Store) Update(ctx context.Context, f func(*Record) error) error {
	return s.locked(ctx, func() error {
		r, err := s.read()
		if err != nil {
			return err
		}
		if err := f(r); err != nil {
			return err
		}
		r.Version = Version
		return s.write(r)
	})
}

func (s *Store) read() (*Record, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return &Record{Version: Version}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: read %s: %w", s.path, err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("state: %s is not a record entra-quickstart can read (%w); move it away and run again (reset then only sees apps by their tag)", s.path, err)
	}
	if r.Version > Version {
		return nil, fmt.Errorf("state: %s was written by a newer entra-quickstart (format %d, this one reads %d); upgrade entra-quickstart", s.path, r.Version, Version)
	}
	return &r, nil
}

// write replaces the file through a temporary file and a rename, mode 0600: a crash leaves
// either the old record or the new one, never half of one.
func (s *Store) write(r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := atomicfile.Write(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// locked runs f holding an exclusive lock on <path>.lock, waiting for another run's lock until
// ctx ends.
func (s *Store) locked(ctx context.Context, f func() error) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("state: create %s: %w", filepath.Dir(s.path), err)
	}
	lf, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("state: open lock file: %w", err)
	}
	defer lf.Close()
	for {
		ok, err := tryLock(lf)
		if err != nil {
			return fmt.Errorf("state: lock %s: %w", s.path, err)
		}
		if ok {
			break
		}
		t := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("state: another entra-quickstart is updating %s; wait for it to finish and run again: %w", s.path, context.Cause(ctx))
		case <-t.C:
		}
	}
	defer unlock(lf)
	return f()
}
