// Package distribute moves closures from the runner towards the instances
// with nix: to a store once (signed first when a signing key is given), and
// onto each instance — substituted from its store, checking the store's
// key, or copied straight from the runner. Every ssh connection, nix's
// included, goes through the run's ssh config.
package distribute

import (
	"context"
	"fmt"
	"io"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Nix is the engine's Distributor on nix and ssh.
type Nix struct {
	// Runner runs nix and ssh.
	Runner process.Runner
	// Inventory has the stores and instances.
	Inventory *inventory.Inventory
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// SigningKey is a nix secret key file closures are signed with before
	// they are pushed to stores; empty for none.
	SigningKey string
	// Log returns the writer for an instance's or a store's output; nil
	// discards it.
	Log func(name string) io.Writer
}

var _ engine.Distributor = (*Nix)(nil)

// PushCommands are the commands that push path to store: sign (with a
// key), then copy.
func (n *Nix) PushCommands(store, path string) []process.Command {
	log := n.log("store " + store)
	var cmds []process.Command
	if n.SigningKey != "" {
		cmds = append(cmds, process.Command{Args: nixcmd.Sign(n.SigningKey, path), Stderr: log})
	}
	return append(cmds, process.Command{Args: nixcmd.CopyTo(n.Inventory.Stores[store].URL, path), Env: n.SSH.NixEnv(), Stderr: log})
}

// CopyCommand is the command that brings path onto instance.
func (n *Nix) CopyCommand(instance, path string) process.Command {
	inst := n.Inventory.Instances[instance]
	if inst.Store == "" {
		return process.Command{Args: nixcmd.CopyTo("ssh://"+instance, path), Env: n.SSH.NixEnv(), Stderr: n.log(instance)}
	}
	s := n.Inventory.Stores[inst.Store]
	return process.Command{Args: n.SSH.Command(instance, nixcmd.Substitute(path, s.Substituter, s.PublicKey)...), Stderr: n.log(instance)}
}

// Push implements engine.Distributor.
func (n *Nix) Push(ctx context.Context, store, path string) error {
	for _, c := range n.PushCommands(store, path) {
		if _, err := n.Runner.Run(ctx, c); err != nil {
			return fmt.Errorf("push to store %s (%s): %w", store, n.Inventory.Stores[store].URL, err)
		}
	}
	return nil
}

// Copy implements engine.Distributor.
func (n *Nix) Copy(ctx context.Context, instance, path string) error {
	if _, err := n.Runner.Run(ctx, n.CopyCommand(instance, path)); err != nil {
		inst := n.Inventory.Instances[instance]
		if inst.Store == "" {
			return fmt.Errorf("copy %s to %s: %w", path, instance, err)
		}
		return fmt.Errorf("substitute %s on %s from store %s (%s): %w", path, instance, inst.Store, n.Inventory.Stores[inst.Store].Substituter, err)
	}
	return nil
}

func (n *Nix) log(name string) io.Writer {
	if n.Log == nil {
		return io.Discard
	}
	return n.Log(name)
}
