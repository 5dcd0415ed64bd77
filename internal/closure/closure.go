// Package closure reads the closure of a store path (every path it
// references, with its NAR size) and compares two closures the way
// `nix store diff-closures` does: per package name, the versions added and
// removed and the size delta, plus the store paths that differ, so that a
// rebuilt package of the same version (a changed /etc, a new toplevel) is
// named too. Reading and parsing are separate: the parsers and the diff are
// pure functions, tested on recorded output of real Nix.
package closure

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Path is one store path of a closure.
type Path struct {
	// Path is the store path.
	Path string `json:"path"`
	// Size is its NAR size in bytes; -1 when unknown.
	Size int64 `json:"size"`
}

// Closure is a store path's closure: every path it references, itself
// included, sorted by path.
type Closure []Path

// ErrBadOutput is wrapped by Parse's error when the output is not what the
// query prints.
var ErrBadOutput = errors.New("unexpected output of nix-store --query")

// QueryScript is the constant shell text that prints the closure of the
// store path $1: its paths (`nix-store --query --requisites`), one a line,
// an empty line, then each one's NAR size in the same order
// (`nix-store --query --size`). These nix-store forms and their output are
// the same on Nix 2.8 and current Nix, need no experimental feature, and
// read the store without changing it (no root needed).
const QueryScript = `set -e; paths=$(nix-store --query --requisites "$1"); printf '%s\n\n' "$paths"; nix-store --query --size $paths`

// Parse reads QueryScript's output.
func Parse(out []byte) (Closure, error) {
	text := strings.TrimRight(string(out), "\n")
	pathsText, sizesText, ok := strings.Cut(text, "\n\n")
	if !ok {
		return nil, fmt.Errorf("%w: no empty line between the paths and the sizes", ErrBadOutput)
	}
	paths, sizes := strings.Fields(pathsText), strings.Fields(sizesText)
	if len(paths) != len(sizes) {
		return nil, fmt.Errorf("%w: %d paths but %d sizes", ErrBadOutput, len(paths), len(sizes))
	}
	c := make(Closure, 0, len(paths))
	for i, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("%w: %q is not a store path", ErrBadOutput, p)
		}
		n, err := strconv.ParseInt(sizes[i], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: size %q of %s is not a byte count", ErrBadOutput, sizes[i], p)
		}
		c = append(c, Path{Path: p, Size: n})
	}
	slices.SortFunc(c, func(a, b Path) int { return strings.Compare(a.Path, b.Path) })
	return c, nil
}

// Package is a store path's name split as Nix splits it: a package name
// and a version (DrvName), after the output name (-bin, -man, -lib64, ...)
// is taken off as `nix store diff-closures` does.
type Package struct {
	Name, Version string
}

// outputSuffix is diff-closures' rule for an output name at the end of a
// store path's name. It is ambiguous by nature ("-unstable" looks like an
// output), as Nix says.
var outputSuffix = regexp.MustCompile(`^(.*)-([a-z]+|lib32|lib64)$`)

// PackageOf splits a store path's name into package name and version.
func PackageOf(storePath string) Package {
	name := path.Base(storePath)
	if _, rest, ok := strings.Cut(name, "-"); ok && len(name) > 33 && name[32] == '-' {
		name = rest
	}
	if m := outputSuffix.FindStringSubmatch(name); m != nil {
		name = m[1]
	}
	for i := 0; i+1 < len(name); i++ {
		if name[i] == '-' && !isAlpha(name[i+1]) {
			return Package{Name: name[:i], Version: name[i+1:]}
		}
	}
	return Package{Name: name}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
