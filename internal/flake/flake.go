// Package flake finds a hive in a flake and locks it: it tells a flake
// reference (a directory with flake.nix and no hive.nix, or DIR#ATTR) from a
// hive.nix, reads the flake's locked source (nix flake metadata) and checks
// what makes a deployment from it reproducible before any host is touched:
// a flake.lock, a clean git tree, inputs that can be fetched.
package flake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultAttr is the flake output a hive is read from when the reference
// names none.
const DefaultAttr = "nixHive"

// Errors a caller may branch on; each message wraps one of them.
var (
	// ErrNoLock: the flake has no flake.lock.
	ErrNoLock = errors.New("no flake.lock")
	// ErrDirty: the flake's git tree has uncommitted changes.
	ErrDirty = errors.New("the git tree is dirty")
	// ErrFetch: an input of the flake cannot be fetched.
	ErrFetch = errors.New("an input of the flake cannot be fetched")
)

// Ref is a hive in a flake: the flake's directory and the output holding
// the hive.
type Ref struct {
	// Dir is the flake's directory, absolute.
	Dir string `json:"dir"`
	// Attr is the output holding the hive ("nixHive", or a dotted path).
	Attr string `json:"attr"`
}

// String returns the reference as --hive takes it: DIR#ATTR.
func (r Ref) String() string { return r.Dir + "#" + r.Attr }

var attrPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$`)

// Parse tells whether the --hive argument names a hive in a flake: DIR#ATTR,
// a directory with a flake.nix and no hive.nix, or a flake.nix (attribute
// nixHive for both). It
// returns ok false for anything else (a hive.nix or its directory), which
// the caller resolves as before.
func Parse(arg string) (ref Ref, ok bool, err error) {
	dir, attr, explicit := strings.Cut(arg, "#")
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Ref{}, false, fmt.Errorf("resolve --hive %s: %w", arg, err)
	}
	if !explicit && filepath.Base(abs) == "flake.nix" && isFile(abs) {
		abs = filepath.Dir(abs) // the flake.nix itself stands for its flake
		explicit, attr = true, DefaultAttr
	}
	hasFlake := isFile(filepath.Join(abs, "flake.nix"))
	if !explicit {
		if !hasFlake || isFile(filepath.Join(abs, "hive.nix")) {
			return Ref{}, false, nil
		}
		return Ref{Dir: abs, Attr: DefaultAttr}, true, nil
	}
	if !hasFlake {
		return Ref{}, false, fmt.Errorf("--hive %s: %s has no flake.nix; DIR#ATTR names an output of the flake in DIR", arg, abs)
	}
	if attr == "" {
		attr = DefaultAttr
	}
	if !attrPattern.MatchString(attr) {
		return Ref{}, false, fmt.Errorf("--hive %s: %q is not an attribute path of the flake's outputs (such as nixHive or hives.prod)", arg, attr)
	}
	return Ref{Dir: abs, Attr: attr}, true, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
