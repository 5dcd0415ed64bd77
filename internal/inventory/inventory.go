// Package inventory evaluates a deployment's hive.nix into the inventory:
// the include paths, systems, stores and instances of a fleet and the
// ssh_config that reaches them. It evaluates with nix-instantiate through
// hive/config.nix and never evaluates or builds a system's configuration.
package inventory

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Inventory is the evaluated deployment, as hive/config.nix prints it and
// `nix-hive inventory` shows it.
type Inventory struct {
	// File is the hive.nix the inventory was evaluated from (not part of
	// the JSON).
	File string `json:"-"`
	// Flake is the flake the hive comes from, locked (its url, rev and
	// narHash); nil for a hive.nix. Its systems are evaluated from the same
	// locked source.
	Flake *flake.Locked `json:"flake,omitempty"`
	// FlakeExprs are nix-hive's expressions as pure evaluation reads them
	// (not part of the JSON); set with Flake.
	FlakeExprs nixcmd.FlakeExprs `json:"-"`
	// Paths are the include paths (-I) every system is built with, unless
	// the system has its own. The first is always deployment=<directory of
	// hive.nix>.
	Paths []string `json:"paths"`
	// Systems are the system configurations, by name. Each is evaluated and
	// built once, however many instances run it.
	Systems map[string]System `json:"systems"`
	// Stores are the binary caches near the instances, by name. A closure
	// is pushed to each store once; its instances substitute from it.
	Stores map[string]Store `json:"stores"`
	// Instances are the hosts, by name.
	Instances map[string]Instance `json:"instances"`
	// SSHHosts are hive.nix's extra ssh Host blocks (bastions, stores), by
	// name: ssh_config options.
	SSHHosts map[string]map[string]string `json:"sshHosts"`
	// SSHConfig is the ssh_config(5) text nix-hive renders from the
	// instances' ssh options and SSHHosts, a Host block for each; ssh and
	// nix reach the instances through it by name.
	SSHConfig string `json:"sshConfig"`
	// Discover holds hive.nix's discover sources as hive/config.nix
	// prints them (see discover.Source); their machines are merged into
	// Instances when the inventory is loaded.
	Discover json.RawMessage `json:"discover,omitempty"`
	// Warnings name the machines the discover sources found but left out
	// (no or an unknown system tag, a value that failed the checks for
	// untrusted input), one line each, quoted; never deployed.
	Warnings []string `json:"warnings,omitempty"`
	// Rollout is hive.nix's rollout: the waves (see rollout.go).
	Rollout Rollout `json:"rollout"`
	// HealthChecks are each system's health checks, by system and name.
	HealthChecks map[string]map[string]HealthCheck `json:"healthChecks"`
	// Keys are the secrets uploaded to the hosts (see KeysOf).
	Keys Keys `json:"keys"`
}

// System is one system configuration.
type System struct {
	// Path are the include paths the system is built with: its own `path`
	// from hive.nix, or else the inventory's Paths; deployment=<dir> first.
	Path []string `json:"path"`
	// Nix holds nix.conf settings passed to nix when the system is built.
	Nix map[string]string `json:"nix"`
	// System is the target platform, such as x86_64-linux.
	System string `json:"system"`
	// Tags select the system's instances with --on @tag.
	Tags []string `json:"tags"`
}

// Store is a binary cache that instances substitute from.
type Store struct {
	// URL is the nix store URL nix-hive pushes closures to (nix copy --to).
	URL string `json:"url"`
	// Substituter is the store's URL as its instances reach it; it
	// defaults to URL.
	Substituter string `json:"substituter"`
	// PublicKey is the key ("name:base64") the store's paths are signed
	// with; instances trust it when they substitute.
	PublicKey string `json:"publicKey,omitempty"`
}

// Instance is one host.
type Instance struct {
	// System names the instance's system in Systems.
	System string `json:"system"`
	// Store names the store the instance substitutes from, or is empty
	// for a direct copy from the runner.
	Store string `json:"store,omitempty"`
	// Tags select the instance with --on @tag (as do its system's tags).
	Tags []string `json:"tags"`
	// SSH holds the instance's ssh_config options (HostName, User,
	// ProxyJump, ...), rendered into SSHConfig.
	SSH map[string]string `json:"ssh"`
	// Environment is the GitHub environment the instance deploys to.
	Environment string `json:"environment"`
	// URL is shown as the deployment's environment URL, if set.
	URL string `json:"url,omitempty"`
	// Source is the discover entry that found the instance in the
	// infrastructure; empty for an instance of hive.nix.
	Source string `json:"source,omitempty"`
	// MachineID is a discovered instance's id in the infrastructure (an
	// EC2 instance id, a Terraform resource's id).
	MachineID string `json:"machineId,omitempty"`
}

// Decode parses the JSON printed by hive/config.nix. file names the
// hive.nix it came from, for error messages.
func Decode(data []byte, file string) (*Inventory, error) {
	var inv Inventory
	if err := json.Unmarshal(data, &inv); err != nil {
		return nil, fmt.Errorf("%s: read the evaluated inventory: %w", file, err)
	}
	inv.File = file
	return &inv, nil
}

// InstanceNames returns the instance names in sorted order.
func (inv *Inventory) InstanceNames() []string {
	return sortedKeys(inv.Instances)
}

// Tags returns the instance's tags followed by its system's tags.
func (inv *Inventory) Tags(instance string) []string {
	i := inv.Instances[instance]
	return append(append([]string(nil), i.Tags...), inv.Systems[i.System].Tags...)
}

// Only returns a copy of the inventory with just the named instances and
// the systems and stores they use. Paths, SSHHosts and SSHConfig are kept
// whole, as bastions named there may still be needed; so are Discover and
// Warnings.
func (inv *Inventory) Only(names []string) *Inventory {
	out := &Inventory{
		File:       inv.File,
		Flake:      inv.Flake,
		FlakeExprs: inv.FlakeExprs,
		Paths:      inv.Paths,
		Systems:    map[string]System{},
		Stores:     map[string]Store{},
		Instances:  map[string]Instance{},
		SSHHosts:   inv.SSHHosts,
		SSHConfig:  inv.SSHConfig,
		Discover:   inv.Discover,
		Warnings:   inv.Warnings,
		Rollout:    inv.Rollout, HealthChecks: inv.HealthChecks, Keys: inv.Keys,
	}
	for _, n := range names {
		i, ok := inv.Instances[n]
		if !ok {
			continue
		}
		out.Instances[n] = i
		out.Systems[i.System] = inv.Systems[i.System]
		if i.Store != "" {
			out.Stores[i.Store] = inv.Stores[i.Store]
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SSHBlocks returns the Host blocks of the ssh config: every instance's,
// then every sshHosts entry's, each in name order. A discovered instance's
// options come from its discover entry's ssh plus its HostName, so its
// block's origin is discover.<name>.ssh.
func (inv *Inventory) SSHBlocks() []sshconfig.Block {
	blocks := make([]sshconfig.Block, 0, len(inv.Instances)+len(inv.SSHHosts))
	for _, n := range inv.InstanceNames() {
		origin := "instances." + attrName(n) + ".ssh"
		if src := inv.Instances[n].Source; src != "" {
			origin = "discover." + attrName(src) + ".ssh"
		}
		blocks = append(blocks, sshconfig.Block{Name: n, Options: inv.Instances[n].SSH, Origin: origin})
	}
	for _, n := range sortedKeys(inv.SSHHosts) {
		blocks = append(blocks, sshconfig.Block{Name: n, Options: inv.SSHHosts[n], Origin: "sshHosts." + attrName(n)})
	}
	return blocks
}
