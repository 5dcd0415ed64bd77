package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrUnpinned is wrapped by Unpinned's errors: a system's <nixpkgs> would
// come from nowhere, or from whatever nixpkgs the machine carries.
var ErrUnpinned = errors.New("<nixpkgs> is not pinned")

// Unpinned checks that every system of inv finds <nixpkgs> (which
// hive/system.nix imports as <nixpkgs/nixos>) on its include path or on
// nixPath, the value of NIX_PATH that nix will see ("" when it is empty
// or unset). An entry provides it when it is "nixpkgs=..." (or
// "nixpkgs/...=...", which Nix matches the same way), or when it is a
// plain directory holding a nixpkgs file or directory. It returns nil or
// one error per unpinned system, each wrapping ErrUnpinned and naming the
// hive file, the system and how to pin it. Pass inv.Only(selected) to
// check only the systems a run builds. A hive from a flake has no include
// paths: its flake.lock pins its nixpkgs.
func Unpinned(inv *Inventory, nixPath string) error {
	if inv.Flake != nil {
		return nil // a flake's inputs are pinned by its flake.lock
	}
	file := filepath.Base(inv.File)
	if file == "." || file == "" {
		file = "hive.nix"
	}
	if slices.ContainsFunc(SplitNixPath(nixPath), providesNixpkgs) {
		return nil
	}
	from := "NIX_PATH is empty"
	if strings.TrimSpace(nixPath) != "" {
		from = "NIX_PATH has no nixpkgs either"
	}
	var errs []error
	for _, name := range sortedKeys(inv.Systems) {
		s := inv.Systems[name]
		if slices.ContainsFunc(s.Path, providesNixpkgs) {
			continue
		}
		where := "systems." + attrName(name) + ".path"
		fix := fmt.Sprintf("add it to paths in %s (or to %s)", file, where)
		if !slices.Equal(s.Path, inv.Paths) {
			fix = fmt.Sprintf("add it to %s, which replaces paths for this system", where)
		}
		errs = append(errs, fmt.Errorf("%s: %s: %w: no include path provides it and %s; pin a nixpkgs "+
			`with an entry such as "nixpkgs=${fetchTarball { url = "https://github.com/NixOS/nixpkgs/archive/COMMIT.tar.gz"; sha256 = "..."; }}" `+
			`or "nixpkgs=${toString ./nixpkgs}": %s`, file, where, ErrUnpinned, from, fix))
	}
	return errors.Join(errs...)
}

// providesNixpkgs says whether one include path entry ("prefix=path" or a
// plain path) resolves <nixpkgs/nixos>.
func providesNixpkgs(entry string) bool {
	if prefix, _, ok := strings.Cut(entry, "="); ok {
		return prefix == "nixpkgs" || strings.HasPrefix(prefix, "nixpkgs/")
	}
	if !filepath.IsAbs(entry) {
		return false // a URL or a relative path: nothing to look into here
	}
	_, err := os.Stat(filepath.Join(entry, "nixpkgs"))
	return err == nil
}

// SplitNixPath splits a NIX_PATH value into its entries: they are separated
// by ':', except the ':' of a URL ("https://...") or of "channel:NAME" and
// "flake:NAME".
func SplitNixPath(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ":") {
		if n := len(out); n > 0 && (strings.HasPrefix(part, "//") || schemeOnly(out[n-1])) {
			out[n-1] += ":" + part
			continue
		}
		out = append(out, part)
	}
	return slices.DeleteFunc(out, func(e string) bool { return strings.TrimSpace(e) == "" })
}

// schemeOnly says whether a NIX_PATH piece ends in a scheme whose value
// follows a ':' without "//": "channel" or "nixpkgs=channel", "flake".
func schemeOnly(piece string) bool {
	_, value, ok := strings.Cut(piece, "=")
	if !ok {
		value = piece
	}
	return value == "channel" || value == "flake"
}
