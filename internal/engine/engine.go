// Package engine schedules a deployment: it evaluates and builds each
// system once, pushes each closure to each store once, copies it to each
// instance and activates it, through stages behind small interfaces
// (Builder, Distributor, Host). Instances proceed independently and in
// parallel; one failing never stops the others. Every state change is an
// Event for the observers (progress lines, GitHub deployments).
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Engine runs one deployment.
type Engine struct {
	// Stages do the work.
	Stages Stages
	// Goal is how far to go; default switch.
	Goal goal.Goal
	// Parallel is how many instances are copied and activated at once;
	// default 10.
	Parallel int
	// BuildParallel is how many systems are evaluated and built at once;
	// default 2.
	BuildParallel int
	// Observers receive every state change.
	Observers []Observer
	// Waves, when set, splits the selected instances into groups that run
	// one after another: every instance of a wave has its result (activated
	// and confirmed, or failed) before the next wave starts. Instances it
	// names that are not selected are ignored; selected instances it does
	// not name run in a last wave. nil runs every instance in one wave.
	// Deploy uses it for the rollout's waves (a failed one stops the run,
	// see Wave.Gate), each with its jump hosts first.
	Waves func(inv *inventory.Inventory) []Wave
	// RollbackWave rolls back the activated instances of a failed rollout
	// wave to the system each ran before.
	RollbackWave bool
	// Reboot reboots each host after boot, or after a switch that needs a
	// reboot, through Stages.Rebooter, before its health checks.
	Reboot bool
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// ErrFailed is wrapped by Run's error when any instance did not succeed.
var ErrFailed = errors.New("deployment failed")

// Run deploys every instance of inv (an inventory already narrowed to the
// selection, see inventory.Only) and reports each one's outcome. It plans
// first: every system is evaluated and every host the goal activates is
// asked what it runs (one status call each); only the systems some changed
// instance needs are built, pushed and copied. The error
// wraps ErrFailed when any instance failed, was rolled back or was skipped,
// and joins their errors.
func (e *Engine) Run(ctx context.Context, inv *inventory.Inventory) (*Report, error) {
	r := e.newRun(ctx, inv)
	names := inv.InstanceNames()
	waves := e.waves(inv, names)
	for _, w := range waves {
		for _, n := range w.Instances {
			r.wave[n] = w.Name
		}
	}
	for _, n := range names {
		r.report.add(n, inv.Instances[n], e.now())
	}
	r.evaluate(ctx)
	plan := r.plan(ctx, names)
	for _, n := range names {
		r.emit(ctx, Event{Instance: n, State: Planned, Detail: string(r.goal), Path: r.systems[inv.Instances[n].System].Path})
	}
	var builds sync.WaitGroup
	defer builds.Wait()
	r.startBuilds(plan, &builds)
	r.runWaves(ctx, waves, plan)
	return r.report, r.report.err()
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// run is the state of one Engine.Run.
type run struct {
	engine *Engine
	inv    *inventory.Inventory
	goal   goal.Goal
	report *Report
	// buildSlots bounds the systems evaluated and built at once.
	buildSlots *semaphore.Weighted

	wave    map[string]string                 // each instance's rollout wave, set before it starts
	systems map[string]evaluated              // by system, set by evaluate
	builds  map[string]func() (string, error) // by system, each run once

	mu     sync.Mutex
	pushes map[[2]string]func() error // by system and store, each run once
}

// evaluated is a system's evaluation, or why it failed.
type evaluated struct {
	System
	err error
}

func (e *Engine) newRun(ctx context.Context, inv *inventory.Inventory) *run {
	g := e.Goal
	if g == "" {
		g = goal.Switch
	}
	return &run{
		engine: e, inv: inv, goal: g, report: newReport(),
		buildSlots: semaphore.NewWeighted(int64(orDefault(e.BuildParallel, 2))),
		wave:       map[string]string{},
		systems:    map[string]evaluated{},
		builds:     map[string]func() (string, error){},
		pushes:     map[[2]string]func() error{},
	}
}

// evaluate evaluates every system the instances use, a few at once, so
// that planning knows exactly what each instance gets, and prepares each
// system's build to run once.
func (r *run) evaluate(ctx context.Context) {
	var mu sync.Mutex
	var g errgroup.Group
	for name := range r.inv.Systems {
		g.Go(func() error {
			ev := evaluated{System: System{Name: name}}
			if err := r.buildSlots.Acquire(ctx, 1); err != nil {
				ev.err = fmt.Errorf("evaluate system %s: %w", name, context.Cause(ctx))
			} else {
				ev.System, ev.err = r.engine.Stages.Builder.Evaluate(ctx, name)
				r.buildSlots.Release(1)
			}
			mu.Lock()
			r.systems[name] = ev
			r.builds[name] = sync.OnceValues(func() (string, error) { return r.build(ctx, ev) })
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
}

// build builds an evaluated system and returns its path.
func (r *run) build(ctx context.Context, ev evaluated) (string, error) {
	if ev.err != nil {
		return "", ev.err
	}
	if err := r.buildSlots.Acquire(ctx, 1); err != nil {
		return "", fmt.Errorf("build system %s: %w", ev.Name, context.Cause(ctx))
	}
	defer r.buildSlots.Release(1)
	if err := r.engine.Stages.Builder.Build(ctx, ev.System); err != nil {
		return "", err
	}
	return ev.Path, nil
}

// push returns the function that pushes system's closure at path to store,
// the same function for every instance of that system and store, so that
// it runs once.
func (r *run) push(ctx context.Context, system, path, store string) func() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := [2]string{system, store}
	f, ok := r.pushes[key]
	if !ok {
		f = sync.OnceValue(func() error { return r.engine.Stages.Distributor.Push(ctx, store, path) })
		r.pushes[key] = f
	}
	return f
}

func (r *run) emit(ctx context.Context, ev Event) {
	ev.Time = r.engine.now()
	ev.Wave = r.wave[ev.Instance]
	r.report.update(ev)
	for _, o := range r.engine.Observers {
		o.Observe(ctx, ev)
	}
}

// finish emits the instance's last event, its result.
func (r *run) finish(ctx context.Context, name string, s State, detail string, err error) {
	r.emit(ctx, Event{Instance: name, State: s, Detail: detail, Err: err, Final: true})
}
