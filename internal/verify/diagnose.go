package verify

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Diagnosis explains a failure in plain words and says what to do. The texts live in
// diagnoses.json (data, not code), keyed by AADSTS code, OAuth error ("oauth:"), Graph error
// code ("graph:"), a local check ("local:") or a step that never arrived ("timeout:").
type Diagnosis struct {
	Code        string `json:"code"`
	Title       string `json:"title"`
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
	// Message is the service's own error text, when there was one.
	Message string `json:"message,omitempty"`
}

//go:embed diagnoses.json
var diagnosesJSON []byte

type diagnosisText struct {
	Title       string `json:"title"`
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
}

// Diagnoses is the table of known failures, read from the embedded data.
type Diagnoses map[string]diagnosisText

// LoadDiagnoses parses the embedded table (each call returns a fresh copy: no shared state).
func LoadDiagnoses() (Diagnoses, error) {
	var d Diagnoses
	if err := json.Unmarshal(diagnosesJSON, &d); err != nil {
		return nil, fmt.Errorf("verify: diagnoses table: %w", err)
	}
	return d, nil
}

// Lookup finds a diagnosis by key ("AADSTS50011", "oauth:invalid_client", ...); nil if unknown.
func (d Diagnoses) Lookup(key string) *Diagnosis {
	t, ok := d[key]
	if !ok {
		return nil
	}
	return &Diagnosis{Code: key, Title: t.Title, Explanation: t.Explanation, Fix: t.Fix}
}

// fill puts the run's values into the {name} placeholders of the texts (nil stays nil).
func (d *Diagnosis) fill(vars map[string]string) *Diagnosis {
	if d == nil {
		return nil
	}
	var pairs []string
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	r := strings.NewReplacer(pairs...)
	d.Title, d.Explanation, d.Fix = r.Replace(d.Title), r.Replace(d.Explanation), r.Replace(d.Fix)
	return d
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// AADSTSCode finds the first AADSTS code in a text, or "".
func AADSTSCode(s string) string {
	if m := aadstsRE.FindStringSubmatch(s); m != nil {
		return "AADSTS" + m[1]
	}
	return ""
}

// OAuth diagnoses an OAuth error (a redirect's error/error_description, or a token endpoint's
// body): the AADSTS code wins, then the OAuth error code. codes are Entra's error_codes.
func (d Diagnoses) OAuth(errCode, description string, codes []int) *Diagnosis {
	var keys []string
	if c := AADSTSCode(description); c != "" {
		keys = append(keys, c)
	}
	for _, c := range codes {
		keys = append(keys, "AADSTS"+strconv.Itoa(c))
	}
	if errCode != "" {
		keys = append(keys, "oauth:"+errCode)
	}
	msg := firstLine(description)
	if msg == "" {
		msg = errCode
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "AADSTS") {
			break
		}
		if x := d.Lookup(k); x != nil {
			x.Message = msg
			return x
		}
	}
	// An AADSTS code this table does not know: show the service's own words under that code,
	// with the OAuth error's advice when there is some.
	out := &Diagnosis{Title: "Sign-in error", Explanation: msg, Message: msg}
	if len(keys) > 0 {
		out.Code = keys[0]
	}
	if x := d.Lookup("oauth:" + errCode); x != nil {
		out.Title, out.Fix = x.Title, x.Fix
		if out.Code == "oauth:"+errCode {
			out.Explanation = x.Explanation
		}
	}
	if strings.HasPrefix(out.Code, "AADSTS") {
		out.Fix = strings.TrimSpace(out.Fix + " Entra explains the code at https://login.microsoftonline.com/error?code=" + strings.TrimPrefix(out.Code, "AADSTS"))
	}
	return out
}

// Token diagnoses an error from the token endpoint (x/oauth2's *RetrieveError carries the body,
// whose error_codes Entra fills).
func (d Diagnoses) Token(err error) *Diagnosis {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return nil
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
	}
	_ = json.Unmarshal(re.Body, &body)
	if body.Error == "" {
		body.Error, body.Description = re.ErrorCode, re.ErrorDescription
	}
	return d.OAuth(body.Error, body.Description, body.Codes)
}

// firstLine keeps the AADSTS sentence and drops Entra's trace lines.
func firstLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
