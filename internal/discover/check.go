package discover

import (
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// namePattern is the pattern of nix-hive's instance, system and store
// names, which discovered names and tags must match too.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidName reports whether s may name an instance, a system, a store or a
// tag: it matches [A-Za-z0-9][A-Za-z0-9._-]* and so can carry no space,
// quote, newline or leading '-' into an ssh config or a command line.
func ValidName(s string) bool { return len(s) <= 255 && namePattern.MatchString(s) }

// ValidAddress reports whether s is an IP address (without a zone) or a
// DNS name: dot-separated labels of letters, digits and hyphens, each 1 to
// 63 characters long and neither starting nor ending with a hyphen, 253
// characters at most.
func ValidAddress(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Zone() == ""
	}
	return validDNSName(s)
}

func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ValidURL reports whether s is an http(s) URL with a host, and without
// spaces, quotes or control characters.
func ValidURL(s string) bool {
	if s == "" || len(s) > 2048 || hasControl(s) || strings.ContainsAny(s, " \"'<>\\`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// ValidEnvironment reports whether s can name a GitHub environment: 1 to
// 255 characters, none of them a control character.
func ValidEnvironment(s string) bool {
	return s != "" && len([]rune(s)) <= 255 && !hasControl(s)
}

// hasControl reports whether s holds a control character (newline,
// carriage return, tab, NUL, ...) or is not valid UTF-8.
func hasControl(s string) bool {
	for _, c := range s {
		if unicode.IsControl(c) || c == unicode.ReplacementChar || c == '\u2028' || c == '\u2029' {
			return true
		}
	}
	return false
}
