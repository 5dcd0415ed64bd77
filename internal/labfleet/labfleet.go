// Package labfleet puts the example deployment (examples/fleet) on a lab of
// real hosts: the lab's topology for it, and a copy of the example whose
// hosts.nix names the lab's addresses and whose store key is fresh. The
// deploy tests and the demo use it.
package labfleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Spec is the example fleet's topology: three public hosts, and a site
// with a bastion, a store and three instances behind it.
var Spec = lab.Spec{Hosts: []lab.HostSpec{
	{Name: "web-1"}, {Name: "web-2"}, {Name: "db-1"},
	{Name: "bastion-eu", Site: "eu", Bastion: true},
	{Name: "store-eu", Site: "eu", Serve: true},
	{Name: "eu-1", Site: "eu"}, {Name: "eu-2", Site: "eu"}, {Name: "eu-3", Site: "eu"},
}}

// Instances are the example's instance names, sorted.
var Instances = []string{"db-1", "eu-1", "eu-2", "eu-3", "web-1", "web-2"}

// Fleet is a copy of the example pointed at a lab.
type Fleet struct {
	// Dir is the deployment directory (with hive.nix).
	Dir string
	// SigningKey is the secret key file for --signing-key.
	SigningKey string
}

// Prepare copies the example from exampleDir into dir/fleet, writes a
// hosts.nix with the lab's addresses and makes a signing key for the store.
func Prepare(ctx context.Context, r process.Runner, l *lab.Lab, exampleDir, dir string) (*Fleet, error) {
	f := &Fleet{Dir: filepath.Join(dir, "fleet"), SigningKey: filepath.Join(dir, "store-eu.secret")}
	if _, err := r.Run(ctx, process.Command{Args: []string{"cp", "-r", exampleDir, f.Dir}}); err != nil {
		return nil, fmt.Errorf("copy the example: %w", err)
	}
	return f, f.pointAt(ctx, r, l, dir)
}

// pointAt makes the store's signing key in dir and writes the fleet's
// hosts.nix with the lab's addresses and the key's public half.
func (f *Fleet) pointAt(ctx context.Context, r process.Runner, l *lab.Lab, dir string) error {
	public := filepath.Join(dir, "store-eu.public")
	if _, err := r.Run(ctx, process.Command{Args: []string{"nix-store", "--generate-binary-cache-key", "store-eu", f.SigningKey, public}}); err != nil {
		return fmt.Errorf("make the store's signing key: %w", err)
	}
	key, err := os.ReadFile(public)
	if err != nil {
		return fmt.Errorf("read the store's public key: %w", err)
	}
	hosts := filepath.Join(f.Dir, "hosts.nix")
	os.Remove(hosts) // a link to the include-path example's, in the flake
	if err := os.WriteFile(hosts, []byte(HostsNix(l, strings.TrimSpace(string(key)))), 0o644); err != nil {
		return fmt.Errorf("write hosts.nix: %w", err)
	}
	return nil
}

// PrepareFlake copies the flake version of the example from flakeDir
// (examples/fleet-flake) into dir/fleet-flake, following its links to the
// include-path example, writes hosts.nix and the store's key as Prepare
// does, puts the machine's static busybox beside the stand-in nixpkgs'
// flake.nix (pure evaluation reads nothing outside the flake) and locks
// the flake (nix flake lock, offline: its inputs are paths).
func PrepareFlake(ctx context.Context, r process.Runner, l *lab.Lab, flakeDir, dir string) (*Fleet, error) {
	f := &Fleet{Dir: filepath.Join(dir, "fleet-flake"), SigningKey: filepath.Join(dir, "store-eu.secret")}
	if _, err := r.Run(ctx, process.Command{Args: []string{"cp", "-rL", flakeDir, f.Dir}}); err != nil {
		return nil, fmt.Errorf("copy the flake example: %w", err)
	}
	if err := f.pointAt(ctx, r, l, dir); err != nil {
		return nil, err
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return nil, fmt.Errorf("find the static busybox the stand-in nixpkgs builds with (apt-get install busybox-static): %w", err)
	}
	if _, err := r.Run(ctx, process.Command{Args: []string{"cp", busybox, filepath.Join(f.Dir, "nixpkgs", "busybox")}}); err != nil {
		return nil, fmt.Errorf("copy busybox into the flake: %w", err)
	}
	lock := []string{"nix", "--extra-experimental-features", "nix-command flakes", "flake", "lock", f.Dir}
	if _, err := r.Run(ctx, process.Command{Args: lock, Env: []string{OfflineNix}}); err != nil {
		return nil, fmt.Errorf("lock the flake example: %w", err)
	}
	return f, nil
}

// HostsNix renders the example's hosts.nix for a lab.
func HostsNix(l *lab.Lab, publicKey string) string {
	names := make([]string, 0, len(l.Hosts))
	for n := range l.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Written by the lab: the addresses of its hosts.\n{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s = %q;\n", n, l.Hosts[n].Addr)
	}
	fmt.Fprintf(&b, "  storePublicKey = %q;\n}\n", publicKey)
	return b.String()
}

// OfflineNix is the variable that keeps nix on the runner from looking for
// the default binary cache: the lab has no internet.
const OfflineNix = "NIX_CONFIG=substituters ="

// Environ is the environment nix-hive runs with against a lab.
func Environ() []string {
	return append(os.Environ(), OfflineNix)
}
