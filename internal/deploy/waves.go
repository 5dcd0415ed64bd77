package deploy

import (
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// JumpHostWaves is the engine's Waves for an inventory: every selected
// instance that another selected instance is reached through (a ProxyJump
// of its own ssh options, or of an sshHosts block on its way) runs alone,
// before the hosts behind it, so that a jump host restarting its sshd or
// its network cannot cut them off half-way. A jump host behind another
// runs after it. The other instances run together, last.
func JumpHostWaves(inv *inventory.Inventory) [][]string {
	depth := map[string]int{} // jump host -> how many hops come before it
	for _, n := range inv.InstanceNames() {
		chain := jumpChain(inv, inv.Instances[n].SSH)
		for i, j := range chain {
			if _, ok := inv.Instances[j]; ok && j != n {
				depth[j] = max(depth[j], i)
			}
		}
	}
	jumps := make([]string, 0, len(depth))
	for j := range depth {
		jumps = append(jumps, j)
	}
	slices.SortFunc(jumps, func(a, b string) int {
		if depth[a] != depth[b] {
			return depth[a] - depth[b]
		}
		return strings.Compare(a, b)
	})
	waves := make([][]string, len(jumps))
	for i, j := range jumps {
		waves[i] = []string{j}
	}
	return waves
}

// jumpChain lists the ssh host aliases a host with ssh options opts is
// reached through, the first hop first: its ProxyJump hosts, each preceded
// by their own, as far as the inventory's instances and sshHosts know them.
func jumpChain(inv *inventory.Inventory, opts map[string]string) []string {
	var chain []string
	seen := map[string]bool{}
	var walk func(opts map[string]string)
	walk = func(opts map[string]string) {
		for _, hop := range jumpHosts(opts["ProxyJump"]) {
			if seen[hop] {
				continue
			}
			seen[hop] = true
			if inst, ok := inv.Instances[hop]; ok {
				walk(inst.SSH)
			} else if block, ok := inv.SSHHosts[hop]; ok {
				walk(block)
			}
			chain = append(chain, hop)
		}
	}
	walk(opts)
	return chain
}

// jumpHosts parses a ProxyJump value ("[user@]host[:port],..." or "none")
// into host aliases.
func jumpHosts(value string) []string {
	var out []string
	for _, hop := range strings.Split(value, ",") {
		hop = strings.TrimSpace(hop)
		if i := strings.LastIndexByte(hop, '@'); i >= 0 {
			hop = hop[i+1:]
		}
		if i := strings.IndexByte(hop, ':'); i >= 0 {
			hop = hop[:i]
		}
		if hop != "" && hop != "none" {
			out = append(out, hop)
		}
	}
	return out
}
