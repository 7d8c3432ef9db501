package lab

import (
	"archive/zip"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/atomicfile"
	"github.com/entra-quickstart/entra-quickstart/internal/safetext"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

//go:embed pages/*.tmpl
var pages embed.FS

// marker records a finished bundle (no secret: the secret's keyId or the thumbprint only). It
// is written last, so its presence means the bundle is whole.
type marker struct {
	Lab                string    `json:"lab"`
	Sample             string    `json:"sample"`
	Attendee           Attendee  `json:"attendee"`
	UniqueName         string    `json:"unique_name"`
	DisplayName        string    `json:"display_name"`
	ClientID           string    `json:"client_id"`
	ObjectID           string    `json:"object_id"`
	ServicePrincipalID string    `json:"service_principal_id"`
	UserFlowID         string    `json:"user_flow_id,omitempty"`
	TenantID           string    `json:"tenant_id"`
	TenantDomain       string    `json:"tenant_domain"`
	Credential         string    `json:"credential"`
	SecretKeyID        string    `json:"secret_key_id,omitempty"`
	Thumbprint         string    `json:"thumbprint,omitempty"`
	Expires            time.Time `json:"expires"`
	Files              []string  `json:"files"`        // in config/, slash-separated
	SecretFiles        []string  `json:"secret_files"` // in the bundle, slash-separated
}

func readMarker(bundle string) (*marker, error) {
	return readJSON[marker](filepath.Join(bundle, markerName))
}

func writeMarker(bundle string, m *marker) error {
	return writeJSON(filepath.Join(bundle, markerName), m)
}

// readJSON reads the JSON file p; a file that is not JSON is named in the error.
func readJSON[T any](p string) (*T, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &v, nil
}

// writeJSON writes v as indented JSON to p, atomically and with mode 0600.
func writeJSON(p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(p, append(b, '\n'), 0o600)
}

// complete reports whether the bundle is whole: the configuration reads back with this app's
// client id and a credential, and the handouts and the zip are there.
func (m *marker) complete(s *samples.Manifest, bundle string) bool {
	c, err := templates.Read(s, filepath.Join(bundle, configDir))
	if err != nil || !strings.EqualFold(c.ClientID, m.ClientID) || (c.ClientSecret == "" && c.Certificate == nil) {
		return false
	}
	for _, p := range []string{filepath.Join(bundle, "HANDOUT.md"), filepath.Join(bundle, "HANDOUT.html"), bundle + ".zip"} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// fill copies the marker's ids into the attendee's index line.
func (m *marker) fill(r *AttendeeResult) {
	r.ClientID, r.ObjectID, r.ServicePrincipalID, r.UserFlowID = m.ClientID, m.ObjectID, m.ServicePrincipalID, m.UserFlowID
	r.SecretFiles, r.CredentialExpires = m.SecretFiles, m.Expires
}

// handoutData is what the handout templates see. It holds no secret: the handout says where
// the secret is.
type handoutData struct {
	Lab, Attendee, Email   string
	Title, Framework       string
	TenantKind             string
	TenantID, TenantDomain string
	DisplayName, ClientID  string
	ObjectID, UserFlowID   string
	Credential             string
	SecretFiles            []string
	Expires                string
	Repository, RepoURL    string
	Folder, ID             string
	Copies                 []copyStep
	// Ignore are the copied files that hold the credential, to git-ignore in the sample's
	// folder: copied there, they would otherwise show up for the next commit.
	Ignore              []string
	Install, Run, Notes []string
	AppURL, RedirectURI string
	Emulated            bool
	Cloud               string
}

type copyStep struct{ From, To string }

func (cfg *Config) handout(a Attendee, m *marker) handoutData {
	s := cfg.Sample
	repo := s.Repository[strings.LastIndex(s.Repository, "/")+1:]
	folder := repo
	if s.Folder != "" && s.Folder != "." {
		folder = repo + "/" + s.Folder
	}
	d := handoutData{
		Lab: cfg.Name, Attendee: a.Name, Email: a.Email, Title: s.Title, Framework: s.Framework,
		TenantKind: "workforce", TenantID: m.TenantID, TenantDomain: m.TenantDomain,
		DisplayName: m.DisplayName, ClientID: m.ClientID, ObjectID: m.ObjectID, UserFlowID: m.UserFlowID,
		Credential: m.Credential, SecretFiles: m.SecretFiles, Expires: m.Expires.UTC().Format(time.DateOnly),
		Repository: repo, RepoURL: s.RepositoryURL(), Folder: folder, ID: a.ID,
		Install: s.Install, Run: s.Run, Notes: s.Notes, AppURL: s.AppURL, RedirectURI: s.RedirectURI,
		Emulated: cfg.Cloud.Emulated(), Cloud: cfg.Cloud.LoginBase,
	}
	if s.TenantType == samples.External {
		d.TenantKind = "External ID"
	}
	if d.Emulated {
		// The sample's bare start command can neither reach the emulator nor trust its CA.
		d.Run = s.RunWithTool("")
	}
	for _, f := range m.Files {
		d.Copies = append(d.Copies, copyStep{From: configDir + "/" + f, To: f})
		if slices.Contains(m.SecretFiles, configDir+"/"+f) {
			d.Ignore = append(d.Ignore, f)
		}
	}
	return d
}

func inc(i int) int { return i + 1 }

func parseText(name string) (*texttemplate.Template, error) {
	// md escapes what came from the roster or from Graph: a name cannot add markup, a link or
	// a table column to a handout, nor an escape sequence to a terminal that shows it.
	return texttemplate.New(name).Funcs(texttemplate.FuncMap{"inc": inc, "md": safetext.Markdown}).ParseFS(pages, "pages/"+name)
}

func parseHTML(name string) (*htmltemplate.Template, error) {
	return htmltemplate.New(name).Funcs(htmltemplate.FuncMap{"inc": inc}).ParseFS(pages, "pages/"+name)
}

// render runs a template into bytes.
func render(t interface{ Execute(io.Writer, any) error }, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeHandouts(bundle string, d handoutData) error {
	return writePages(bundle, "handout", "HANDOUT.md", "HANDOUT.html", d)
}

// writePages renders pages/<what>.md.tmpl and pages/<what>.html.tmpl with data and writes them
// into dir as mdName and htmlName (mode 0600).
func writePages(dir, what, mdName, htmlName string, data any) error {
	md, err := parseText(what + ".md.tmpl")
	if err != nil {
		return err
	}
	ht, err := parseHTML(what + ".html.tmpl")
	if err != nil {
		return err
	}
	for name, t := range map[string]interface{ Execute(io.Writer, any) error }{mdName: md, htmlName: ht} {
		b, err := render(t, data)
		if err != nil {
			return fmt.Errorf("the %s %s: %w", what, name, err)
		}
		if err := writeAtomic(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// zipBundle writes the files of a bundle named in files (slash-separated, relative to the
// bundle) as dst, every entry under prefix/, atomically and with mode 0600: it holds the secret.
// The list, not a walk of the folder, decides what goes in, so a stray file in the folder (a
// backup, a staging file a kill left, something an attendee dropped there) never ends up in the
// zip handed to someone.
func zipBundle(dst, bundle, prefix string, files []string) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := func() error {
		dirs := map[string]bool{}
		for _, rel := range files {
			// Folders first, as a walk would have given them, so unzip tools make them.
			for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		var dirList []string
		for d := range dirs {
			dirList = append(dirList, d)
		}
		slices.Sort(dirList)
		for _, d := range dirList {
			h := &zip.FileHeader{Name: path.Join(prefix, d) + "/", Modified: time.Now()}
			h.SetMode(fs.ModeDir | 0o700)
			if _, err := zw.CreateHeader(h); err != nil {
				return err
			}
		}
		for _, rel := range files {
			p := filepath.Join(bundle, filepath.FromSlash(rel))
			// Read first, through one open that refuses a link: the zip holds what was checked.
			b, mode, err := atomicfile.ReadFile(p)
			if err != nil {
				return err
			}
			h := &zip.FileHeader{Name: path.Join(prefix, rel), Method: zip.Deflate, Modified: time.Now()}
			h.SetMode(mode)
			w, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return zw.Close()
	}()
	if err != nil {
		return fmt.Errorf("zipping %s: %w", bundle, err)
	}
	return writeAtomic(dst, buf.Bytes(), 0o600)
}

// writeIndex writes index.json, INDEX.md and index.html: ids and paths, never a secret.
func writeIndex(dir string, r *Report) error {
	if err := writeJSON(filepath.Join(dir, IndexJSON), r); err != nil {
		return err
	}
	return writePages(dir, "index", IndexMD, IndexHTML, r)
}

// ReadIndex reads a lab folder's index.json.
func ReadIndex(dir string) (*Report, error) {
	return readJSON[Report](filepath.Join(dir, IndexJSON))
}

// writeAtomic writes a file through a temporary file and a rename (see atomicfile.Write).
func writeAtomic(p string, data []byte, mode fs.FileMode) error {
	return atomicfile.Write(p, data, mode)
}
