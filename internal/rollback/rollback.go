// Package rollback switches selected hosts back to a system they ran
// before, without evaluating the hive: each host's previous system
// profile generation (as `nixos-rebuild --rollback` goes back one), or the
// store path a recorded GitHub deployment gave the instance. It runs the
// deploy engine on stages of its own (the "build" of an instance is
// finding its path; the copy fetches the path only when the host lacks
// it, from the instance's store or the runner), so the activation is the
// ordinary one — lock, confirmation, automatic rollback of a failing
// switch — and every observer (progress, GitHub deployments) sees a
// deployment like any other.
package rollback

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Target finds the store path an instance goes back to.
type Target func(ctx context.Context, hosts *generation.Reader, instance string) (string, error)

// Previous goes back to the instance's previous system generation: the
// newest generation before the profile's current one that holds another
// system.
func Previous(ctx context.Context, hosts *generation.Reader, instance string) (string, error) {
	p, err := hosts.Read(ctx, instance)
	if err != nil {
		return "", err
	}
	g, err := p.Previous()
	if err != nil {
		return "", fmt.Errorf("roll %s back: %w", instance, err)
	}
	return g.Path, nil
}

// ToDeployment goes back to the store path deployment d gave each
// instance.
func ToDeployment(d deployments.Deployed) Target {
	return func(_ context.Context, _ *generation.Reader, instance string) (string, error) {
		if p := d.Paths[instance]; p != "" {
			return p, nil
		}
		return "", fmt.Errorf("deployment %d did not deploy %s (it deployed %s)", d.ID, instance,
			strings.Join(slices.Sorted(maps.Keys(d.Paths)), ", "))
	}
}

// Run rolls req's selection back to what target finds for each instance,
// with goal switch, and reports each one's outcome as Deploy does. The
// observers that are deploy.PlanCheckers see the hive's selection.
func Run(ctx context.Context, req deploy.Request, target Target, observers ...engine.Observer) (*engine.Report, error) {
	req.Goal, req.DryRun = goal.Switch, false
	s, err := deploy.Open(ctx, req, deploy.Checkers(observers)...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	hosts := &generation.Reader{Runner: s.Runner, SSH: s.SSH}
	systems := map[string]string{}
	for n, inst := range s.Inventory.Instances {
		systems[n] = inst.System
	}
	wrapped := []engine.Observer{s.Progress()}
	for _, o := range observers {
		wrapped = append(wrapped, withSystems(o, systems))
	}
	e := &engine.Engine{
		Stages: engine.Stages{
			Builder:     &finder{hosts: hosts, target: target},
			Distributor: &fetcher{hosts: hosts, real: s.Stages.Distributor, inv: s.Inventory},
			Hosts:       s.Stages.Hosts,
		},
		Goal: goal.Switch, Parallel: req.Parallel, Observers: wrapped, Waves: jumpHostsFirst,
	}
	report, runErr := e.Run(ctx, perInstance(s.Inventory))
	for n, o := range report.Instances {
		o.System = systems[n]
	}
	return report, runErr
}

// jumpHostsFirst runs the jump hosts of the selection first, alone, as a
// deployment without a rollout does.
func jumpHostsFirst(inv *inventory.Inventory) []engine.Wave {
	waves, _ := deploy.RolloutWaves(inv, inventory.Rollout{}, false) // no waves: no selector to fail
	return waves
}

// perInstance is inv with one system per instance, named after it, so
// that the engine "evaluates" (finds the path of) each instance alone.
func perInstance(inv *inventory.Inventory) *inventory.Inventory {
	out := *inv
	out.Systems = map[string]inventory.System{}
	out.Instances = map[string]inventory.Instance{}
	for n, inst := range inv.Instances {
		out.Systems[n] = inv.Systems[inst.System]
		inst.System = n
		out.Instances[n] = inst
	}
	return &out
}

// finder is the Builder of a rollback: evaluating an instance's "system"
// finds the path it goes back to; nothing is built.
type finder struct {
	hosts  *generation.Reader
	target Target
}

// Evaluate implements engine.Builder.
func (f *finder) Evaluate(ctx context.Context, instance string) (engine.System, error) {
	path, err := f.target(ctx, f.hosts, instance)
	if err != nil {
		return engine.System{}, err
	}
	return engine.System{Name: instance, Path: path}, nil
}

// Build implements engine.Builder: the path exists already somewhere.
func (f *finder) Build(context.Context, engine.System) error { return nil }
