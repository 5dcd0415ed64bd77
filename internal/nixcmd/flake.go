package nixcmd

import (
	"strings"
)

// flakes enables the nix-command CLI and flakes for one call: Nix 2.8 and
// current Nix both need them asked for.
func flakes() []string {
	return []string{"--extra-experimental-features", "nix-command flakes"}
}

// lockFlags keep nix from writing or updating a flake's lock file: inputs
// come from flake.lock as it is, or not at all.
func lockFlags() []string { return []string{"--no-write-lock-file", "--no-update-lock-file"} }

// FlakeMetadata returns the command that prints a flake's locked source
// (url, locked rev and narHash) as JSON, without fetching its inputs.
func FlakeMetadata(dir string) []string {
	return append(append(append([]string{"nix"}, flakes()...), "flake", "metadata", "--json"), append(lockFlags(), dir)...)
}

// FlakeArchive returns the command that fetches every input of a flake
// into the local store (and prints their paths as JSON), so that an input
// that cannot be fetched is an error before anything else happens.
func FlakeArchive(url string) []string {
	return append(append(append([]string{"nix"}, flakes()...), "flake", "archive", "--json"), append(lockFlags(), url)...)
}

// HashPath returns the command that prints a directory's NAR hash (SRI),
// with which pure evaluation may read it through builtins.fetchTree.
func HashPath(dir string) []string {
	return append(append([]string{"nix"}, experimental()...), "hash", "path", dir)
}

// CurrentSystem returns the command that prints the runner's platform as
// a JSON string; pure evaluation has no builtins.currentSystem.
func CurrentSystem() []string {
	return []string{"nix-instantiate", "--eval", "--json", "--expr", "builtins.currentSystem"}
}

// FlakeExprs are nix-hive's expressions as pure evaluation reads them: the
// directory and its NAR hash.
type FlakeExprs struct {
	// Dir holds hive/*.nix.
	Dir string
	// NarHash is Dir's NAR hash (HashPath).
	NarHash string
}

// importExpr is the expression that imports file from the expressions,
// fetched into the store by their hash (the only way pure evaluation lets
// a file outside the flake in).
func (e FlakeExprs) importExpr(file string) string {
	return `import ((builtins.fetchTree { type = "path"; path = ` + nixString(e.Dir) +
		`; narHash = ` + nixString(e.NarHash) + `; }) + "/` + file + `")`
}

// pureInstantiate starts a nix-instantiate call that evaluates purely with
// flakes enabled.
func pureInstantiate() []string {
	return append(append([]string{"nix-instantiate"}, flakes()...), "--option", "pure-eval", "true")
}

// FlakeInventory returns the command that evaluates the hive at attr of the
// locked flake url (whose directory is dir) into the inventory JSON
// (hive/fromflake.nix).
func FlakeInventory(e FlakeExprs, url, attr, dir, currentSystem string) []string {
	return append(pureInstantiate(), "--eval", "--strict", "--json", "--expr", e.importExpr("fromflake.nix"),
		"--argstr", "url", url, "--argstr", "attr", attr, "--argstr", "currentSystem", currentSystem,
		"--argstr", "deployment", dir)
}

// FlakeSystem describes one system of a hive from a flake.
type FlakeSystem struct {
	// Exprs are nix-hive's expressions.
	Exprs FlakeExprs
	// URL is the flake's locked reference; Attr the hive's output.
	URL, Attr string
	// Name is the system's name; Platform its target platform.
	Name, Platform string
	// Settings are nix.conf settings for this system.
	Settings map[string]string
}

// InstantiateFlake returns the command that evaluates a system of a hive
// from a flake (hive/flakesystem.nix) and prints its .drv path; with root
// set, the derivation is a garbage collector root there.
func InstantiateFlake(s FlakeSystem, root string) []string {
	args := append(pureInstantiate(), "--expr", s.Exprs.importExpr("flakesystem.nix"),
		"--argstr", "url", s.URL, "--argstr", "attr", s.Attr,
		"--argstr", "name", s.Name, "--argstr", "system", s.Platform)
	if root != "" {
		args = append(args, "--add-root", root, "--indirect")
	}
	return append(args, options(s.Settings)...)
}

// nixString quotes s as a Nix string literal.
func nixString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `${`, `\${`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
