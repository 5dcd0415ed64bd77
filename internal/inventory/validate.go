package inventory

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/deployments"
)

var (
	namePattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	platformPattern = regexp.MustCompile(`^[a-z0-9_]+-[a-z0-9_]+$`)
	publicKeyRegexp = regexp.MustCompile(`^[^:\s]+:[A-Za-z0-9+/]+=*$`)
)

// storeSchemes are the nix store URL schemes a store may use.
var storeSchemes = map[string]bool{
	"ssh": true, "ssh-ng": true, "http": true, "https": true, "s3": true,
	"file": true, "local": true, "daemon": true, "unix": true,
}

// Validate checks what Nix did not: references between systems, stores and
// instances, store URLs and keys, and the generated ssh_config. Every error
// names the hive file and the attribute path; all problems are reported at
// once, joined.
func (inv *Inventory) Validate() error {
	file := filepath.Base(inv.File)
	if file == "." || file == "" {
		file = "hive.nix"
	}
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", file, where, fmt.Sprintf(format, args...)))
	}
	if inv.Flake == nil && (len(inv.Paths) == 0 || !strings.HasPrefix(inv.Paths[0], "deployment=")) {
		bad("paths", "the first include path must be deployment=<dir>; evaluate the hive with nix-hive")
	}
	for _, name := range sortedKeys(inv.Systems) {
		s := inv.Systems[name]
		where := "systems." + attrName(name)
		if !namePattern.MatchString(name) {
			bad(where, "the name must match [A-Za-z0-9][A-Za-z0-9._-]*")
		}
		if !platformPattern.MatchString(s.System) {
			bad(where+".system", "%q is not a platform such as x86_64-linux or aarch64-linux", s.System)
		}
	}
	for _, name := range sortedKeys(inv.Stores) {
		s := inv.Stores[name]
		where := "stores." + attrName(name)
		if !namePattern.MatchString(name) {
			bad(where, "the name must match [A-Za-z0-9][A-Za-z0-9._-]*")
		}
		if err := checkStoreURL(s.URL); err != nil {
			bad(where+".url", "%v", err)
		}
		if err := checkStoreURL(s.Substituter); err != nil {
			bad(where+".substituter", "%v", err)
		}
		if s.PublicKey != "" && !publicKeyRegexp.MatchString(s.PublicKey) {
			bad(where+".publicKey", "%q is not a nix public key (name:base64, as `nix key convert-secret-to-public` prints)", s.PublicKey)
		}
		inv.checkStore(name, bad)
	}
	for _, name := range inv.InstanceNames() {
		inv.checkInstance(name, bad)
	}
	inv.validateRollout(bad)
	return errors.Join(errs...)
}

// checkInstance checks one instance's name, references, GitHub environment
// name and URL, reporting each problem to bad.
func (inv *Inventory) checkInstance(name string, bad func(where, format string, args ...any)) {
	i := inv.Instances[name]
	where := "instances." + attrName(name)
	if !namePattern.MatchString(name) {
		bad(where, "the name must match [A-Za-z0-9][A-Za-z0-9._-]*")
	}
	if _, ok := inv.Systems[i.System]; !ok {
		bad(where+".system", "unknown system %q; the systems are: %s", i.System, strings.Join(sortedKeys(inv.Systems), ", "))
	}
	if _, ok := inv.Stores[i.Store]; i.Store != "" && !ok {
		bad(where+".store", "unknown store %q; the stores are: %s", i.Store, strings.Join(sortedKeys(inv.Stores), ", "))
	}
	if deployments.CheckEnvironmentName(i.Environment) != nil {
		bad(where+".environment", "must be 1 to %d characters (a GitHub environment name)", deployments.MaxEnvironmentName)
	}
	if i.URL != "" {
		if err := deployments.CheckURL(i.URL); err != nil {
			bad(where+".url", "%v", err)
		}
	}
}

// checkStoreURL rejects store URLs nix would not accept.
func checkStoreURL(s string) error {
	if s == "" {
		return errors.New("empty; set a nix store URL such as ssh-ng://cache-eu or https://cache.example.com")
	}
	if strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("%q contains white space", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if !storeSchemes[u.Scheme] {
		return fmt.Errorf("%q: nix knows no store type %q; use ssh://, ssh-ng://, http(s)://, s3://, file://", s, u.Scheme)
	}
	switch u.Scheme {
	case "ssh", "ssh-ng", "http", "https", "s3":
		if u.Host == "" {
			return fmt.Errorf("%q names no host", s)
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("%q names no directory", s)
		}
	}
	return nil
}

// attrName renders name as it appears in an attribute path: quoted when it
// is not a plain identifier.
func attrName(name string) string {
	if namePattern.MatchString(name) {
		return name
	}
	return strconv.Quote(name)
}
