package deploy

import (
	"github.com/nix-hive/nix-hive/internal/sshconfig"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Targets lists the ssh host aliases a run connects to: the ssh stores the
// instances push to, then the instances.
func Targets(inv *inventory.Inventory) []string {
	seen := map[string]bool{}
	var out []string
	add := func(alias string) {
		if alias != "" && !seen[alias] {
			seen[alias] = true
			out = append(out, alias)
		}
	}
	names := inv.InstanceNames()
	for _, n := range names {
		if store, ok := inv.Stores[inv.Instances[n].Store]; ok {
			add(storeHost(store.URL))
		}
	}
	for _, n := range names {
		add(n)
	}
	return out
}

// storeHost returns the ssh host alias of an ssh:// or ssh-ng:// store URL,
// or "" for other stores.
func storeHost(storeURL string) string { return sshconfig.URLHost(storeURL) }

// JumpHosts lists the jump hosts in front of targets that ssh reaches
// through their own settings (the first entry of each ProxyJump list,
// and theirs in turn), each after the jump hosts in front of it: the
// order in which their master connections can be opened.
func JumpHosts(ssh *sshconfig.Config, targets []string) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(host, port string)
	visit = func(host, port string) {
		jumps := ssh.Resolve(host, port).ProxyJump
		if len(jumps) == 0 {
			return
		}
		alias, jport := sshconfig.SplitJump(jumps[0])
		if seen[jumps[0]] {
			return
		}
		seen[jumps[0]] = true
		visit(alias, jport)
		out = append(out, jumps[0])
	}
	for _, t := range targets {
		visit(t, "")
	}
	return out
}
