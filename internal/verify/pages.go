package verify

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
)

//go:embed pages/pages.html
var pagesFS embed.FS

// pages holds one parsed template set per page: each page defines "content" differently.
type pages map[string]*template.Template

func loadPages() (pages, error) {
	src, err := pagesFS.ReadFile("pages/pages.html")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, name := range []string{"start", "signedin", "signedout", "error"} {
		t, err := template.New(name).Parse(string(src) + `{{define "content"}}{{template "` + name + `-content" .}}{{end}}`)
		if err != nil {
			return nil, fmt.Errorf("verify: page %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// pageData is what every page may show.
type pageData struct {
	Title          string
	Detail         string
	Authority      string
	ClientID       string
	RedirectURI    string
	Credential     string
	SignInURL      string
	SignOutURL     string
	StartURL       string
	RefreshURL     string
	RefreshSeconds int
	User           User
	Steps          []StepResult
	Claims         []nameValue
	Me             []nameValue
	Diagnosis      *Diagnosis
}

type nameValue struct{ Name, Value string }

// sortedPairs renders a claims or /me map as sorted rows.
func sortedPairs(m map[string]any) []nameValue {
	var out []nameValue
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case nil:
			s = "null"
		default:
			s = fmt.Sprint(x)
			if f, ok := x.(float64); ok && f == float64(int64(f)) {
				s = fmt.Sprint(int64(f))
			}
		}
		out = append(out, nameValue{k, s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// render writes a page; security headers keep it from being framed or cached, and allow no
// script and no outside resources.
func (p pages) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "page error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
