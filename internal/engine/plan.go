package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/goal"
)

// Plan is what a run will do, known once every system is evaluated (so
// every store path is known) and every host the goal activates has said
// what it runs, before anything is built, pushed or recorded.
type Plan struct {
	// Goal is the run's goal.
	Goal goal.Goal
	// Instances holds each selected instance's plan, by name.
	Instances map[string]PlannedInstance
}

// PlannedInstance is one instance's plan.
type PlannedInstance struct {
	// System is the instance's system, Path its toplevel store path ("" when
	// its evaluation failed), Environment its environment in hive.nix.
	System, Path, Environment string
	// Changed is false for an instance that already runs Path as the goal
	// wants it: it is reported unchanged and nothing is built, copied or
	// activated for it. Instances that need work, and those whose planning
	// failed (Err), are changed.
	Changed bool
	// Err says why the instance cannot be deployed: its system did not
	// evaluate or its host could not be reached. It fails at once.
	Err error
	// Current and Profile are what the host ran before the run (its
	// running system and system profile), when it was asked.
	Current, Profile string
}

// Previous is the system an instance goes back to when its rollout wave is
// rolled back: the profile for boot, else the running system.
func (p PlannedInstance) Previous(g goal.Goal) string {
	if g == goal.Boot {
		return p.Profile
	}
	return p.Current
}

// ErrUnreachable is wrapped by the error of an instance whose host could
// not be asked what it runs.
var ErrUnreachable = errors.New("the host could not be reached")

// unreachable is a status error that also unwraps to ErrUnreachable.
type unreachable struct{ err error }

func (u unreachable) Error() string   { return u.err.Error() }
func (u unreachable) Unwrap() []error { return []error{ErrUnreachable, u.err} }

// Changed returns the names of the changed instances, sorted.
func (p *Plan) Changed() []string {
	var names []string
	for n, i := range p.Instances {
		if i.Changed {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// PlanObserver is an Observer that also sees the whole plan, once, before
// the first event. ObservePlan may take a while (the GitHub recorder reads
// the rate limits there); nothing is built meanwhile.
type PlanObserver interface {
	Observer
	ObservePlan(ctx context.Context, p *Plan)
}

// plan asks every host the goal activates what it runs, several at once,
// and plans each instance: unchanged, changed, or failed before starting.
// Instances of systems that did not evaluate are not contacted.
func (r *run) plan(ctx context.Context, names []string) *Plan {
	p := &Plan{Goal: r.goal, Instances: make(map[string]PlannedInstance, len(names))}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(orDefault(r.engine.Parallel, 10))
	for _, n := range names {
		inst := r.inv.Instances[n]
		ev := r.systems[inst.System]
		pi := PlannedInstance{System: inst.System, Path: ev.Path, Environment: inst.Environment, Changed: true, Err: ev.err}
		if pi.Err != nil || !r.goal.Activates() || ctx.Err() != nil {
			p.Instances[n] = pi
			continue
		}
		g.Go(func() error {
			status, err := r.engine.Stages.Hosts.Host(n).Status(ctx)
			switch {
			case err != nil && errors.Is(err, ErrRefused):
				pi.Err = err // the host answered, and refused: it is not unreachable
			case err != nil && ctx.Err() == nil:
				pi.Err = fmt.Errorf("reach %s: %w", n, unreachable{err})
			case err == nil:
				pi.Changed = !r.goal.Unchanged(status.Current, status.Profile, pi.Path)
				pi.Current, pi.Profile = status.Current, status.Profile
			}
			mu.Lock()
			p.Instances[n] = pi
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	for _, o := range r.engine.Observers {
		if po, ok := o.(PlanObserver); ok {
			po.ObservePlan(ctx, p)
		}
	}
	return p
}

// startBuilds starts the build of every system some changed instance
// needs; instances wait for theirs. A run in which every instance is
// unchanged builds nothing.
func (r *run) startBuilds(p *Plan, builds *sync.WaitGroup) {
	needed := map[string]bool{}
	for _, i := range p.Instances {
		if i.Changed && i.Err == nil {
			needed[i.System] = true
		}
	}
	for system := range needed {
		build := r.builds[system]
		builds.Go(func() { _, _ = build() })
	}
}

// settle ends the run of an instance that needs no pipeline: it was
// cancelled, failed planning, or is unchanged. It reports whether it did.
func (r *run) settle(ctx context.Context, name string, pi PlannedInstance) bool {
	switch {
	case ctx.Err() != nil:
		r.finish(ctx, name, Skipped, "", fmt.Errorf("not started: %w", context.Cause(ctx)))
	case pi.Err != nil:
		r.finish(ctx, name, Failed, "", pi.Err)
	case !pi.Changed:
		r.report.setPath(name, pi.Path)
		r.finish(ctx, name, Unchanged, "already running "+pi.Path, nil)
	default:
		return false
	}
	return true
}
