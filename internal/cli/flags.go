package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// This file holds what the commands' flags share, so that a flag means the same everywhere:
// the --yes rule, the secret lifetime's form, the name rule, the values completion offers and
// the answer to an unknown command.

// needYes is the one rule of every command that changes a tenant without asking: with
// --no-input nothing can ask, so --yes must say yes. A dry run changes nothing and needs
// neither. what says what the command would do, e.g. "init applies a plan".
func needYes(g *GlobalOptions, yes, dryRun bool, what string) error {
	if g.NoInput && !yes && !dryRun {
		return usagef("%s: with --no-input it needs --yes to go ahead without asking", what)
	}
	return nil
}

// checkName is the one rule for a name given with --name (init's app name, a lab's name):
// both go into the app's uniqueName and tags.
func checkName(name string) error {
	if err := provision.ValidateName(name); err != nil {
		return usagef("--name: %w", err)
	}
	return nil
}

// lifetime is a --secret-lifetime: days ("30d") or a Go duration ("720h"). Zero prints as
// nothing, so that a command whose default depends on the credential says it in its help.
type lifetime time.Duration

func (l *lifetime) String() string {
	d := time.Duration(*l)
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

func (l *lifetime) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return fmt.Errorf("%q: give whole days (30d) or hours (720h)", s)
		}
		*l = lifetime(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: give days (30d) or hours (720h)", s)
	}
	*l = lifetime(d)
	return nil
}

func (l *lifetime) Type() string { return "lifetime" }

// maxLifetimeDays is provision.MaxSecretLifetime in days, for messages.
var maxLifetimeDays = int(provision.MaxSecretLifetime / (24 * time.Hour))

// checkLifetime checks a --secret-lifetime: from 1 hour to provision.MaxSecretLifetime, or 0
// (the default) where zeroOK.
func checkLifetime(l lifetime, zeroOK bool) error {
	d := time.Duration(l)
	if (d == 0 && zeroOK) || (d >= time.Hour && d <= provision.MaxSecretLifetime) {
		return nil
	}
	return usagef("--secret-lifetime %s: give a lifetime from 1h to %dd, in days (30d) or hours (720h)", l.String(), maxLifetimeDays)
}

// The values completion offers, per flag.
var completions = map[string]func() []string{
	"sample":      func() []string { return samples.IDs() },
	"tenant-type": func() []string { return []string{string(samples.Workforce), string(samples.External)} },
	"credential":  func() []string { return []string{string(samples.Secret), string(samples.Certificate)} },
	"cloud":       func() []string { return auth.CloudNames() },
	"auth":        func() []string { return []string{"auto", "browser", "device-code", "azure-cli", "environment"} },
}

// addCompletions registers the value completion of every flag in completions, on every
// command of the tree that has it.
func addCompletions(cmd *cobra.Command) {
	for name, values := range completions {
		if f := cmd.LocalFlags().Lookup(name); f != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return values(), cobra.ShellCompDirectiveNoFileComp
			})
		}
	}
	for _, c := range cmd.Commands() {
		addCompletions(c)
	}
}

// noArgsOrSuggest is cobra.NoArgs whose error is a usage error (exit code 2) that suggests
// the nearest command: an argument where none is taken is most often a mistyped command.
func noArgsOrSuggest(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, set only where cobra suggests itself
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += ": did you mean '" + cmd.CommandPath() + " " + strings.Join(s, "' or '"+cmd.CommandPath()+" ") + "'?"
	}
	if cmd.HasAvailableSubCommands() {
		msg += fmt.Sprintf(" Run '%s --help' for its commands", cmd.CommandPath())
	} else {
		msg += fmt.Sprintf(" (it takes no arguments: run '%s --help' for its flags)", cmd.CommandPath())
	}
	return usageError{fmt.Errorf("%s", msg)}
}

// plural is "1 change", "2 changes": n with the word that fits it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// thePlural is "the app registration", "the 2 app registrations".
func thePlural(n int, one, many string) string {
	if n == 1 {
		return "the " + one
	}
	return "the " + plural(n, one, many)
}

// noneOf is "the 1 tagged app registration is not", "none of the 2 tagged app registrations is".
func noneOf(n int, one string) string {
	if n == 1 {
		return "the one " + one + " is not"
	}
	return "none of the " + strconv.Itoa(n) + " " + one + "s is"
}

// withArticle is "a workforce", "an external": a word with its indefinite article.
func withArticle(w string) string {
	if w != "" && strings.ContainsRune("aeiouAEIOU", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}
