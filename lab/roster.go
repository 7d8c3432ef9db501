package lab

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"

	"github.com/entra-quickstart/entra-quickstart/provision"
)

// Attendee is one person in the room.
type Attendee struct {
	// ID is the attendee's slug: [a-z0-9-], unique in the lab, stable across runs for the
	// same roster. It names the bundle folder and the app's uniqueName.
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// MaxAttendees bounds one lab: the non-admin directory quota is 250 objects, and a room
// bigger than this wants several labs.
const MaxAttendees = 500

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	nonSlug = regexp.MustCompile(`[^a-z0-9]+`)
)

// ValidateName checks a lab's name with the rule of every name the tool takes
// (provision.ValidateName): it goes into tags and uniqueNames.
func ValidateName(name string) error { return provision.ValidateName(name) }

// Numbered is a roster of n anonymous attendees: attendee-01 ... attendee-n.
func Numbered(n int) ([]Attendee, error) {
	if n < 1 || n > MaxAttendees {
		return nil, fmt.Errorf("--attendees %d: give a number from 1 to %d", n, MaxAttendees)
	}
	width := len(fmt.Sprint(n))
	width = max(width, 2)
	out := make([]Attendee, n)
	for i := range out {
		num := fmt.Sprintf("%0*d", width, i+1)
		out[i] = Attendee{ID: "attendee-" + num, Name: "Attendee " + num}
	}
	return out, nil
}

// ParseRoster reads a CSV roster. With a header row naming a "name" column (and optionally
// "email" and "id"), columns are taken by name; without one, the first column is the name and
// the second, when there is one, the email. Blank lines and lines starting with '#' are
// skipped. Each attendee gets a slug from the id column or the name (accents dropped,
// lower-case, '-' between words); duplicates get -2, -3, ... in roster order.
func ParseRoster(r io.Reader) ([]Attendee, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("the roster is not valid CSV: %w; give one attendee per line: name,email", err)
	}
	col := map[string]int{"name": 0, "email": 1, "id": -1}
	if len(rows) > 0 {
		head := map[string]int{}
		for i, h := range rows[0] {
			head[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
		}
		if i, ok := head["name"]; ok {
			col = map[string]int{"name": i, "email": -1, "id": -1}
			if j, ok := head["email"]; ok {
				col["email"] = j
			}
			if j, ok := head["id"]; ok {
				col["id"] = j
			}
			rows = rows[1:]
		}
	}
	field := func(row []string, c string) string {
		i := col[c]
		if i < 0 || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(strings.TrimPrefix(row[i], "\ufeff"))
	}
	var out []Attendee
	used := map[string]int{}
	var errs []error
	for n, row := range rows {
		name := field(row, "name")
		if name == "" && field(row, "email") == "" && field(row, "id") == "" {
			continue
		}
		a := Attendee{Name: name, Email: field(row, "email")}
		if a.Name == "" {
			a.Name, _, _ = strings.Cut(a.Email, "@")
		}
		if a.Email != "" && !strings.Contains(a.Email, "@") {
			errs = append(errs, fmt.Errorf("line %d: %q is not an email address", n+1, a.Email))
		}
		base := field(row, "id")
		if base != "" {
			base = strings.ToLower(base)
			if !slugRE.MatchString(base) {
				errs = append(errs, fmt.Errorf("line %d: id %q must be 1-40 lower-case letters, digits or '-'", n+1, base))
				continue
			}
		} else {
			base = Slug(a.Name)
		}
		used[base]++
		a.ID = base
		if used[base] > 1 {
			a.ID = fmt.Sprintf("%s-%d", strings.TrimRight(base[:min(len(base), 36)], "-"), used[base])
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("the roster has errors: %w", errors.Join(errs...))
	}
	if len(out) == 0 {
		return nil, errors.New("the roster lists nobody: give one attendee per line (name,email), or use --attendees N")
	}
	if len(out) > MaxAttendees {
		return nil, fmt.Errorf("the roster lists %d attendees; one lab takes at most %d: split the room into several labs", len(out), MaxAttendees)
	}
	return out, nil
}

// foldLatin drops the accents of the Latin letters rosters usually hold (a table rather than
// Unicode normalisation, which would pull in a module for one line).
func foldLatin(r rune) string {
	const from = "àáâãäåāăąçćčďèéêëēĕėęěìíîïīĭįľłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž"
	const to = "aaaaaaaaacccdeeeeeeeeeiiiiiiillnnnoooooooorrssstuuuuuuuuyyzzz"
	if i := strings.IndexRune(from, r); i >= 0 {
		return string([]rune(to)[len([]rune(from[:i]))])
	}
	switch r {
	case 'ß':
		return "ss"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'đ', 'ð':
		return "d"
	case 'þ':
		return "th"
	}
	return string(r)
}

// Slug makes an attendee id from a name: accents dropped, lower-case, words joined by '-',
// at most 40 characters; "attendee" when nothing is left.
func Slug(name string) string {
	var b strings.Builder
	for _, r := range name {
		b.WriteString(foldLatin(unicode.ToLower(r)))
	}
	s := strings.Trim(nonSlug.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		return "attendee"
	}
	return s
}
