package deploy

import (
	"net/url"

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
func storeHost(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil || (u.Scheme != "ssh" && u.Scheme != "ssh-ng") {
		return ""
	}
	return u.Hostname()
}
