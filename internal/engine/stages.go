package engine

import (
	"context"
	"errors"

	"github.com/nix-hive/nix-hive/internal/goal"
)

// System is an evaluated system: the derivation of its toplevel and the
// store path that derivation builds.
type System struct {
	// Name is the system's name in hive.nix.
	Name string
	// Drv is the toplevel derivation.
	Drv string
	// Path is the toplevel's output path, known before it is built.
	Path string
}

// Builder evaluates and builds systems on the runner. The engine calls
// Evaluate and Build once per system, however many instances share it.
type Builder interface {
	// Evaluate returns the system's derivation and output path without
	// building anything.
	Evaluate(ctx context.Context, system string) (System, error)
	// Build realises an evaluated system on the runner.
	Build(ctx context.Context, sys System) error
}

// Distributor moves closures from the runner towards the instances. The
// engine calls Push once per system and store.
type Distributor interface {
	// Push copies the closure of path to a store.
	Push(ctx context.Context, store, path string) error
	// Copy brings the closure of path onto an instance: from its store when
	// it has one, else straight from the runner.
	Copy(ctx context.Context, instance, path string) error
}

// HostStatus is what a host runs.
type HostStatus struct {
	// Current is where /run/current-system points ("" if nowhere).
	Current string
	// Profile is where the system profile points ("" if nowhere).
	Profile string
}

// ActivationResult is what a successful activation left on the host.
type ActivationResult struct {
	// Detail describes the outcome for a person; "" means the goal's name.
	Detail string
	// RebootRequired is set when the new system takes full effect only
	// after a reboot: switch-to-configuration said so (exit 100, the
	// running system is unchanged), or the new kernel, initrd or kernel
	// modules differ from the booted system's.
	RebootRequired bool
	// Warning is set when the activation counts as a success with a
	// problem worth a look (failed units kept by policy, say).
	Warning string
}

// Activation is an activation that ran and may still await confirmation.
type Activation interface {
	// Confirm confirms the new system over a fresh connection, when the
	// goal needs it, waits until the host reports the final outcome and
	// returns it.
	Confirm(ctx context.Context) (ActivationResult, error)
}

// Host is one instance as the engine acts on it.
type Host interface {
	// Status reads what the host runs.
	Status(ctx context.Context) (HostStatus, error)
	// Activate switches the host to path with the goal's action. It
	// returns once the switch has run; an error means it failed (wrapping
	// ErrRolledBack when the host went back to its previous generation).
	Activate(ctx context.Context, path string, g goal.Goal) (Activation, error)
}

// Hosts gives the Host of an instance.
type Hosts interface {
	Host(instance string) Host
}

// Stages are the parts the engine schedules.
type Stages struct {
	Builder     Builder
	Distributor Distributor
	Hosts       Hosts
	// Checker, Keys and Rebooter are optional (nil: no health checks, no
	// keys, no reboots).
	Checker  Checker
	Keys     KeyUploader
	Rebooter Rebooter
}

// ErrRefused is wrapped by a Host's error when the host was reached but
// will not let nix-hive act on it (a login that is not root and cannot
// sudo): the engine reports the error as it is, not as "reach".
var ErrRefused = errors.New("the host refuses")

// ErrRolledBack is wrapped by a Host's error when a failed or unconfirmed
// activation was undone and the host runs its previous generation.
var ErrRolledBack = errors.New("rolled back to the previous generation")
