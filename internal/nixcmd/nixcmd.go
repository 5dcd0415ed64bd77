// Package nixcmd builds the nix command lines nix-hive runs and parses
// their output. Everything here is a pure function; the forms used are the
// ones both Nix 2.8 and current Nix accept (nix-instantiate, nix-store,
// and `nix copy`/`nix store sign` with nix-command enabled per call).
package nixcmd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// experimental enables the nix-command CLI for one call, on every version.
func experimental() []string { return []string{"--extra-experimental-features", "nix-command"} }

// SystemBuild describes one system to evaluate and build.
type SystemBuild struct {
	// ExprDir holds hive/*.nix.
	ExprDir string
	// HiveFile is the deployment's hive.nix.
	HiveFile string
	// Name is the system's name in hive.nix.
	Name string
	// Platform is the target platform (x86_64-linux, ...).
	Platform string
	// Path are the include paths (-I) to evaluate with.
	Path []string
	// Settings are nix.conf settings for this system.
	Settings map[string]string
}

// options returns --option NAME VALUE pairs in a stable order.
func options(settings map[string]string) []string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, "--option", k, settings[k])
	}
	return out
}

// Instantiate returns the command that evaluates the system's toplevel
// derivation and prints its .drv path; with root set, the derivation is
// registered as a garbage collector root there and nix prints the root.
func Instantiate(b SystemBuild, root string) []string {
	args := []string{"nix-instantiate", filepath.Join(b.ExprDir, "system.nix"),
		"--argstr", "hiveFile", b.HiveFile,
		"--argstr", "name", b.Name,
		"--argstr", "system", b.Platform,
	}
	for _, p := range b.Path {
		args = append(args, "-I", p)
	}
	if root != "" {
		args = append(args, "--add-root", root, "--indirect")
	}
	return append(args, options(b.Settings)...)
}

// Realise returns the command that builds a derivation and prints its
// output path. The output is registered as an indirect garbage collector
// root at root (when set), so that it survives until the run is over.
func Realise(drv, root string, settings map[string]string) []string {
	args := []string{"nix-store", "--realise", drv}
	if root != "" {
		args = append(args, "--add-root", root, "--indirect")
	}
	return append(args, options(settings)...)
}

// QueryOutputs returns the command that prints the output paths of a
// derivation without building it.
func QueryOutputs(drv string) []string {
	return []string{"nix-store", "--query", "--outputs", drv}
}

// Sign returns the command that signs a closure with a secret key file.
func Sign(keyFile, path string) []string {
	return append(append([]string{"nix"}, experimental()...), "store", "sign", "--recursive", "--key-file", keyFile, path)
}

// SignIn returns the command that signs a closure where it lies in the
// store at storeURL: nix computes the signatures on the runner from the
// paths' hashes and sends only them, so paths the store held before the
// copy (which nix copy skips) are signed too and the key never leaves the
// runner. It works for ssh-ng:// stores (the remote user must be trusted)
// and for binary caches (file://, s3://, http(s)://, whose .narinfo files
// it rewrites).
func SignIn(storeURL, keyFile, path string) []string {
	return append(append([]string{"nix"}, experimental()...), "store", "sign", "--store", storeURL, "--recursive", "--key-file", keyFile, path)
}

// CopyTo returns the command that copies a closure to a store URL. Paths
// the runner built itself carry no signature the destination trusts yet, so
// the destination is told not to check (it is ours, reached as root).
func CopyTo(storeURL, path string) []string {
	return append(append([]string{"nix"}, experimental()...), "copy", "--no-check-sigs", "--to", storeURL, path)
}

// CopyToSubstituting is CopyTo letting the destination (an ssh store)
// fetch what it can from its own substituters first
// (--substitute-on-destination, in Nix 2.8 and later).
func CopyToSubstituting(storeURL, path string) []string {
	return append(append([]string{"nix"}, experimental()...), "copy", "--no-check-sigs", "--substitute-on-destination", "--to", storeURL, path)
}

// Substitute returns the command an instance runs to fetch a closure from
// its store, trusting the store's key. Nix remembers for an hour that a
// binary cache lacked a path (narinfo-cache-negative-ttl); the command
// forgets that, so a path pushed after an earlier miss is found.
func Substitute(path, substituter, publicKey string) []string {
	args := []string{"nix-store", "--realise", path, "--option", "extra-substituters", substituter,
		"--option", "narinfo-cache-negative-ttl", "0"}
	if publicKey != "" {
		args = append(args, "--option", "extra-trusted-public-keys", publicKey)
	}
	return args
}

var storePathPattern = regexp.MustCompile(`^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$`)

// IsStorePath reports whether s is a nix store path.
func IsStorePath(s string) bool {
	return storePathPattern.MatchString(s)
}

// ParsePath returns the single store path a command printed (the last
// non-empty line of its output), or an error.
func ParsePath(out []byte) (string, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if !IsStorePath(last) {
		return "", fmt.Errorf("expected a store path from nix, got %q", strings.TrimSpace(string(out)))
	}
	return last, nil
}

// ErrorMessage extracts the error from nix's standard error: from the
// last "error:" line on, without the --show-trace hint. Nix 2.8 prints just
// the error; newer versions print a trace of "… while" lines before it.
func ErrorMessage(stderr string) string {
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	start := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "error:") {
			start = i
		}
	}
	var kept []string
	for _, l := range lines[start:] {
		if strings.HasPrefix(strings.TrimSpace(l), "(use '--show-trace'") {
			continue
		}
		kept = append(kept, strings.TrimRight(l, " "))
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}
