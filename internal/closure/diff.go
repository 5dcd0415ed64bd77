package closure

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Kinds of change in a Diff.
const (
	// Added: a package the running closure does not have.
	Added = "added"
	// Removed: a package only the running closure has.
	Removed = "removed"
	// Upgraded: a package whose versions differ (nix's "1.0 → 1.1").
	Upgraded = "changed-version"
	// Rebuilt: a package with the same versions but other store paths (a
	// changed configuration file, a new toplevel).
	Rebuilt = "rebuilt"
)

// Change is one package's change between two closures.
type Change struct {
	// Name is the package name.
	Name string `json:"name"`
	// Kind is Added, Removed, Upgraded or Rebuilt.
	Kind string `json:"change"`
	// Before and After are the versions only the running, respectively
	// the target, closure has ("" is a package without a version).
	Before []string `json:"before,omitempty"`
	After  []string `json:"after,omitempty"`
	// SizeDelta is the change of the package's total NAR size in bytes,
	// nil when a size on either side is unknown.
	SizeDelta *int64 `json:"sizeDelta,omitempty"`
	// RemovedPaths and AddedPaths are the package's store paths only in
	// the running, respectively the target, closure.
	RemovedPaths []string `json:"removedPaths,omitempty"`
	AddedPaths   []string `json:"addedPaths,omitempty"`
}

// Diff is what changes between a running closure and a target closure.
type Diff struct {
	// Changes lists each package that changes, by name.
	Changes []Change `json:"changes"`
	// SizeDelta is the change of the whole closure's NAR size, nil when
	// a size is unknown.
	SizeDelta *int64 `json:"sizeDelta,omitempty"`
}

// group is one side's paths of a package: versions and paths.
type group struct {
	versions map[string]bool
	paths    map[string]int64
}

func groupByName(c Closure) map[string]*group {
	out := map[string]*group{}
	for _, p := range c {
		pkg := PackageOf(p.Path)
		g := out[pkg.Name]
		if g == nil {
			g = &group{versions: map[string]bool{}, paths: map[string]int64{}}
			out[pkg.Name] = g
		}
		g.versions[pkg.Version] = true
		g.paths[p.Path] = p.Size
	}
	return out
}

// Compare diffs the running closure before against the target closure
// after, like `nix store diff-closures`, and also lists every package
// whose store paths differ even at the same version.
func Compare(before, after Closure) Diff {
	b, a := groupByName(before), groupByName(after)
	names := slices.Sorted(maps.Keys(b))
	for n := range a {
		if _, ok := b[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	d := Diff{Changes: []Change{}, SizeDelta: sizeDelta(before, after)}
	for _, n := range names {
		if c, ok := compareGroup(n, b[n], a[n]); ok {
			d.Changes = append(d.Changes, c)
		}
	}
	return d
}

// compareGroup compares one package's paths; ok is false when they are
// the same.
func compareGroup(name string, before, after *group) (Change, bool) {
	empty := &group{versions: map[string]bool{}, paths: map[string]int64{}}
	before, after = cmpOr(before, empty), cmpOr(after, empty)
	c := Change{Name: name,
		Before: onlyIn(before.versions, after.versions), After: onlyIn(after.versions, before.versions),
		RemovedPaths: onlyIn(before.paths, after.paths), AddedPaths: onlyIn(after.paths, before.paths),
	}
	if len(c.RemovedPaths) == 0 && len(c.AddedPaths) == 0 {
		return c, false
	}
	switch {
	case len(before.paths) == 0:
		c.Kind = Added
	case len(after.paths) == 0:
		c.Kind = Removed
	case len(c.Before) > 0 || len(c.After) > 0:
		c.Kind = Upgraded
	default:
		c.Kind = Rebuilt
	}
	c.SizeDelta = groupDelta(before.paths, after.paths)
	return c, true
}

func cmpOr(g, def *group) *group {
	if g == nil {
		return def
	}
	return g
}

// onlyIn lists the keys of m not in other, sorted.
func onlyIn[V any](m, other map[string]V) []string {
	var out []string
	for k := range m {
		if _, ok := other[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// groupDelta is the size change of one package, nil when a size is unknown.
func groupDelta(before, after map[string]int64) *int64 {
	var sum int64
	for _, side := range []struct {
		paths map[string]int64
		sign  int64
	}{{before, -1}, {after, 1}} {
		for _, s := range side.paths {
			if s < 0 {
				return nil
			}
			sum += side.sign * s
		}
	}
	return &sum
}

func sizeDelta(before, after Closure) *int64 {
	toMap := func(c Closure) map[string]int64 {
		m := make(map[string]int64, len(c))
		for _, p := range c {
			m[p.Path] = p.Size
		}
		return m
	}
	return groupDelta(toMap(before), toMap(after))
}

// Write prints the diff for a person, one line per package as
// `nix store diff-closures` does ("hello: 2.10 → 2.12, +12.3 KiB"), with
// "ε" for an empty version and "∅" for none, each followed by its removed
// (-) and added (+) store paths.
func (d Diff) Write(w io.Writer, indent string) {
	for _, c := range d.Changes {
		var items []string
		if c.Kind != Rebuilt {
			items = append(items, versions(c.Before)+" → "+versions(c.After))
		} else {
			items = append(items, "rebuilt")
		}
		if c.SizeDelta != nil && *c.SizeDelta != 0 {
			items = append(items, Size(*c.SizeDelta))
		}
		fmt.Fprintf(w, "%s%s: %s\n", indent, c.Name, strings.Join(items, ", "))
		for _, p := range c.RemovedPaths {
			fmt.Fprintf(w, "%s  - %s\n", indent, p)
		}
		for _, p := range c.AddedPaths {
			fmt.Fprintf(w, "%s  + %s\n", indent, p)
		}
	}
	if d.SizeDelta != nil {
		fmt.Fprintf(w, "%sclosure size: %s\n", indent, Size(*d.SizeDelta))
	}
}

// versions renders a version set as diff-closures does.
func versions(vs []string) string {
	if len(vs) == 0 {
		return "∅"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v
		if v == "" {
			out[i] = "ε"
		}
	}
	return strings.Join(out, ", ")
}

// Size renders a size delta with its sign: bytes below 1 KiB, else KiB
// (as diff-closures) or MiB.
func Size(delta int64) string {
	abs := max(delta, -delta)
	switch {
	case abs < 1024:
		return fmt.Sprintf("%+d B", delta)
	case abs < 1024*1024:
		return fmt.Sprintf("%+.1f KiB", float64(delta)/1024)
	}
	return fmt.Sprintf("%+.1f MiB", float64(delta)/(1024*1024))
}
