// Package samples is the catalog of the sample web apps entra-quickstart can configure: one
// manifest per sample/tenant combination, kept as embedded JSON data (manifests/*.json), with
// copies of the upstream configuration files the writers start from (upstream/). Adding a sample
// is adding a manifest file; nothing in code names a sample.
//
// The package also locates a sample on disk (an existing checkout) and downloads one from its
// repository's archive. It never prints: progress goes to a callback.
package samples

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"text/template"
)

//go:embed manifests/*.json all:upstream
var embedded embed.FS

// TenantType is the kind of tenant a sample signs users in to.
type TenantType string

const (
	Workforce TenantType = "workforce" // a Microsoft Entra ID (workforce) tenant
	External  TenantType = "external"  // a Microsoft Entra External ID (customers) tenant
)

// CredentialKind is how the app proves its identity to the token endpoint.
type CredentialKind string

const (
	Secret      CredentialKind = "secret"
	Certificate CredentialKind = "certificate"
)

// Format is how a written file is edited.
type Format string

const (
	FormatEnv  Format = "env"  // a dotenv file, edited line by line
	FormatJSON Format = "json" // JSON with comments (appsettings.json), edited on its syntax tree
	FormatPFX  Format = "pfx"  // a PKCS#12 file holding the app's certificate and key
)

// Manifest describes one sample/tenant combination: where the sample lives, what the app
// registration needs, which files to write and how to read them back. All fields are data.
type Manifest struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	TenantType TenantType `json:"tenantType"`
	Framework  string     `json:"framework"`
	// Repository is "owner/name" on GitHub; Branch is the branch whose archive is downloaded.
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	// Commit and ArchiveSHA256 pin the download: when Commit is set the archive of that commit
	// is fetched instead of the branch's, and when ArchiveSHA256 is set the archive must have that
	// SHA-256 (hex) or nothing is extracted. Filled in by `make pin-samples` (internal/tools/pinsamples)
	// on a machine that reaches GitHub. [Not filled in yet for the seven samples: the project's
	// build machines reach only package registries, so their archives could not be fetched.]
	Commit        string `json:"commit,omitempty"`
	ArchiveSHA256 string `json:"archiveSha256,omitempty"`
	// Folder is the sample's folder inside the repository, slash-separated: the folder the
	// sample runs from. Every path below is relative to it.
	Folder string `json:"folder"`

	// The app registration.
	RedirectURIs          []string         `json:"redirectURIs"` // web redirect URIs to register, post-logout ones included
	RedirectURI           string           `json:"redirectURI"`  // the one the sample signs in with
	PostLogoutRedirectURI string           `json:"postLogoutRedirectURI,omitempty"`
	FrontChannelLogoutURL string           `json:"frontChannelLogoutURL,omitempty"`
	ImplicitGrant         ImplicitGrant    `json:"implicitGrant"`
	GraphScopes           []string         `json:"graphScopes"`  // delegated Microsoft Graph permissions to require
	SignInScopes          []string         `json:"signInScopes"` // what the sample asks for at sign-in
	Credentials           []CredentialKind `json:"credentials"`  // supported kinds, the default first
	Port                  int              `json:"port"`
	AppURL                string           `json:"appURL"` // where the running sample answers

	// Running the sample (shown to the person; run from Folder).
	Install []string `json:"install"`
	Run     []string `json:"run"`
	Notes   []string `json:"notes"`

	// Detect lists what marks a folder as this sample.
	Detect []Marker `json:"detect"`
	// Files are the files the writers produce, in the order they are written.
	Files []File `json:"files"`
	// Placeholders are substrings (matched case-insensitively) that mark an unconfigured value.
	Placeholders []string `json:"placeholders"`
	// ReadBack says how the sample itself reads its configuration.
	ReadBack ReadBack `json:"readBack"`
}

// ImplicitGrant are the implicit-grant settings of the web platform.
type ImplicitGrant struct {
	IDToken     bool `json:"idToken,omitempty"`     // enableIdTokenIssuance
	AccessToken bool `json:"accessToken,omitempty"` // enableAccessTokenIssuance
}

// Marker is a file that must exist in the sample folder, optionally containing a string.
type Marker struct {
	Path     string `json:"path"`
	Contains string `json:"contains,omitempty"`
}

// File is one file the writers produce.
type File struct {
	Path   string `json:"path"` // relative to the sample folder, slash-separated
	Format Format `json:"format"`
	// From is the sample's own file the first write starts from (".env.sample.entra-id" for
	// ".env"); empty when the file is edited in place or created from Starter.
	From string `json:"from,omitempty"`
	// Starter is the content of a file that neither exists nor has a From file, line by line.
	Starter []string `json:"starter,omitempty"`
	// Secret marks a file that will hold a secret. Ignore asks that git ignore it (the writer
	// adds it to .gitignore and refuses to put a secret in a file git tracks). A Secret file
	// without Ignore is one the sample only reads from a tracked file; the writer warns.
	Secret bool `json:"secret,omitempty"`
	Ignore bool `json:"ignore,omitempty"`
	// When limits the file to one credential kind. A path may appear once per kind, so that
	// what a file holds (and whether it is Secret) can differ with the credential.
	When CredentialKind `json:"when,omitempty"`
	// IfExists edits the file only when it is already there and never creates it: for
	// clean-up edits, such as removing what an earlier write with another credential left.
	IfExists bool `json:"ifExists,omitempty"`
	// Password is a template for the PFX password (FormatPFX only). Empty means the empty
	// password: the file is then protected by its mode (0600) and by being git-ignored, and
	// .NET and OpenSSL load it with no password.
	Password string   `json:"password,omitempty"`
	Values   []Value  `json:"values,omitempty"`
	Header   []string `json:"header,omitempty"` // comment lines written once above keys a .env editor appends
}

// Value is one edit: a key (dotenv) or a JSON pointer (JSON) and what to put there.
type Value struct {
	Key string `json:"key"`
	// Value is a text/template over the writer's inputs ({{.TenantID}}, {{.CIAMBase}}, ...).
	Value string `json:"value,omitempty"`
	// Generate makes a random value ("secret": 32 random bytes, base64url) that is kept on later
	// writes once set; Name makes it available to later templates as {{.Generated.<Name>}}.
	Generate string `json:"generate,omitempty"`
	Name     string `json:"name,omitempty"`
	// Remove deletes the key (JSON) instead of setting it.
	Remove bool           `json:"remove,omitempty"`
	When   CredentialKind `json:"when,omitempty"`
}

// ReadBack describes how the sample reads its configuration.
type ReadBack struct {
	// Sources are read in precedence order: a key found in an earlier source wins.
	Sources []Source `json:"sources"`
	// Defaults apply when a key is absent or empty (the sample's own fallbacks).
	Defaults map[string]string `json:"defaults,omitempty"`
	// Fields are templates over the sources; {{get "KEY"}} reads a key (for JSON, the
	// ASP.NET Core configuration path such as "AzureAd:ClientId", case-insensitive).
	Fields ReadBackFields `json:"fields"`
}

// Source is one configuration file the sample reads.
type Source struct {
	Path   string `json:"path"`
	Format Format `json:"format"`
}

// ReadBackFields are the templates that compute the effective configuration.
type ReadBackFields struct {
	ClientID              string `json:"clientId"`
	ClientSecret          string `json:"clientSecret,omitempty"`
	CertificatePath       string `json:"certificatePath,omitempty"`
	CertificatePassword   string `json:"certificatePassword,omitempty"`
	CertificateThumbprint string `json:"certificateThumbprint,omitempty"`
	Authority             string `json:"authority"`
	TenantID              string `json:"tenantId,omitempty"`
	TenantDomain          string `json:"tenantDomain,omitempty"`
	TenantSubdomain       string `json:"tenantSubdomain,omitempty"`
	RedirectURI           string `json:"redirectUri"`
	PostLogoutRedirectURI string `json:"postLogoutRedirectUri,omitempty"`
	Scopes                string `json:"scopes"`
	GraphEndpoint         string `json:"graphEndpoint,omitempty"`
}

// catalog is the parsed, validated set of manifests. It is rebuilt on each call rather than kept
// in a package variable so that no caller can change what another sees.
func catalog() ([]*Manifest, error) {
	entries, err := fs.ReadDir(embedded, "manifests")
	if err != nil {
		return nil, fmt.Errorf("samples: reading the embedded manifests: %w", err)
	}
	var out []*Manifest
	for _, e := range entries {
		b, err := fs.ReadFile(embedded, "manifests/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("samples: %w", err)
		}
		m, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("samples: manifests/%s: %w", e.Name(), err)
		}
		if m.ID+".json" != e.Name() {
			return nil, fmt.Errorf("samples: manifests/%s holds id %q; the file name must be the id", e.Name(), m.ID)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Parse decodes and validates one manifest. Unknown fields are errors so a typo in a manifest
// fails the tests instead of being silently ignored.
func Parse(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding the manifest: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if m.ID == "" || strings.ContainsAny(m.ID, " /\\") {
		bad("id %q must be a non-empty word", m.ID)
	}
	if m.TenantType != Workforce && m.TenantType != External {
		bad("tenantType %q must be %q or %q", m.TenantType, Workforce, External)
	}
	if m.Repository == "" || strings.Count(m.Repository, "/") != 1 {
		bad("repository %q must be owner/name", m.Repository)
	}
	if m.Branch == "" {
		bad("branch is empty")
	}
	if !isLocalSlash(m.Folder) {
		bad("folder %q must be a relative slash-separated path", m.Folder)
	}
	if len(m.Credentials) == 0 {
		bad("credentials is empty")
	}
	if !slices.Contains(m.RedirectURIs, m.RedirectURI) {
		bad("redirectURI %q is not among redirectURIs", m.RedirectURI)
	}
	if m.PostLogoutRedirectURI != "" && !slices.Contains(m.RedirectURIs, m.PostLogoutRedirectURI) {
		bad("postLogoutRedirectURI %q must also be registered in redirectURIs", m.PostLogoutRedirectURI)
	}
	if len(m.Files) == 0 || len(m.Detect) == 0 || len(m.ReadBack.Sources) == 0 {
		bad("files, detect and readBack.sources must not be empty")
	}
	for i, f := range m.Files {
		if !isLocalSlash(f.Path) || (f.From != "" && !isLocalSlash(f.From)) {
			bad("file %q: paths must be relative and stay inside the sample folder", f.Path)
		}
		switch f.Format {
		case FormatEnv, FormatJSON, FormatPFX:
		default:
			bad("file %q: unknown format %q", f.Path, f.Format)
		}
		if f.When != "" && !slices.Contains(m.Credentials, f.When) {
			bad("file %q: when %q is not a supported credential", f.Path, f.When)
		}
		if f.IfExists && (f.Secret || f.Format == FormatPFX) {
			bad("file %q: ifExists is for clean-up edits of a file that holds no secret", f.Path)
		}
		for _, g := range m.Files[:i] {
			if g.Path == f.Path && (g.When == "" || f.When == "" || g.When == f.When) {
				bad("file %q is listed twice for one credential kind", f.Path)
			}
		}
		for _, v := range f.Values {
			if v.Key == "" {
				bad("file %q: a value without a key", f.Path)
			}
			if f.Format == FormatJSON && !strings.HasPrefix(v.Key, "/") {
				bad("file %q: key %q must be a JSON pointer", f.Path, v.Key)
			}
			if _, err := template.New("").Option("missingkey=error").Parse(v.Value); err != nil {
				bad("file %q key %q: %v", f.Path, v.Key, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("manifest %q is invalid: %w", m.ID, errors.Join(errs...))
	}
	return nil
}

func isLocalSlash(p string) bool {
	if p == "" || p == "." {
		return true
	}
	return !strings.Contains(p, "\\") && fs.ValidPath(p)
}

// All returns every manifest, sorted by id.
func All() ([]*Manifest, error) { return catalog() }

// IDs returns the known sample ids, sorted.
func IDs() []string {
	all, err := catalog()
	if err != nil {
		return nil
	}
	ids := make([]string, len(all))
	for i, m := range all {
		ids[i] = m.ID
	}
	return ids
}

// ErrUnknownSample is returned (wrapped) by Lookup for an id that is not in the catalog.
var ErrUnknownSample = errors.New("unknown sample")

// Lookup returns the manifest with the given id.
func Lookup(id string) (*Manifest, error) {
	all, err := catalog()
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w %q: choose one of %s", ErrUnknownSample, id, strings.Join(IDs(), ", "))
}

// ForTenantType returns the manifests for one tenant type, sorted by id.
func ForTenantType(t TenantType) ([]*Manifest, error) {
	all, err := catalog()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(m *Manifest) bool { return m.TenantType != t }), nil
}

// DefaultCredential is the credential kind used when the caller does not choose one.
func (m *Manifest) DefaultCredential() CredentialKind { return m.Credentials[0] }

// Supports reports whether the sample can use the credential kind.
func (m *Manifest) Supports(k CredentialKind) bool { return slices.Contains(m.Credentials, k) }

// DownloadDir is where --download puts the sample by default: the repository's name.
func (m *Manifest) DownloadDir() string {
	_, name, _ := strings.Cut(m.Repository, "/")
	return name
}

// ConfigDir is where config-only output goes by default.
func (m *Manifest) ConfigDir() string { return "entra-quickstart-" + m.ID }

// RepositoryURL is the repository's web address on GitHub.
func (m *Manifest) RepositoryURL() string { return "https://github.com/" + m.Repository }

// DefaultArchiveBase is where repository archives are downloaded from.
const DefaultArchiveBase = "https://github.com"

// ArchiveURL is the address of the repository's zip archive under base (DefaultArchiveBase if empty).
func (m *Manifest) ArchiveURL(base string) string {
	if base == "" {
		base = DefaultArchiveBase
	}
	if m.Commit != "" {
		return strings.TrimRight(base, "/") + "/" + m.Repository + "/archive/" + m.Commit + ".zip"
	}
	return strings.TrimRight(base, "/") + "/" + m.Repository + "/archive/refs/heads/" + m.Branch + ".zip"
}

// FilesFor returns the files written for a credential kind.
func (m *Manifest) FilesFor(k CredentialKind) []File {
	var out []File
	for _, f := range m.Files {
		if f.When == "" || f.When == k {
			out = append(out, f)
		}
	}
	return out
}

// Upstream returns the embedded copy of one of the sample's own files (path relative to the
// sample folder), as it stands upstream; used when no checkout is at hand (config-only output).
func (m *Manifest) Upstream(rel string) ([]byte, error) {
	name := path.Join("upstream", repoName(m.Repository), m.Folder, rel)
	b, err := fs.ReadFile(embedded, name)
	if err != nil {
		return nil, fmt.Errorf("samples: no copy of %s of %s is built in: %w", rel, m.ID, err)
	}
	return b, nil
}

func repoName(repo string) string {
	_, name, _ := strings.Cut(repo, "/")
	return name
}

// HasPlaceholder reports the first placeholder found in s, if any.
func (m *Manifest) HasPlaceholder(s string) (string, bool) {
	ls := strings.ToLower(s)
	for _, p := range m.Placeholders {
		if strings.Contains(ls, strings.ToLower(p)) {
			return p, true
		}
	}
	return "", false
}

// RunWithTool is the Run steps with the sample's start command (the last one) replaced by
// `entra-quickstart run` and args: the command that starts the sample with what it needs to
// reach the emulator and trust its CA, and watches the sign-in. A sample configured for the
// emulator runs this way, never with its bare start command (which would reach nothing).
func (m *Manifest) RunWithTool(args string) []string {
	if len(m.Run) == 0 {
		return nil
	}
	out := append([]string(nil), m.Run[:len(m.Run)-1]...)
	return append(out, strings.TrimSpace("entra-quickstart run "+args))
}
