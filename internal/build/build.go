// Package build evaluates and builds systems on the runner with nix: each
// system's toplevel through hive/system.nix with the system's include paths
// and nix settings (nix-instantiate), its output path without building
// (nix-store --query --outputs), then the build (nix-store --realise).
package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Nix is the engine's Builder on the runner's nix.
type Nix struct {
	// Runner runs nix.
	Runner process.Runner
	// Inventory has the systems.
	Inventory *inventory.Inventory
	// ExprDir holds hive/*.nix.
	ExprDir string
	// RootDir, if set, receives garbage collector roots for the derivations
	// and systems, so that nix does not collect them during the run.
	RootDir string
	// Log returns the writer for a system's nix output; nil discards it.
	Log func(system string) io.Writer
}

var _ engine.Builder = (*Nix)(nil)

// EvaluateCommand is the command that evaluates a system's toplevel
// derivation: through hive/system.nix for a hive.nix, purely from the
// locked flake (hive/flakesystem.nix) for a hive from a flake.
func (n *Nix) EvaluateCommand(system string) process.Command {
	sys := n.Inventory.Systems[system]
	if f := n.Inventory.Flake; f != nil {
		return process.Command{Args: nixcmd.InstantiateFlake(nixcmd.FlakeSystem{
			Exprs: n.Inventory.FlakeExprs, URL: f.URL, Attr: f.Attr, Name: system, Platform: sys.System, Settings: sys.Nix,
		}, n.root(system+".drv")), Stderr: n.log(system)}
	}
	return process.Command{Args: nixcmd.Instantiate(nixcmd.SystemBuild{
		ExprDir: n.ExprDir, HiveFile: n.Inventory.File, Name: system,
		Platform: sys.System, Path: sys.Path, Settings: sys.Nix,
	}, n.root(system+".drv")), Stderr: n.log(system)}
}

// OutputsCommand is the command that prints a derivation's output path.
func (n *Nix) OutputsCommand(system, drv string) process.Command {
	return process.Command{Args: nixcmd.QueryOutputs(drv), Stderr: n.log(system)}
}

// BuildCommand is the command that builds an evaluated system.
func (n *Nix) BuildCommand(sys engine.System) process.Command {
	return process.Command{Args: nixcmd.Realise(sys.Drv, n.root(sys.Name), n.Inventory.Systems[sys.Name].Nix), Stderr: n.log(sys.Name)}
}

// Evaluate implements engine.Builder.
func (n *Nix) Evaluate(ctx context.Context, system string) (engine.System, error) {
	fail := func(err error) (engine.System, error) {
		return engine.System{}, fmt.Errorf("evaluate system %s: %w", system, err)
	}
	out, err := n.Runner.Run(ctx, n.EvaluateCommand(system))
	if err != nil {
		return fail(err)
	}
	drv, err := n.pathFrom(out, n.root(system+".drv"))
	if err != nil {
		return fail(err)
	}
	out, err = n.Runner.Run(ctx, n.OutputsCommand(system, drv))
	if err != nil {
		return fail(err)
	}
	path, err := nixcmd.ParsePath(out)
	if err != nil {
		return fail(err)
	}
	return engine.System{Name: system, Drv: drv, Path: path}, nil
}

// Build implements engine.Builder.
func (n *Nix) Build(ctx context.Context, sys engine.System) error {
	if _, err := n.Runner.Run(ctx, n.BuildCommand(sys)); err != nil {
		return fmt.Errorf("build system %s: %w", sys.Name, err)
	}
	return nil
}

// root is where a garbage collector root for name goes ("" for none).
func (n *Nix) root(name string) string {
	if n.RootDir == "" {
		return ""
	}
	return filepath.Join(n.RootDir, "system-"+name)
}

// pathFrom returns the store path a nix command produced: the target of the
// garbage collector root when there is one (nix then prints the root), else
// the path nix printed.
func (n *Nix) pathFrom(out []byte, root string) (string, error) {
	if root != "" {
		target, err := os.Readlink(root)
		if err != nil {
			return "", fmt.Errorf("read the result link: %w", err)
		}
		out = []byte(target)
	}
	return nixcmd.ParsePath(out)
}

func (n *Nix) log(system string) io.Writer {
	if n.Log == nil {
		return io.Discard
	}
	return n.Log("system " + system)
}
