package action

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultEnvironment is the default environment input: one GitHub
// environment per instance, grouped by the instance's environment, so that
// GitHub's auto_inactive retires only the same host's earlier deployment.
const DefaultEnvironment = "{environment}/{instance}"

// placeholders are the names a Template may use.
func placeholders() []string {
	return []string{"instance", "environment", "system"}
}

// Template renders the GitHub environment name of an instance from the
// environment input: {instance}, {environment} (the instance's environment
// in hive.nix) and {system} are replaced, everything else is kept.
type Template struct{ text string }

// ParseTemplate checks an environment input; "" means DefaultEnvironment.
func ParseTemplate(s string) (Template, error) {
	if s == "" {
		s = DefaultEnvironment
	}
	rest := s
	for {
		open, close := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
		switch {
		case open < 0 && close < 0:
			return Template{text: s}, nil
		case open < 0 || (close >= 0 && close < open):
			return Template{}, fmt.Errorf("%q has a } without a {; use {instance}, {environment} or {system}", s)
		case close < 0:
			return Template{}, fmt.Errorf("%q has a { without a }; use {instance}, {environment} or {system}", s)
		}
		name := rest[open+1 : close]
		if !slices.Contains(placeholders(), name) {
			return Template{}, fmt.Errorf("%q uses the unknown placeholder {%s}; use {instance}, {environment} or {system}", s, name)
		}
		rest = rest[close+1:]
	}
}

// Render returns the environment name of an instance.
func (t Template) Render(instance, environment, system string) string {
	return strings.NewReplacer("{instance}", instance, "{environment}", environment, "{system}", system).Replace(t.text)
}

// String returns the template as written.
func (t Template) String() string { return t.text }
