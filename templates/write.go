// Package templates writes a sample's configuration files and reads them back.
//
// The writers edit the sample's own files rather than regenerating them: a dotenv line editor
// that changes only values (EnvFile), and a JSON-with-comments editor on the hujson syntax tree
// (EditJSON). What goes where is data in the sample's manifest (package samples). Writes are
// atomic (a temporary file in the same folder, fsync, rename), files get mode 0600, the
// original is kept once as <file>.bak, secret-bearing files are made git-ignored, and writing
// the same values twice gives the same bytes. Read returns the configuration the sample will
// actually use, for the sign-in check. Nothing here prints.
//
// # The ASP.NET Core certificate
//
// Both ASP.NET Core samples default to a certificate, so that no secret lands in a file git
// tracks. aspnet-workforce's appsettings.json names a certificate in the CurrentUser/My store by
// thumbprint (the keychain on macOS, a .NET-private folder on Linux, the Windows certificate
// store on Windows; filling it needs .NET or platform tools), and aspnet-external's asks for a
// secret. For both the writer uses Microsoft.Identity.Web's SourceType "Path": it writes the
// certificate and key as entra-quickstart.pfx (PKCS#12, AES-256, mode 0600, git-ignored) in the
// sample's folder and points CertificateDiskPath at it (relative: `dotnet run` runs from that
// folder, on every OS), with the thumbprint for people and for Read. The PFX has the empty
// password (see encodePFX), which .NET tries when given none, so no password is written
// anywhere and appsettings.json, tracked, holds nothing secret.
//
// aspnet-workforce used to keep a random PFX password in an appsettings.Development.json created
// for it; it now uses the same password-less PFX, which is simpler (no extra file, no extra
// secret, one way for both samples) and leaves every test as meaningful. An
// appsettings.Development.json already there (a secret write, an earlier version) loses its
// CertificatePassword and ClientSecret, which would override appsettings.json.
//
// With a client secret, which must be asked for, aspnet-workforce puts it in a created,
// git-ignored appsettings.Development.json (layered over appsettings.json when `dotnet run` sets
// ASPNETCORE_ENVIRONMENT=Development). aspnet-external reads nothing untracked (no
// UserSecretsId; its appsettings.Development.json is tracked upstream), so its secret goes into
// the tracked appsettings.json and Write returns a warning.
package templates

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/tailscale/hujson"
)

// Values are what the provisioning step learned, filled in by the caller.
type Values struct {
	TenantID        string // GUID
	TenantDomain    string // contoso.onmicrosoft.com
	TenantSubdomain string // contoso (External ID)
	ClientID        string
	ClientSecret    string
	Certificate     *Certificate // for samples that use a certificate
	// The cloud's bases, without a trailing slash; empty means the public cloud
	// (https://login.microsoftonline.com, https://<subdomain>.ciamlogin.com, https://graph.microsoft.com).
	LoginBase string
	CIAMBase  string
	GraphBase string
}

// Options tune Write. The zero value is right for the CLI.
type Options struct {
	// Credential chooses the credential kind; empty means a certificate when Values.Certificate
	// is set, else a secret.
	Credential samples.CredentialKind
	// Rand is the source of generated values and PFX salts; nil means crypto/rand.
	Rand io.Reader
	// Git is the git binary; "" finds it on PATH, "none" never runs git (.gitignore files are read).
	Git string
}

// Action is what Write did to one file.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// FileResult describes one file Write produced or checked.
type FileResult struct {
	Path   string // absolute
	Rel    string // relative to the sample folder, slash-separated
	Action Action
	Backup string // the .bak of the original, when one exists
	// BackupMasked says the .bak holds the original with its client secret replaced by the
	// sample's placeholder (a live secret is never kept beside the sample; see backupOnce).
	BackupMasked bool
	// NoBackup says the original was not kept at all: a certificate's private key (PFX) is
	// never copied; the app registration keeps the older certificate's public part.
	NoBackup bool
	Secret   bool
}

// Result is what Write did.
type Result struct {
	Dir        string
	Credential samples.CredentialKind
	Files      []FileResult
	// Warnings are for the person: a secret in a file git tracks.
	Warnings []string
}

// Created lists the files Write created (they had no original); Restore removes them.
func (r *Result) Created() []string {
	var out []string
	for _, f := range r.Files {
		if f.Action == Created {
			out = append(out, f.Path)
		}
	}
	return out
}

// templateData is what the manifests' value templates see.
type templateData struct {
	Values
	CertificateThumbprint string
	Generated             map[string]string
}

type plan struct {
	abs, rel string
	format   samples.Format
	old      []byte // nil when the file does not exist
	oldMode  fs.FileMode
	new      []byte
	mode     fs.FileMode
	secret   bool
}

// Write writes the sample's configuration into dir, the sample's folder (a checkout, a
// download, or an output folder for config-only use, where the sample's own files are taken
// from the built-in copies). Every file is prepared and checked before the first is written, so
// an error leaves all files as they were.
func Write(ctx context.Context, m *samples.Manifest, dir string, v Values, opts Options) (*Result, error) {
	kind, err := credentialKind(m, v, opts)
	if err != nil {
		return nil, err
	}
	v, err = normalize(m, v, kind)
	if err != nil {
		return nil, err
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data := templateData{Values: v, Generated: map[string]string{}}
	if kind == samples.Certificate {
		cert, _, err := v.Certificate.Parsed()
		if err != nil {
			return nil, fmt.Errorf("the certificate for %s: %w", m.ID, err)
		}
		data.CertificateThumbprint = Thumbprint(cert)
	}
	git := newGitInfo(ctx, opts.Git)
	res := &Result{Dir: dir, Credential: kind}

	var plans []*plan
	ignoreDirs := map[string][]string{} // folder -> file names to add to its .gitignore
	var ignoreOrder []string
	for _, f := range m.FilesFor(kind) {
		p, err := planFile(m, dir, f, &data, opts)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue // an ifExists file that is not there
		}
		plans = append(plans, p)
		if f.Secret && git.tracked(p.abs) {
			if f.Ignore {
				return nil, fmt.Errorf("%s is tracked by git, and it would hold a secret that a commit would publish: untrack it (git rm --cached %s) and run again", p.abs, filepath.Base(p.abs))
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s holds the app's secret and is tracked by git: do not commit it (git update-index --skip-worktree %s hides the change)", p.rel, filepath.Base(p.abs)))
		}
		if f.Ignore || f.Secret {
			// The file (when it is to be ignored), and what the tool may leave beside a secret:
			// the file's backup and a staging file a kill left behind (atomicfile's
			// ".<name>.tmp-*"). A tracked secret file itself stays tracked (warned above).
			base := filepath.Base(p.abs)
			names := []string{base + ".bak", "." + base + ".tmp-*"}
			if f.Ignore {
				names = append([]string{base}, names...)
			}
			for _, name := range names {
				probe := filepath.Join(filepath.Dir(p.abs), strings.ReplaceAll(name, "*", "0"))
				if git.ignored(probe, dir) {
					continue
				}
				d := filepath.Dir(p.abs)
				if _, ok := ignoreDirs[d]; !ok {
					ignoreOrder = append(ignoreOrder, d)
				}
				if !slices.Contains(ignoreDirs[d], name) {
					ignoreDirs[d] = append(ignoreDirs[d], name)
				}
			}
		}
	}
	for _, d := range ignoreOrder {
		p, err := planGitignore(dir, d, ignoreDirs[d])
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}

	// Two phases, so a sample of several files is never left half configured: every changed
	// file is staged (written and synced beside its destination) and only then are they all
	// renamed into place. A full disk, a read-only folder or a kill strikes while staging, when
	// no file has changed yet.
	var staged []*atomicfile.Staged
	discard := func() {
		for _, s := range staged {
			s.Discard()
		}
	}
	for _, p := range plans {
		fr := FileResult{Path: p.abs, Rel: p.rel, Secret: p.secret, Action: Unchanged}
		switch {
		case p.old == nil:
			fr.Action = Created
		case !bytes.Equal(p.old, p.new):
			fr.Action = Updated
		}
		if fr.Action != Unchanged {
			if p.old != nil {
				masked, kept, err := backupOnce(m, p, opts)
				if err != nil {
					discard()
					return res, err
				}
				fr.BackupMasked, fr.NoBackup = masked, !kept
			}
			s, err := atomicfile.Stage(p.abs, p.new, p.mode)
			if err != nil {
				discard()
				return res, err
			}
			staged = append(staged, s)
		}
		if _, err := os.Lstat(p.abs + ".bak"); err == nil {
			fr.Backup = p.abs + ".bak"
			fr.NoBackup = false
		}
		res.Files = append(res.Files, fr)
	}
	if err := ctx.Err(); err != nil {
		discard()
		return &Result{Dir: dir, Credential: kind}, fmt.Errorf("writing %s's configuration: %w; no file was changed", m.ID, err)
	}
	for i, s := range staged {
		if err := s.Commit(); err != nil {
			for _, rest := range staged[i+1:] {
				rest.Discard()
			}
			return res, err
		}
	}
	return res, nil
}

func credentialKind(m *samples.Manifest, v Values, opts Options) (samples.CredentialKind, error) {
	kind := opts.Credential
	if kind == "" {
		kind = samples.Secret
		if v.Certificate != nil {
			kind = samples.Certificate
		}
	}
	if !m.Supports(kind) {
		return "", fmt.Errorf("%s does not support a %s credential (it supports %v); provision the app with one of those", m.ID, kind, m.Credentials)
	}
	switch {
	case kind == samples.Secret && v.ClientSecret == "":
		return "", fmt.Errorf("%s needs the client secret, and none was given", m.ID)
	case kind == samples.Certificate && v.Certificate == nil:
		return "", fmt.Errorf("%s needs the certificate, and none was given", m.ID)
	}
	return kind, nil
}

// normalize fills what can be derived and checks what the sample cannot do without.
func normalize(m *samples.Manifest, v Values, kind samples.CredentialKind) (Values, error) {
	if v.TenantSubdomain == "" && strings.HasSuffix(v.TenantDomain, ".onmicrosoft.com") {
		v.TenantSubdomain = strings.TrimSuffix(v.TenantDomain, ".onmicrosoft.com")
	}
	if v.TenantDomain == "" && v.TenantSubdomain != "" {
		v.TenantDomain = v.TenantSubdomain + ".onmicrosoft.com"
	}
	if v.LoginBase == "" {
		v.LoginBase = "https://login.microsoftonline.com"
	}
	if v.GraphBase == "" {
		v.GraphBase = "https://graph.microsoft.com"
	}
	if v.CIAMBase == "" && v.TenantSubdomain != "" {
		v.CIAMBase = "https://" + v.TenantSubdomain + ".ciamlogin.com"
	}
	v.LoginBase = strings.TrimRight(v.LoginBase, "/")
	v.GraphBase = strings.TrimRight(v.GraphBase, "/")
	v.CIAMBase = strings.TrimRight(v.CIAMBase, "/")
	var missing []string
	if v.ClientID == "" {
		missing = append(missing, "client id")
	}
	if m.TenantType == samples.Workforce && v.TenantID == "" {
		missing = append(missing, "tenant id")
	}
	if m.TenantType == samples.External && v.TenantSubdomain == "" {
		missing = append(missing, "tenant subdomain (or its contoso.onmicrosoft.com domain)")
	}
	if len(missing) > 0 {
		return v, fmt.Errorf("writing %s needs the %s; they come from provisioning the app", m.ID, strings.Join(missing, " and the "))
	}
	return v, nil
}

// planFile computes the new content of one file; nil when the file is ifExists and absent.
func planFile(m *samples.Manifest, dir string, f samples.File, data *templateData, opts Options) (*plan, error) {
	p := &plan{abs: filepath.Join(dir, filepath.FromSlash(f.Path)), rel: f.Path, mode: 0o600, secret: f.Secret, format: f.Format}
	if err := readExisting(p); err != nil {
		return nil, err
	}
	if f.IfExists && p.old == nil {
		return nil, nil
	}
	if f.Format == samples.FormatPFX {
		return planPFX(p, f, data, opts)
	}
	src, err := startingContent(m, dir, f, p)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch f.Format {
	case samples.FormatEnv:
		out, err = editEnv(m, f, src, data, opts)
	case samples.FormatJSON:
		out, err = editJSONFile(m, f, src, data, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.abs, err)
	}
	if ph, ok := m.HasPlaceholder(string(out)); ok {
		return nil, fmt.Errorf("%s would still hold the placeholder %q: the manifest of %s misses a value; report this as a bug", p.abs, ph, m.ID)
	}
	p.new = out
	return p, nil
}

func readExisting(p *plan) error {
	// One open that refuses a link, and the checks on what it opened: no window between a
	// check and the read for a link to be swapped in.
	b, mode, err := atomicfile.ReadFile(p.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, atomicfile.ErrNotRegular) {
		return fmt.Errorf("%s is not a regular file (a link or a folder); move it away and run again", p.abs)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", p.abs, err)
	}
	// A read-only file is a person's choice; rename would replace it anyway (and root may
	// write anything), so the mode is checked rather than the open.
	if mode&0o200 == 0 {
		return fmt.Errorf("%s is read-only; make it writable (chmod u+w %s) and run again", p.abs, filepath.Base(p.abs))
	}
	p.old, p.oldMode = b, mode
	return nil
}

// startingContent is the file itself, else the sample file it starts from, else the built-in
// copy of either (config-only output), else the manifest's starter.
func startingContent(m *samples.Manifest, dir string, f samples.File, p *plan) ([]byte, error) {
	if p.old != nil {
		return p.old, nil
	}
	if f.From != "" {
		b, _, err := atomicfile.ReadFile(filepath.Join(dir, filepath.FromSlash(f.From)))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading %s: %w", f.From, err)
		}
		return m.Upstream(f.From)
	}
	if len(f.Starter) > 0 {
		return []byte(strings.Join(f.Starter, "\n") + "\n"), nil
	}
	return m.Upstream(f.Path)
}

// render executes one value template.
func render(key, text string, data *templateData) (string, error) {
	t, err := template.New(key).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("the value of %s: %w", key, err)
	}
	return b.String(), nil
}

// valueFor computes one value: a generated one is kept while the file holds a real value for
// it, so rewriting never changes a session secret.
func valueFor(m *samples.Manifest, v samples.Value, existing string, has bool, data *templateData, opts Options) (string, error) {
	if v.Generate == "" {
		return render(v.Key, v.Value, data)
	}
	val := existing
	if _, ph := m.HasPlaceholder(existing); !has || existing == "" || ph {
		switch v.Generate {
		case "secret":
			b := make([]byte, 32)
			if _, err := io.ReadFull(opts.Rand, b); err != nil {
				return "", fmt.Errorf("generating %s: %w", v.Key, err)
			}
			val = base64.RawURLEncoding.EncodeToString(b)
		default:
			return "", fmt.Errorf("unknown generator %q for %s", v.Generate, v.Key)
		}
	}
	if v.Name != "" {
		data.Generated[v.Name] = val
	}
	return val, nil
}

func applies(v samples.Value, kind samples.CredentialKind) bool {
	return v.When == "" || v.When == kind
}

func editEnv(m *samples.Manifest, f samples.File, src []byte, data *templateData, opts Options) ([]byte, error) {
	ef, err := ParseEnv(src)
	if err != nil {
		return nil, err
	}
	kind := credentialOf(data)
	header := f.Header
	for _, v := range f.Values {
		if !applies(v, kind) || v.Remove {
			continue
		}
		cur, has := ef.Get(v.Key)
		val, err := valueFor(m, v, cur, has, data, opts)
		if err != nil {
			return nil, err
		}
		if has {
			err = ef.Set(v.Key, val)
		} else {
			err = ef.Set(v.Key, val, header...)
			header = nil
		}
		if err != nil {
			return nil, err
		}
	}
	return ef.Bytes(), nil
}

func credentialOf(data *templateData) samples.CredentialKind {
	if data.CertificateThumbprint != "" {
		return samples.Certificate
	}
	return samples.Secret
}

func editJSONFile(m *samples.Manifest, f samples.File, src []byte, data *templateData, opts Options) ([]byte, error) {
	kind := credentialOf(data)
	var edits []JSONEdit
	for _, v := range f.Values {
		if !applies(v, kind) {
			continue
		}
		if v.Remove {
			edits = append(edits, JSONEdit{Pointer: v.Key, Remove: true})
			continue
		}
		var cur string
		var has bool
		if v.Generate != "" {
			cur, has = jsonString(src, v.Key)
		}
		val, err := valueFor(m, v, cur, has, data, opts)
		if err != nil {
			return nil, err
		}
		edits = append(edits, JSONEdit{Pointer: v.Key, Value: val})
	}
	return EditJSON(src, edits)
}

// jsonString reads the string at a JSON pointer, if there is one.
func jsonString(src []byte, ptr string) (string, bool) {
	v, err := hujson.Parse(bytes.TrimPrefix(src, bom))
	if err != nil {
		return "", false
	}
	found := v.Find(ptr)
	if found == nil {
		return "", false
	}
	lit, ok := found.Value.(hujson.Literal)
	if !ok || lit.Kind() != '"' {
		return "", false
	}
	return lit.String(), true
}

func planPFX(p *plan, f samples.File, data *templateData, opts Options) (*plan, error) {
	password, err := render(f.Path, f.Password, data)
	if err != nil {
		return nil, err
	}
	cert, key, err := data.Certificate.Parsed()
	if err != nil {
		return nil, err
	}
	if p.old != nil && pfxHolds(p.old, password, cert) {
		p.new = p.old
		return p, nil
	}
	out, err := encodePFX(opts.Rand, cert, key, password)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", p.abs, err)
	}
	p.new = out
	return p, nil
}

// planGitignore adds names to the .gitignore of folder d, under a comment saying why.
func planGitignore(sampleDir, d string, names []string) (*plan, error) {
	p := &plan{abs: filepath.Join(d, ".gitignore"), mode: 0o644}
	if rel, err := filepath.Rel(sampleDir, p.abs); err == nil {
		p.rel = filepath.ToSlash(rel)
	}
	if err := readExisting(p); err != nil {
		return nil, err
	}
	if p.old != nil {
		p.mode = p.oldMode
	}
	var b bytes.Buffer
	b.Write(p.old)
	eol := "\n"
	if bytes.Contains(p.old, []byte("\r\n")) {
		eol = "\r\n"
	}
	if len(p.old) > 0 && !bytes.HasSuffix(p.old, []byte("\n")) {
		b.WriteString(eol)
	}
	b.WriteString("# Local secrets written by entra-quickstart: never commit them." + eol)
	slices.Sort(names)
	for _, n := range names {
		b.WriteString("/" + n + eol)
	}
	p.new = b.Bytes()
	return p, nil
}

// backupOnce keeps the first original of a file as <file>.bak; later writes keep that backup.
// The backup never holds a live credential: it lies beside the sample, where git does not
// ignore it unless told to, and the secret it would hold is the previous one, which stays
// valid on the app as the grace secret. So a secret-bearing file's backup has its client
// secret replaced by the sample's placeholder (masked), and a certificate's PFX is not copied
// at all (kept is false). masked reports that a secret was replaced.
func backupOnce(m *samples.Manifest, p *plan, opts Options) (masked, kept bool, err error) {
	bak := p.abs + ".bak"
	if _, err := os.Lstat(bak); err == nil {
		return false, true, nil
	}
	old := p.old
	if p.secret {
		if p.format == samples.FormatPFX {
			return false, false, nil
		}
		if old, masked, err = maskCredentials(m, p, old); err != nil {
			return false, false, fmt.Errorf("keeping a backup of %s: %w", p.abs, err)
		}
	}
	if err := writeAtomic(bak, old, p.oldMode); err != nil {
		return false, false, fmt.Errorf("keeping a backup of %s: %w", p.abs, err)
	}
	return masked, true, nil
}

// secretPlaceholder is what the samples ship in place of a client secret.
const secretPlaceholder = "Enter_the_Client_Secret_Here"

// credentialKeys are the keys of a file (by its path, under every credential kind) that carry a
// credential: a value made from the client secret, or a key named as a secret or a PFX password.
func credentialKeys(m *samples.Manifest, rel string) []string {
	var keys []string
	for _, f := range m.Files {
		if f.Path != rel {
			continue
		}
		for _, v := range f.Values {
			last := v.Key[strings.LastIndexAny(v.Key, "/:")+1:]
			if strings.Contains(v.Value, ".ClientSecret") || strings.EqualFold(last, "ClientSecret") ||
				strings.EqualFold(last, "CLIENT_SECRET") || strings.EqualFold(last, "CertificatePassword") {
				if !slices.Contains(keys, v.Key) {
					keys = append(keys, v.Key)
				}
			}
		}
	}
	return keys
}

// maskCredentials replaces each credential in src (a file of p's format) that is not already a
// placeholder with secretPlaceholder.
func maskCredentials(m *samples.Manifest, p *plan, src []byte) ([]byte, bool, error) {
	keys := credentialKeys(m, p.rel)
	live := func(v string) bool { return v != "" && !strings.HasPrefix(v, "Enter_") }
	masked := false
	switch p.format {
	case samples.FormatEnv:
		ef, err := ParseEnv(src)
		if err != nil {
			return nil, false, err
		}
		for _, k := range keys {
			if cur, ok := ef.Get(k); ok && live(cur) {
				if err := ef.Set(k, secretPlaceholder); err != nil {
					return nil, false, err
				}
				masked = true
			}
		}
		return ef.Bytes(), masked, nil
	case samples.FormatJSON:
		var edits []JSONEdit
		for _, k := range keys {
			if cur, ok := jsonString(src, k); ok && live(cur) {
				edits = append(edits, JSONEdit{Pointer: k, Value: secretPlaceholder})
			}
		}
		if len(edits) == 0 {
			return src, false, nil
		}
		out, err := EditJSON(src, edits)
		return out, err == nil, err
	}
	return src, false, nil
}

// writeAtomic replaces path with data (see atomicfile.Write).
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.Write(path, data, mode)
}
