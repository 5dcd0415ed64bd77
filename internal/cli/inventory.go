package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/nix-hive/nix-hive/hive"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/selector"
)

// target is a hive and a selection of its instances, the inputs every
// command shares.
type target struct {
	hive string
	on   string
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.hive, "hive", "hive.nix", "the deployment directory or its hive.nix")
	fs.StringVar(&t.on, "on", "", "select instances: comma-separated names, globs (web-*) and @tags; default all")
}

// load evaluates the hive with the expressions written into workDir and
// returns the inventory and the selected instance names. The selector is
// parsed before nix runs, so a bad one fails fast.
func (t *target) load(ctx context.Context, r process.Runner, workDir string) (*inventory.Inventory, []string, error) {
	sel, err := selector.Parse(t.on)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	exprs, err := hive.Write(filepath.Join(workDir, "hive"))
	if err != nil {
		return nil, nil, err
	}
	inv, err := inventory.Load(ctx, r, exprs, t.hive)
	if err != nil {
		return nil, nil, err
	}
	names, err := sel.Select(inv.InstanceNames(), inv.Tags)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", inv.File, err)
	}
	return inv, names, nil
}

func runInventory(ctx context.Context, args []string, std IO) error {
	fs := flag.NewFlagSet("nix-hive inventory", flag.ContinueOnError)
	var t target
	t.flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: nix-hive inventory [--hive PATH] [--on SELECTOR]\n\nPrints the inventory evaluated from hive.nix as JSON; builds nothing.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, std); err != nil {
		return err
	}
	dir, cleanup, err := tempDir()
	if err != nil {
		return err
	}
	defer cleanup()
	inv, names, err := t.load(ctx, &process.Exec{Environ: std.Environ}, dir)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(inv.Only(names), "", "  ")
	if err != nil {
		return fmt.Errorf("print the inventory: %w", err)
	}
	_, err = fmt.Fprintf(std.Stdout, "%s\n", out)
	return err
}
