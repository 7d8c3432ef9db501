package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
)

// A kept sign-in is how a person signs in once and not at every command: the tokens of a
// browser or device-code sign-in go to azidentity's persistent, encrypted token cache (on Linux
// a file encrypted with a key on the kernel keyring, on macOS the Keychain, on Windows DPAPI),
// and the AuthenticationRecord that lets the next process find them (no secret: the account's
// ids, its username, the authority) goes to a file in the config folder, one per cloud and
// tenant. The emulator is a cloud of its own per base URL, so its sign-ins never mix with a real
// tenant's.

// TokenCacheEnv chooses where a sign-in is kept: "keyring" (the default: the encrypted
// persistent cache) or "none" (never kept: every command signs in again).
const TokenCacheEnv = "ENTRA_QUICKSTART_TOKEN_CACHE"

// CacheMode is a value of TokenCacheEnv.
type CacheMode string

const (
	CacheKeyring CacheMode = "keyring" // encrypted persistent cache (the default)
	CacheNone    CacheMode = "none"    // in memory only: sign in at every command
)

// recordDir is the folder of the kept sign-ins under the config folder.
const recordDir = "signins"

// Kept is one kept sign-in as its file in the config folder holds it. It holds no token.
type Kept struct {
	Record azidentity.AuthenticationRecord `json:"record"`
	// Cloud is the cloud's name (public, usgov, china, emulator); LoginBase tells emulators apart.
	Cloud     string `json:"cloud"`
	LoginBase string `json:"login_base"`
	TenantID  string `json:"tenant_id"`
	// Method is how the person signed in (browser or device-code).
	Method Method `json:"method"`
	// Scopes are the Graph permissions the tokens were granted, from the access token's scp
	// claim (the ones asked for where it names none).
	Scopes   []string  `json:"scopes"`
	SignedIn time.Time `json:"signed_in"`
	// CacheName names the encrypted token cache that holds this sign-in's tokens.
	CacheName string `json:"cache_name"`
}

// Username is who signed in.
func (k Kept) Username() string { return k.Record.Username }

// SignIns are the kept sign-ins of one config folder and their token caches.
type SignIns struct {
	// Dir is the config folder (internal/appdir); the records are in Dir/signins.
	Dir string
	// Mode is how tokens are kept; "" reads TokenCacheEnv.
	Mode CacheMode
	// open opens a persistent cache (cache.New unless a test sets it).
	open func(name string) (azidentity.Cache, error)
	// cacheDir is where the persistent cache keeps its files (the cache module's folder unless
	// a test sets it).
	cacheDir func() (string, error)
}

// NewSignIns are the kept sign-ins of the config folder dir.
func NewSignIns(dir string) *SignIns { return &SignIns{Dir: dir} }

// ParseCacheMode reads a value of TokenCacheEnv ("" is the default, keyring).
func ParseCacheMode(s string) (CacheMode, error) {
	switch CacheMode(strings.ToLower(strings.TrimSpace(s))) {
	case "", CacheKeyring:
		return CacheKeyring, nil
	case CacheNone:
		return CacheNone, nil
	}
	return "", fmt.Errorf("%s=%q: use keyring (keep the sign-in in an encrypted cache, the default) or none (sign in at every command)", TokenCacheEnv, s)
}

// mode is the cache mode: Mode, else the environment's.
func (s *SignIns) mode() (CacheMode, error) {
	if s.Mode != "" {
		return s.Mode, nil
	}
	return ParseCacheMode(os.Getenv(TokenCacheEnv))
}

// CacheUnavailableError says a sign-in cannot be kept here, and why.
type CacheUnavailableError struct {
	Mode CacheMode
	Err  error // why the encrypted cache cannot open (nil when Mode is none)
}

func (e *CacheUnavailableError) Error() string {
	if e.Mode == CacheNone {
		return fmt.Sprintf("your Graph sign-in is not kept between commands (%s=none): each command signs in again", TokenCacheEnv)
	}
	return fmt.Sprintf("your Graph sign-in cannot be kept between commands: this system offers no encrypted storage for it (%v); "+
		"each command signs in again (on Linux the kernel keyring is needed: a container may forbid keyctl)", e.Err)
}

func (e *CacheUnavailableError) Unwrap() error { return e.Err }

// Cache opens the encrypted token cache of a sign-in, or says why none can be used: the mode
// is none, or this system has no encrypted storage (a *CacheUnavailableError either way).
func (s *SignIns) Cache(name string) (azidentity.Cache, error) {
	m, err := s.mode()
	if err != nil {
		return azidentity.Cache{}, err
	}
	if m == CacheNone {
		return azidentity.Cache{}, &CacheUnavailableError{Mode: m}
	}
	open := s.open
	if open == nil {
		open = openPersistentCache
	}
	c, err := open(name)
	if err != nil {
		return azidentity.Cache{}, &CacheUnavailableError{Mode: m, Err: err}
	}
	return c, nil
}

// key names the sign-in of a tenant in a cloud: one file and one cache per cloud base and
// tenant, and per config folder (two folders are two separate profiles).
func (s *SignIns) key(c Cloud, tenantID string) string {
	h := sha256.Sum256([]byte(strings.ToLower(s.Dir) + "\n" + strings.ToLower(c.LoginBase) + "\n" + strings.ToLower(tenantID)))
	return hex.EncodeToString(h[:8])
}

// validCacheName reports whether name is one CacheName makes: the prefix and hex.
func validCacheName(name string) bool {
	rest, ok := strings.CutPrefix(name, "entra-quickstart-")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// CacheName is the name of the encrypted token cache of a tenant's sign-in in a cloud.
func (s *SignIns) CacheName(c Cloud, tenantID string) string {
	return "entra-quickstart-" + s.key(c, tenantID)
}

func (s *SignIns) path(c Cloud, tenantID string) string {
	return filepath.Join(s.Dir, recordDir, c.Name+"-"+s.key(c, tenantID)+".json")
}

// Load is the kept sign-in of a tenant in a cloud; nil when there is none.
func (s *SignIns) Load(c Cloud, tenantID string) (*Kept, error) {
	b, err := os.ReadFile(s.path(c, tenantID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the kept sign-in: %w", err)
	}
	var k Kept
	if err := json.Unmarshal(b, &k); err != nil {
		// An unreadable record is no sign-in: the next one overwrites it.
		return nil, nil
	}
	if !strings.EqualFold(k.LoginBase, c.LoginBase) || !strings.EqualFold(k.TenantID, tenantID) {
		return nil, nil
	}
	return &k, nil
}

// Save writes a kept sign-in (atomically, mode 0600).
func (s *SignIns) Save(c Cloud, k *Kept) error {
	p := s.path(c, k.TenantID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("keep the sign-in: %w", err)
	}
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(p, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("keep the sign-in: %w", err)
	}
	return nil
}

// KeptStatus is a kept sign-in and whether its token cache still holds its tokens.
type KeptStatus struct {
	Kept
	// CacheFound tells whether the encrypted cache file is there (on Linux its key lives on
	// the kernel keyring until the machine restarts).
	CacheFound bool
	file       string
}

// Filter picks kept sign-ins: empty fields match all.
type Filter struct {
	Tenant    string // a tenant id, or the domain of the signed-in person's name
	Cloud     string // a cloud's name
	LoginBase string // an emulator's base
}

func (f Filter) match(k Kept) bool {
	if f.Cloud != "" && !strings.EqualFold(f.Cloud, k.Cloud) {
		return false
	}
	if f.LoginBase != "" && !strings.EqualFold(strings.TrimRight(f.LoginBase, "/"), k.LoginBase) {
		return false
	}
	if f.Tenant != "" {
		_, domain, _ := strings.Cut(k.Record.Username, "@")
		if !strings.EqualFold(f.Tenant, k.TenantID) && !strings.EqualFold(f.Tenant, domain) {
			return false
		}
	}
	return true
}

// List is the kept sign-ins that match f, oldest first.
func (s *SignIns) List(f Filter) ([]KeptStatus, error) {
	dir := filepath.Join(s.Dir, recordDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the kept sign-ins: %w", err)
	}
	var out []KeptStatus
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read the kept sign-ins: %w", err)
		}
		var k Kept
		if json.Unmarshal(b, &k) != nil || !f.match(k) {
			continue
		}
		st := KeptStatus{Kept: k, file: p}
		if files, err := s.cacheFiles(k.CacheName); err == nil {
			for _, cf := range files {
				if fi, err := os.Stat(cf); err == nil && fi.Size() > 0 && !strings.HasSuffix(cf, ".lockfile") {
					st.CacheFound = true
				}
			}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SignedIn.Before(out[j].SignedIn) })
	return out, nil
}

// Remove forgets the kept sign-ins that match f: their records, their encrypted token caches
// and (on Linux) the caches' keys on the keyring. It returns what it removed.
func (s *SignIns) Remove(f Filter) ([]KeptStatus, error) {
	list, err := s.List(f)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, k := range list {
		files, err := s.cacheFiles(k.CacheName)
		if err != nil {
			errs = append(errs, err)
		}
		for _, cf := range files {
			if err := os.Remove(cf); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove the token cache: %w", err))
			}
		}
		if validCacheName(k.CacheName) {
			forgetKey(k.CacheName)
			forgetKey(k.CacheName + ".cae")
		}
		if err := os.Remove(k.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the kept sign-in: %w", err))
		}
	}
	return list, errors.Join(errs...)
}

// cacheFiles are the files of a persistent token cache (its data, the CAE tokens' data, and
// their lock files): the cache module keeps them in $XDG_CACHE_HOME/.IdentityService (else
// ~/.cache/.IdentityService) on Linux, in the user's cache folder elsewhere.
func (s *SignIns) cacheFiles(name string) ([]string, error) {
	// Only a name this tool makes (CacheName): a record edited to name "..", or another
	// program's cache, never makes logout remove anything else.
	if !validCacheName(name) {
		return nil, nil
	}
	dirOf := s.cacheDir
	if dirOf == nil {
		dirOf = identityServiceDir
	}
	dir, err := dirOf()
	if err != nil {
		return nil, fmt.Errorf("find the token cache: %w", err)
	}
	var out []string
	for _, n := range []string{name, name + ".cae"} {
		out = append(out, filepath.Join(dir, n), filepath.Join(dir, n+".lockfile"))
	}
	return out, nil
}

// mergeScopes adds scopes to a list, keeping it sorted and without repeats.
func mergeScopes(have []string, more ...string) []string {
	out := append([]string(nil), have...)
	for _, s := range more {
		if s != "" && !slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, s) }) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
