package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/tailscale/hujson"
)

// Config is the configuration a sample will use, read back from its files the way the sample
// reads them. It is plain data for the sign-in check.
type Config struct {
	SampleID     string
	Dir          string
	ClientID     string
	ClientSecret string           // empty when the sample uses a certificate
	Certificate  *CertificateFile // nil when the sample uses a secret
	// Authority is the authority the sample signs in with, without a trailing slash:
	// https://login.microsoftonline.com/<tenant> or https://contoso.ciamlogin.com/contoso.onmicrosoft.com.
	Authority       string
	TenantID        string // when the files hold it
	TenantDomain    string // External ID: contoso.onmicrosoft.com
	TenantSubdomain string // External ID: contoso
	RedirectURI     string
	// PostLogoutRedirectURI is where the sample asks Entra to return after sign-out.
	PostLogoutRedirectURI string
	Scopes                []string // requested at sign-in
	// GraphEndpoint is the Microsoft Graph URL the sample calls for the signed-in user (/v1.0/me),
	// empty when it calls none.
	GraphEndpoint string
	// Sources are the files read, in precedence order.
	Sources []string
	// SecretMissingFrom is the file the client secret belongs in (the one init writes it to,
	// relative to Dir) when the secret is not there: the key is absent or empty in it, so that
	// what the sample reads is a placeholder from another file, the sample's default, or
	// nothing. Empty when the file holds a value, or the sample uses a certificate.
	SecretMissingFrom string
}

// CertificateFile is a certificate credential as the sample finds it.
type CertificateFile struct {
	Path       string // absolute
	Password   string
	Thumbprint string // as written in the configuration, upper-case hex
}

// ErrNotConfigured is returned (wrapped) when the sample's files still hold placeholders or
// lack a value the sign-in needs.
var ErrNotConfigured = errors.New("the sample is not configured")

// Read returns the effective configuration of the sample in dir.
func Read(m *samples.Manifest, dir string) (*Config, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var layers []map[string]string
	var layerPaths []string // the manifest's path of each layer
	cfg := &Config{SampleID: m.ID, Dir: dir}
	for _, s := range m.ReadBack.Sources {
		p := filepath.Join(dir, filepath.FromSlash(s.Path))
		b, _, err := atomicfile.ReadFile(p) // may hold a secret: never through a link
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var kv map[string]string
		switch s.Format {
		case samples.FormatEnv:
			kv, err = envMap(b)
		case samples.FormatJSON:
			kv, err = jsonMap(b)
		default:
			err = fmt.Errorf("cannot read format %q", s.Format)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		layers = append(layers, kv)
		layerPaths = append(layerPaths, s.Path)
		cfg.Sources = append(cfg.Sources, p)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: none of %s is in %s", ErrNotConfigured, sourceNames(m), dir)
	}
	jsonKeys := m.ReadBack.Sources[0].Format == samples.FormatJSON
	from := map[string]bool{} // the manifest paths the values read so far came from
	get := func(key string) string {
		k := key
		if jsonKeys {
			k = strings.ToLower(key) // ASP.NET Core configuration keys ignore case
		}
		for i, l := range layers {
			if v, ok := l[k]; ok && v != "" {
				from[layerPaths[i]] = true
				return v
			}
		}
		for dk, dv := range m.ReadBack.Defaults {
			if dk == key || jsonKeys && strings.EqualFold(dk, key) {
				return dv
			}
		}
		return ""
	}
	funcs := template.FuncMap{
		"get":           get,
		"trimSuffix":    func(s, suffix string) string { return strings.TrimSuffix(s, suffix) },
		"hostLabel":     hostLabel,
		"ciamSubdomain": ciamSubdomain,
		"lastSegment":   func(s string) string { return path.Base(strings.TrimRight(s, "/")) },
	}
	f := m.ReadBack.Fields
	var errs []error
	eval := func(name, text string) string {
		if text == "" {
			return ""
		}
		t, err := template.New(name).Funcs(funcs).Parse(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return ""
		}
		var b strings.Builder
		if err := t.Execute(&b, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return b.String()
	}
	cfg.ClientID = eval("clientId", f.ClientID)
	clear(from)
	cfg.ClientSecret = eval("clientSecret", f.ClientSecret)
	_, placeholder := m.HasPlaceholder(cfg.ClientSecret)
	if file := secretFile(m); file != "" && f.ClientSecret != "" && !from[file] && (cfg.ClientSecret == "" || placeholder) {
		cfg.SecretMissingFrom = file
	}
	cfg.Authority = strings.TrimRight(eval("authority", f.Authority), "/")
	cfg.TenantID = eval("tenantId", f.TenantID)
	cfg.TenantDomain = eval("tenantDomain", f.TenantDomain)
	cfg.TenantSubdomain = eval("tenantSubdomain", f.TenantSubdomain)
	cfg.RedirectURI = eval("redirectUri", f.RedirectURI)
	cfg.PostLogoutRedirectURI = eval("postLogoutRedirectUri", f.PostLogoutRedirectURI)
	cfg.Scopes = strings.Fields(eval("scopes", f.Scopes))
	cfg.GraphEndpoint = eval("graphEndpoint", f.GraphEndpoint)
	if cp := eval("certificatePath", f.CertificatePath); cp != "" {
		if !filepath.IsAbs(cp) {
			cp = filepath.Join(dir, filepath.FromSlash(cp))
		}
		cfg.Certificate = &CertificateFile{
			Path:       cp,
			Password:   eval("certificatePassword", f.CertificatePassword),
			Thumbprint: eval("certificateThumbprint", f.CertificateThumbprint),
		}
	}
	if cfg.Certificate != nil {
		cfg.SecretMissingFrom = "" // a certificate, not a secret
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("reading %s: the manifest's readBack is wrong: %w", m.ID, errors.Join(errs...))
	}
	if err := cfg.check(m); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func (c *Config) check(m *samples.Manifest) error {
	fields := map[string]string{
		"client id": c.ClientID, "authority": c.Authority, "redirect URI": c.RedirectURI,
		"client secret": c.ClientSecret,
	}
	if c.Certificate != nil {
		delete(fields, "client secret")
	}
	var bad []string
	for _, name := range []string{"client id", "client secret", "authority", "redirect URI"} {
		val, ok := fields[name]
		if !ok {
			continue
		}
		if name == "client secret" && c.SecretMissingFrom != "" {
			// Not the placeholder of another file: the file that should hold it does not.
			bad = append(bad, "the client secret is missing from "+c.SecretMissingFrom)
			continue
		}
		if ph, has := m.HasPlaceholder(val); has || val == "" {
			if has {
				bad = append(bad, fmt.Sprintf("the %s holds the placeholder %q", name, ph))
			} else {
				bad = append(bad, "the "+name+" is empty")
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s in %s", ErrNotConfigured, strings.Join(bad, ", "), c.Dir)
	}
	return nil
}

// secretFile is the file init writes the client secret to (the manifest's path), "" when the
// sample takes no secret.
func secretFile(m *samples.Manifest) string {
	for _, f := range m.FilesFor(samples.Secret) {
		if f.Secret && f.Format != samples.FormatPFX {
			return f.Path
		}
	}
	return ""
}

func sourceNames(m *samples.Manifest) string {
	var n []string
	for _, s := range m.ReadBack.Sources {
		n = append(n, s.Path)
	}
	return strings.Join(n, ", ")
}

// ciamSubdomain is the External ID subdomain an authority names: the first host label of
// https://contoso.ciamlogin.com/..., or, at the built-in emulator's local base
// (https://localhost:PORT/ciam/contoso/...), the path segment after /ciam/.
func ciamSubdomain(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	if rest, ok := strings.CutPrefix(u.Path, "/ciam/"); ok && !strings.Contains(u.Hostname(), ".") {
		label, _, _ := strings.Cut(rest, "/")
		return label
	}
	return hostLabel(s)
}

func hostLabel(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	label, _, _ := strings.Cut(u.Hostname(), ".")
	return label
}

func envMap(b []byte) (map[string]string, error) {
	ef, err := ParseEnv(b)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, k := range ef.Keys() {
		kv[k], _ = ef.Get(k)
	}
	return kv, nil
}

// jsonMap flattens JSON with comments into ASP.NET Core configuration keys
// ("AzureAd:ClientCredentials:0:SourceType"), lower-cased.
func jsonMap(b []byte) (map[string]string, error) {
	v, err := hujson.Parse(bytes.Clone(bytes.TrimPrefix(b, bom))) // Standardize works in place
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v.Standardize()
	var x any
	dec := json.NewDecoder(bytes.NewReader(v.Pack()))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	kv := map[string]string{}
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		join := func(k string) string {
			if prefix == "" {
				return strings.ToLower(k)
			}
			return prefix + ":" + strings.ToLower(k)
		}
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				walk(join(k), v)
			}
		case []any:
			for i, v := range t {
				walk(join(strconv.Itoa(i)), v)
			}
		case nil:
			kv[prefix] = ""
		default:
			kv[prefix] = fmt.Sprint(t)
		}
	}
	walk("", x)
	return kv, nil
}
