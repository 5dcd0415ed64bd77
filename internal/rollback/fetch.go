package rollback

import (
	"context"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// fetcher is the Distributor of a rollback: a path the host has (one of
// its generations, or still in its store) is used as it is; otherwise it
// is fetched as a deployment would bring it: substituted from the
// instance's store, or copied from the runner.
type fetcher struct {
	hosts *generation.Reader
	real  engine.Distributor
	inv   *inventory.Inventory
}

// Push implements engine.Distributor: a rollback pushes nothing; an
// instance with a store substitutes what the store still has.
func (f *fetcher) Push(context.Context, string, string) error { return nil }

// Copy implements engine.Distributor.
func (f *fetcher) Copy(ctx context.Context, instance, path string) error {
	ok, err := f.hosts.Valid(ctx, instance, path)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	from := "the runner"
	if s := f.inv.Instances[instance].Store; s != "" {
		from = "store " + s
	}
	if err := f.real.Copy(ctx, instance, path); err != nil {
		return fmt.Errorf("%s is not on %s (garbage-collected, or never there) and could not be fetched from %s: %w", path, instance, from, err)
	}
	return nil
}

// systemsFixed passes the plan on with each instance's own system name.
type systemsFixed struct {
	engine.PlanObserver
	systems map[string]string
}

// withSystems makes a plan observer see the hive's system names instead
// of the rollback's one-per-instance ones.
func withSystems(o engine.Observer, systems map[string]string) engine.Observer {
	if po, ok := o.(engine.PlanObserver); ok {
		return systemsFixed{po, systems}
	}
	return o
}

// ObservePlan implements engine.PlanObserver.
func (s systemsFixed) ObservePlan(ctx context.Context, p *engine.Plan) {
	fixed := &engine.Plan{Goal: p.Goal, Instances: map[string]engine.PlannedInstance{}}
	for n, pi := range p.Instances {
		pi.System = s.systems[n]
		fixed.Instances[n] = pi
	}
	s.PlanObserver.ObservePlan(ctx, fixed)
}
