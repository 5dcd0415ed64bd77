package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// instance takes one instance through the pipeline and records its outcome.
func (r *run) instance(ctx context.Context, name string) {
	inst := r.inv.Instances[name]
	step := func(s State, detail string) { r.emit(ctx, Event{Instance: name, State: s, Detail: detail}) }
	fail := func(err error) { r.fail(ctx, name, err) }

	if ctx.Err() != nil {
		r.finish(ctx, name, Skipped, "", fmt.Errorf("not started: %w", context.Cause(ctx)))
		return
	}
	step(Building, inst.System)
	path, err := r.builds[inst.System]()
	if err != nil {
		fail(err)
		return
	}
	r.report.setPath(name, path)
	if !r.goal.NeedsHosts() {
		r.finish(ctx, name, Built, path, nil)
		return
	}
	step(Built, path)

	host := r.engine.Stages.Hosts.Host(name) // what it runs was read when planning
	if err := r.deliver(ctx, name, path, step); err != nil {
		fail(err)
		return
	}
	if !r.goal.Activates() {
		r.finish(ctx, name, Pushed, "copied to "+name, nil)
		return
	}
	step(Copied, "")
	if ctx.Err() != nil {
		r.finish(ctx, name, Skipped, "", fmt.Errorf("not activated: %w", context.Cause(ctx)))
		return
	}
	if err := r.upload(ctx, name, inventory.PreActivation); err != nil {
		fail(err)
		return
	}
	step(Activating, string(r.goal))
	res, err := r.activateChecked(ctx, name, host, path)
	if err != nil {
		fail(fmt.Errorf("activate %s on %s: %w", r.goal, name, err))
		return
	}
	r.emit(ctx, Event{Instance: name, State: Activated, Detail: res.Detail, RebootRequired: res.RebootRequired,
		Warning: res.Warning, Final: true})
}

// fail ends the instance with err: rolled back when the host went back to
// its previous generation, else failed.
func (r *run) fail(ctx context.Context, name string, err error) {
	state := Failed
	if errors.Is(err, ErrRolledBack) {
		state = RolledBack
	}
	r.finish(ctx, name, state, "", err)
}

// deliver brings the closure onto the instance: through its store, which
// gets it once for all its instances, or straight from the runner.
func (r *run) deliver(ctx context.Context, name, path string, step func(State, string)) error {
	inst := r.inv.Instances[name]
	source := "from the runner"
	if inst.Store != "" {
		step(Storing, inst.Store)
		if err := r.push(ctx, inst.System, path, inst.Store)(); err != nil {
			return err
		}
		step(Stored, inst.Store)
		source = "from store " + inst.Store
	}
	step(Copying, source)
	return r.engine.Stages.Distributor.Copy(ctx, name, path)
}

// activate runs the activation and, when the goal needs it, its
// confirmation, and returns the outcome (its Detail the goal's name unless
// the host said more).
func activate(ctx context.Context, host Host, path string, g goal.Goal) (ActivationResult, error) {
	a, err := host.Activate(ctx, path, g)
	if err != nil {
		return ActivationResult{}, err
	}
	res, err := a.Confirm(ctx)
	if err != nil {
		return ActivationResult{}, err
	}
	if res.Detail == "" {
		res.Detail = string(g)
	}
	return res, nil
}
