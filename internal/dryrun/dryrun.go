// Package dryrun is --dry-run: a decorator over the real stages that asks
// each for the exact commands it would run, prints them, and runs nothing.
// Systems evaluate to placeholder paths ("/nix/store/<web>"), hosts report
// that they run nothing, and activations succeed.
package dryrun

import (
	"context"
	"io"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/build"
	"github.com/nix-hive/nix-hive/internal/distribute"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Stages returns stages that print what b, d and h would run to out.
func Stages(b *build.Nix, d *distribute.Nix, h *activation.Hosts, out io.Writer) engine.Stages {
	p := &process.Dry{Out: out}
	return engine.Stages{Builder: builder{b, p}, Distributor: distributor{d, p}, Hosts: hosts{h, p}}
}

// print prints commands; a failure to print is the stage's error.
func print(ctx context.Context, p *process.Dry, cmds ...process.Command) error {
	for _, c := range cmds {
		if _, err := p.Run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

type builder struct {
	real *build.Nix
	out  *process.Dry
}

func (b builder) Evaluate(ctx context.Context, system string) (engine.System, error) {
	sys := engine.System{Name: system, Drv: "/nix/store/<" + system + ".drv>", Path: "/nix/store/<" + system + ">"}
	return sys, print(ctx, b.out, b.real.EvaluateCommand(system), b.real.OutputsCommand(system, sys.Drv))
}

func (b builder) Build(ctx context.Context, sys engine.System) error {
	return print(ctx, b.out, b.real.BuildCommand(sys))
}

type distributor struct {
	real *distribute.Nix
	out  *process.Dry
}

func (d distributor) Push(ctx context.Context, store, path string) error {
	return print(ctx, d.out, d.real.PushCommands(store, path)...)
}

func (d distributor) Copy(ctx context.Context, instance, path string) error {
	return print(ctx, d.out, d.real.CopyCommands(instance, path)...)
}

type hosts struct {
	real *activation.Hosts
	out  *process.Dry
}

func (h hosts) Host(instance string) engine.Host {
	return host{h.real.Agent(instance), h.out}
}

type host struct {
	agent *activation.Agent
	out   *process.Dry
}

// Status reports a host that runs nothing, without asking it.
func (h host) Status(context.Context) (engine.HostStatus, error) { return engine.HostStatus{}, nil }

func (h host) Activate(ctx context.Context, path string, g goal.Goal) (engine.Activation, error) {
	args := activation.StartArgs("<id>", path, g, h.agent.Options.ConfirmTimeout, h.agent.Options.OnFailure)
	return printed{g}, print(ctx, h.out, h.agent.Command(args...))
}

// printed is an activation that was only printed: it needs no
// confirmation, and says so in the instance's result.
type printed struct{ goal goal.Goal }

// Confirm implements engine.Activation: the result says it was a dry run.
func (p printed) Confirm(context.Context) (engine.ActivationResult, error) {
	return engine.ActivationResult{Detail: string(p.goal) + ", dry run"}, nil
}
