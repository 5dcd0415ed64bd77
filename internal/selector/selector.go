// Package selector parses and applies --on selectors: a comma-separated
// union of instance names, globs (web-*) and tags (@frontend), the
// convention Colmena users know.
package selector

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Term is one element of a selector.
type Term struct {
	// Text is the term as written.
	Text string
	// Tag is set for @tag terms (without the @).
	Tag string
	// Glob is set for name and glob terms.
	Glob string
}

// Selector is a parsed --on value. The zero Selector selects everything.
type Selector struct {
	Terms []Term
}

var termPattern = regexp.MustCompile(`^[A-Za-z0-9._*?\[\]-]+$`)

// Parse parses a --on value. An empty value selects every instance.
func Parse(s string) (Selector, error) {
	var sel Selector
	if strings.TrimSpace(s) == "" {
		return sel, nil
	}
	for _, raw := range strings.Split(s, ",") {
		text := strings.TrimSpace(raw)
		if text == "" {
			return Selector{}, fmt.Errorf("--on %q: empty term; separate names, globs and @tags with single commas", s)
		}
		t := Term{Text: text}
		body := text
		if strings.HasPrefix(text, "@") {
			body = text[1:]
			t.Tag = body
		} else {
			t.Glob = body
		}
		if body == "" || !termPattern.MatchString(body) {
			return Selector{}, fmt.Errorf("--on %q: %q is not a name, glob (web-*) or @tag", s, text)
		}
		if _, err := path.Match(body, ""); err != nil {
			return Selector{}, fmt.Errorf("--on %q: bad glob %q: %w", s, text, err)
		}
		sel.Terms = append(sel.Terms, t)
	}
	return sel, nil
}

// ErrNoMatch is wrapped by the error Select returns when a term selects no
// instance.
var ErrNoMatch = errors.New("selects no instance")

// Select returns the sorted names selected among names; tags gives each
// name's tags. Every term must select at least one instance, so a typo
// fails instead of silently deploying less.
func (s Selector) Select(names []string, tags func(name string) []string) ([]string, error) {
	if len(s.Terms) == 0 {
		out := append([]string(nil), names...)
		sort.Strings(out)
		return out, nil
	}
	chosen := map[string]bool{}
	var errs []error
	for _, t := range s.Terms {
		n := 0
		for _, name := range names {
			if t.matches(name, tags) {
				chosen[name] = true
				n++
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("--on term %q %w; check the instance names and tags with `nix-hive inventory`", t.Text, ErrNoMatch))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(chosen))
	for name := range chosen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

func (t Term) matches(name string, tags func(string) []string) bool {
	if t.Tag != "" {
		for _, tag := range tags(name) {
			if ok, _ := path.Match(t.Tag, tag); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(t.Glob, name)
	return ok
}
