package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/discover"
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
	fs.StringVar(&t.hive, "hive", "hive.nix", "the deployment directory or its hive.nix, or a flake: DIR (flake.nix, no hive.nix) or DIR#ATTR")
	fs.StringVar(&t.on, "on", "", "select instances: comma-separated names, globs (web-*) and @tags; default all")
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
	sel, err := selector.Parse(t.on)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	work, err := os.MkdirTemp("", "nix-hive-")
	if err != nil {
		return fmt.Errorf("make a working directory: %w", err)
	}
	defer os.RemoveAll(work)
	inv, err := deploy.Load(ctx, &process.Exec{Environ: std.Environ}, work, t.hive, sel, discover.Readers{})
	if err != nil {
		return err
	}
	deploy.WriteWarnings(std.Stderr, inv)
	out, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return fmt.Errorf("print the inventory: %w", err)
	}
	_, err = fmt.Fprintf(std.Stdout, "%s\n", out)
	return err
}
