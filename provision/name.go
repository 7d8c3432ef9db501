package provision

import (
	"fmt"
	"regexp"
)

// nameRE is what a name given to the tool may be (init's app name, a workshop lab's name):
// both go into the app's uniqueName (lower-cased: names differing only in case would be the
// same app) and into its tags, and a lab's name with the longest attendee id still fits
// uniqueName's 100 characters.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ValidateName checks a name: 1 to 32 lower-case letters, digits, '.', '_' or '-', starting
// with a letter or digit. init's --name and lab's --name follow this one rule.
func ValidateName(s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("the name %q must be 1-32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. build-2026 (it becomes part of the app's unique name)", s)
	}
	return nil
}
