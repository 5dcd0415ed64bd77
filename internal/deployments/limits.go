package deployments

import (
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"
)

// GitHub's limits on what nix-hive writes, in characters (runes), as
// GitHub counts them.
const (
	// MaxDescription is the longest description of a deployment status.
	MaxDescription = 140
	// MaxEnvironmentName is the longest environment name.
	MaxEnvironmentName = 255
)

// Clip cuts s to at most n characters, ending in "…" when cut.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// CheckEnvironmentName fails for a name GitHub does not take as an
// environment name: an empty one, or one longer than MaxEnvironmentName
// characters.
func CheckEnvironmentName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return errors.New("the environment name is empty")
	case n > MaxEnvironmentName:
		return fmt.Errorf("the environment name is %d characters, longer than GitHub's %d", n, MaxEnvironmentName)
	}
	return nil
}

// CheckURL fails unless s is an http or https URL with a host, as GitHub
// wants for an environment URL, a log URL or the API's URL. The error
// reads "%q is not an http(s) URL".
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
