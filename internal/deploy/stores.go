package deploy

import (
	"context"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/hosttrust"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/keyfile"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// checkSigning checks, for a goal that pushes, that every selected store's
// paths will be signed with the key its instances trust: the store has a
// publicKey, a signing key is given, and its public half is that key.
// It touches no host.
func checkSigning(req Request, inv *inventory.Inventory) error {
	if !req.Goal.NeedsHosts() || len(inv.Stores) == 0 {
		return nil
	}
	public := ""
	if req.SigningKey != "" {
		var err error
		if public, err = keyfile.NixPublicKey(absPath(req.SigningKey)); err != nil {
			return fmt.Errorf("no host was touched: the signing key: %w", err)
		}
	}
	if err := inv.CheckSigning(public); err != nil {
		return fmt.Errorf("no host was touched: %s: %w", inv.File, err)
	}
	return nil
}

// checkHosts, for a goal that needs hosts and a real run, checks every host
// key, then asks the instances that substitute from a store whether nix
// there trusts their login enough to use it (internal/hosttrust). Either
// failing stops the run before any host is changed.
func checkHosts(ctx context.Context, req Request, r process.Runner, ssh *sshconfig.Config, inv *inventory.Inventory) error {
	if !req.Goal.NeedsHosts() || req.DryRun {
		return nil
	}
	if err := checkHostKeys(ctx, req, r, ssh, inv); err != nil {
		return err
	}
	trust := &hosttrust.Checker{Runner: r, SSH: ssh}
	if err := trust.Check(ctx, inv); err != nil {
		return fmt.Errorf("no host was changed: %w", err)
	}
	return nil
}
