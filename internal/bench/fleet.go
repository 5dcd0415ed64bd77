// Package bench measures nix-hive at fleet scale on a lab of real hosts:
// a fleet of 30 hosts (24 instances of 4 systems, 21 of them on 3 sites
// with a store each, behind a bastion), with closures shaped like NixOS
// ones, and the runner's uplink capped. In one run it deploys the same
// closures with nix-hive (to fresh hosts, then again, a no-op), with a
// sequential `nix copy` + activation loop, and with a parallel direct
// copy to every host, and compares them with the physical limit: the
// bytes that must cross the capped link, divided by its rate.
//
// scripts/bench runs it (as root); see the README's "Performance".
package bench

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/process"
)

//go:embed nix
var nixFiles embed.FS

// systemShape is one system of the benchmark fleet: its name and how many
// packages of its own its closure has, besides the shared base.
type systemShape struct {
	name string
	own  int
}

// Shape of the fleet: every system's closure has basePackages shared
// packages; sites have a bastion, a store and sitesInstances instances;
// directInstances more are public hosts copied to directly.
const (
	basePackages   = 250
	siteInstances  = 7
	directInstance = 3
)

// benchSystems are the fleet's systems.
func benchSystems() []systemShape {
	return []systemShape{{"web", 50}, {"db", 40}, {"edge", 60}, {"worker", 50}}
}

// benchSites are the fleet's sites, each with a store.
func benchSites() []string { return []string{"eu", "us", "ap"} }

// Spec is the benchmark's lab: per site a bastion, a store and its
// instances; then the public instances.
func Spec() lab.Spec {
	var s lab.Spec
	for _, site := range benchSites() {
		s.Hosts = append(s.Hosts, lab.HostSpec{Name: "bastion-" + site, Site: site, Bastion: true}, lab.HostSpec{Name: "store-" + site, Site: site})
		for i := 1; i <= siteInstances; i++ {
			s.Hosts = append(s.Hosts, lab.HostSpec{Name: fmt.Sprintf("%s-%d", site, i), Site: site})
		}
	}
	for i := 1; i <= directInstance; i++ {
		s.Hosts = append(s.Hosts, lab.HostSpec{Name: fmt.Sprintf("direct-%d", i)})
	}
	return s
}

// instance is one instance of the fleet.
type instance struct{ name, system, store string }

// instances lists the fleet's instances: systems dealt round the fleet so
// that every site runs several of them.
func instances() []instance {
	var out []instance
	n := 0
	systems := benchSystems()
	next := func() string { n++; return systems[(n-1)%len(systems)].name }
	for _, site := range benchSites() {
		for i := 1; i <= siteInstances; i++ {
			out = append(out, instance{fmt.Sprintf("%s-%d", site, i), next(), site})
		}
	}
	for i := 1; i <= directInstance; i++ {
		out = append(out, instance{fmt.Sprintf("direct-%d", i), next(), ""})
	}
	return out
}

// writeFleet writes the benchmark's deployment into dir: the stand-in
// nixpkgs (from this package) beside a copy of the example's (from
// exampleNixpkgs, for its busybox and switch-to-configuration), the
// systems (salted, so that a new salt makes every path new) and hive.nix
// with the lab's addresses.
func writeFleet(ctx context.Context, r process.Runner, dir, exampleNixpkgs, salt, publicKey string, l *lab.Lab) error {
	sub, _ := fs.Sub(nixFiles, "nix")
	if err := os.CopyFS(dir, sub); err != nil {
		return fmt.Errorf("write the benchmark's nixpkgs: %w", err)
	}
	if _, err := r.Run(ctx, process.Command{Args: []string{"cp", "-r", exampleNixpkgs, filepath.Join(dir, "example")}}); err != nil {
		return fmt.Errorf("copy the example's nixpkgs: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "systems"), 0o755); err != nil {
		return fmt.Errorf("write the systems: %w", err)
	}
	for _, s := range benchSystems() {
		text := fmt.Sprintf("{ name = %q; base = %d; own = %d; salt = %q; }\n", s.name, basePackages, s.own, salt)
		if err := os.WriteFile(filepath.Join(dir, "systems", s.name+".nix"), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write the systems: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(dir, "hive.nix"), []byte(hiveNix(l, publicKey)), 0o644)
}

// hiveNix renders the fleet's hive.nix for the lab l.
func hiveNix(l *lab.Lab, publicKey string) string {
	var b strings.Builder
	b.WriteString("# Written by nix-hive's benchmark (internal/bench).\n{\n  paths = [ \"nixpkgs=${toString ./nixpkgs}\" ];\n  systems = {\n")
	for _, s := range benchSystems() {
		fmt.Fprintf(&b, "    %s.configuration = ./systems/%s.nix;\n", s.name, s.name)
	}
	b.WriteString("  };\n  stores = {\n")
	for _, site := range benchSites() {
		fmt.Fprintf(&b, "    %s = { url = \"ssh-ng://store-%s\"; substituter = \"ssh://root@%s\"; publicKey = %q; };\n",
			site, site, l.Hosts["store-"+site].SiteAddr, publicKey)
	}
	b.WriteString("  };\n  sshHosts = {\n")
	for _, site := range benchSites() {
		fmt.Fprintf(&b, "    bastion-%s = { HostName = %q; User = \"root\"; };\n", site, l.Hosts["bastion-"+site].Addr)
		fmt.Fprintf(&b, "    store-%s = { HostName = %q; User = \"root\"; ProxyJump = \"bastion-%s\"; };\n", site, l.Hosts["store-"+site].Addr, site)
	}
	b.WriteString("  };\n  instances = {\n")
	for _, i := range instances() {
		if i.store == "" {
			fmt.Fprintf(&b, "    %s = { system = %q; ssh = { HostName = %q; User = \"root\"; }; };\n", i.name, i.system, l.Hosts[i.name].Addr)
			continue
		}
		fmt.Fprintf(&b, "    %s = { system = %q; store = %q; ssh = { HostName = %q; User = \"root\"; ProxyJump = \"bastion-%s\"; }; };\n",
			i.name, i.system, i.store, l.Hosts[i.name].Addr, i.store)
	}
	b.WriteString("  };\n}\n")
	return b.String()
}
