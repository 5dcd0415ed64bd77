package inventory

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// checkStore checks what a store needs beyond well-formed URLs: a push URL
// nix can sign paths in after the copy, and a substituter the instances
// can reach without nix-hive's generated ssh config.
func (inv *Inventory) checkStore(name string, bad func(where, format string, args ...any)) {
	s := inv.Stores[name]
	where := "stores." + attrName(name)
	if u, err := url.Parse(s.URL); err == nil && u.Scheme == "ssh" {
		bad(where+".url", "%q: nix cannot add signatures to an ssh:// store (nix-store --serve), so paths it already holds would stay unsigned; push over ssh-ng:// (nix-daemon --stdio on the store), the same host", s.URL)
	}
	if alias := inv.sshAlias(s.Substituter); alias != "" {
		hint := "set substituter"
		if s.Substituter == s.URL {
			hint = "substituter defaults to url; set it"
		}
		bad(where+".substituter", "%q names %s, a host of nix-hive's generated ssh config, which the instances do not have; %s to the store as the instances reach it (ssh://nix-ssh@10.0.0.5, http://10.0.0.5:8080)", s.Substituter, alias, hint)
	}
}

// sshAlias returns the host of an ssh:// or ssh-ng:// store URL when it is
// a Host of the generated ssh config (an instance or an sshHosts entry),
// else "".
func (inv *Inventory) sshAlias(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil || (u.Scheme != "ssh" && u.Scheme != "ssh-ng") {
		return ""
	}
	host := u.Hostname()
	if _, ok := inv.SSHHosts[host]; ok {
		return host
	}
	if _, ok := inv.Instances[host]; ok {
		return host
	}
	return ""
}

// CheckSigning checks, for every store of the inventory (after Only: the
// stores the selected instances substitute from), that its paths will be
// signed with a key its instances trust: the store has a publicKey, a
// signing key is given (signingPublic is its public half, "" for none), and
// the two match. Every error names the store; all are joined.
func (inv *Inventory) CheckSigning(signingPublic string) error {
	var errs []error
	for _, name := range sortedKeys(inv.Stores) {
		s := inv.Stores[name]
		who := fmt.Sprintf("store %s (%s, for %s)", name, s.URL, strings.Join(inv.instancesOf(name), ", "))
		switch {
		case s.PublicKey == "":
			errs = append(errs, fmt.Errorf("%s: stores.%s.publicKey is not set: its instances accept only paths signed by a key they trust; set it to the public half of the signing key (nix key convert-secret-to-public < KEY, or the second file of nix-store --generate-binary-cache-key)", who, attrName(name)))
		case signingPublic == "":
			errs = append(errs, fmt.Errorf("%s: no signing key: its instances accept only paths signed by %s; give its secret key with --signing-key FILE (the action's signing-key input)", who, keyName(s.PublicKey)))
		case signingPublic != s.PublicKey:
			errs = append(errs, fmt.Errorf("%s: the signing key's public half %s does not match stores.%s.publicKey %s: sign with the secret key of %s, or, having rotated the key, set publicKey to %s", who, signingPublic, attrName(name), s.PublicKey, s.PublicKey, signingPublic))
		}
	}
	return errors.Join(errs...)
}

// instancesOf returns the names of the instances that use store.
func (inv *Inventory) instancesOf(store string) []string {
	var out []string
	for _, n := range inv.InstanceNames() {
		if inv.Instances[n].Store == store {
			out = append(out, n)
		}
	}
	return out
}

// keyName returns the name part of a nix key ("cache-eu" of
// "cache-eu:AAAA...").
func keyName(key string) string {
	name, _, _ := strings.Cut(key, ":")
	return "the key " + name
}
