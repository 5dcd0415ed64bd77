package inventory

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/nix-hive/nix-hive/internal/discover"
)

// Sources decodes the hive's discover entries; none when hive.nix has no
// discover attribute.
func (inv *Inventory) Sources() ([]discover.Source, error) {
	if len(inv.Discover) == 0 {
		return nil, nil
	}
	sources, err := discover.DecodeSources(inv.Discover)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(inv.File), err)
	}
	return sources, nil
}

// Merge reads the hive's discover sources with readers and adds the
// machines they find to Instances, as instances of their own that the
// rest of nix-hive cannot tell from hive.nix's: same name rules, same
// checks, same ssh config. Machines left out become Warnings. An invalid
// or unreadable source, or a discovered name that is also the name of an
// instance or an sshHosts entry of hive.nix, is an error naming both, and
// then nothing is merged.
func (inv *Inventory) Merge(ctx context.Context, readers discover.Readers) error {
	sources, err := inv.Sources()
	if err != nil || len(sources) == 0 {
		return err
	}
	file := filepath.Base(inv.File)
	systems, stores := map[string]bool{}, map[string]bool{}
	for n := range inv.Systems {
		systems[n] = true
	}
	for n := range inv.Stores {
		stores[n] = true
	}
	found, warnings, err := discover.Discover(ctx, sources, readers, systems, stores)
	if err != nil {
		return prefixEach(file, err)
	}
	taken := map[string]string{}
	for n := range inv.Instances {
		taken[n] = "instances." + attrName(n)
	}
	for n := range inv.SSHHosts {
		taken[n] = "sshHosts." + attrName(n)
	}
	if err := discover.Clashes(found, taken); err != nil {
		return prefixEach(file, err)
	}
	if inv.Instances == nil {
		inv.Instances = map[string]Instance{}
	}
	for _, i := range found {
		inv.Instances[i.Name] = Instance{System: i.System, Store: i.Store, Tags: i.Tags, SSH: i.SSH,
			Environment: i.Environment, URL: i.URL, Source: i.Source, MachineID: i.MachineID}
	}
	for _, w := range warnings {
		inv.Warnings = append(inv.Warnings, w.String())
	}
	return nil
}
