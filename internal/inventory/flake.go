package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
)

// evaluateFlake evaluates the hive in a flake into the inventory, purely
// (hive/fromflake.nix): it locks the flake (a flake.lock and a clean git
// tree are required), lets pure evaluation read nix-hive's expressions by
// their hash, and evaluates the hive's output without evaluating any
// system's configuration. The inventory's File is DIR/flake.nix#ATTR.
func evaluateFlake(ctx context.Context, r process.Runner, exprDir string, ref flake.Ref) (*Inventory, error) {
	locked, err := flake.Lock(ctx, r, ref)
	if err != nil {
		return nil, err
	}
	exprs, platform, err := flakeInputs(ctx, r, exprDir)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(ref.Dir, "flake.nix#"+ref.Attr)
	out, err := r.Run(ctx, process.Command{Args: nixcmd.FlakeInventory(exprs, locked.URL, ref.Attr, ref.Dir, platform)})
	if err != nil {
		var ce *process.CommandError
		if errors.As(err, &ce) && ce.ExitCode > 0 {
			return nil, &EvalError{File: file, Message: nixcmd.ErrorMessage(ce.StderrTail), Err: err}
		}
		return nil, fmt.Errorf("evaluate %s: %w", file, err)
	}
	inv, err := Decode(out, file)
	if err != nil {
		return nil, err
	}
	inv.Flake, inv.FlakeExprs = locked, exprs
	return inv, nil
}

// flakeInputs returns what pure evaluation cannot find itself: nix-hive's
// expressions with their hash, and the runner's platform (systems default
// to it).
func flakeInputs(ctx context.Context, r process.Runner, exprDir string) (nixcmd.FlakeExprs, string, error) {
	out, err := r.Run(ctx, process.Command{Args: nixcmd.HashPath(exprDir)})
	if err != nil {
		return nixcmd.FlakeExprs{}, "", fmt.Errorf("hash nix-hive's Nix expressions for pure evaluation: %w", err)
	}
	exprs := nixcmd.FlakeExprs{Dir: exprDir, NarHash: strings.TrimSpace(string(out))}
	out, err = r.Run(ctx, process.Command{Args: nixcmd.CurrentSystem()})
	if err != nil {
		return nixcmd.FlakeExprs{}, "", fmt.Errorf("ask nix for the runner's platform: %w", err)
	}
	var platform string
	if err := json.Unmarshal(out, &platform); err != nil || platform == "" {
		return nixcmd.FlakeExprs{}, "", fmt.Errorf("ask nix for the runner's platform: got %q", out)
	}
	return exprs, platform, nil
}
