// Package plan says what deploying would do to each selected instance,
// changing nothing on any host: it evaluates each system, asks each host
// what it runs (read-only ssh), builds the systems of the instances that
// would change on the runner, and compares each such instance's running
// closure (path names and sizes read on the host, nothing copied) with the
// target's, like `nix store diff-closures`.
package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/closure"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/goal"
)

// State is an instance's plan.
type State string

// The plans.
const (
	// Unchanged: the host runs the target already (running system and
	// profile), nothing would be done.
	Unchanged State = "unchanged"
	// Changed: the host runs another system; deploying switches it.
	Changed State = "changed"
	// New: the host runs no system yet (no /run/current-system).
	New State = "new"
	// Unknown: the host could not be asked, or the target could not be
	// evaluated; Error says why.
	Unknown State = "unknown"
)

// Instance is one instance's plan, as --json prints it.
type Instance struct {
	// Plan is the instance's State.
	Plan State `json:"plan"`
	// Running is where the host's /run/current-system points; "" when
	// unknown or nowhere.
	Running string `json:"running"`
	// Target is the toplevel the hive gives it; "" when it did not
	// evaluate.
	Target string `json:"target"`
	// Diff compares the running closure with the target's; nil when the
	// instance is unchanged or either closure could not be read.
	Diff *closure.Diff `json:"diff"`
	// Error explains an unknown plan, or why a changed instance has no
	// diff; "" otherwise.
	Error string `json:"error"`

	// System and Environment come from the hive, for the summaries.
	System      string `json:"-"`
	Environment string `json:"-"`
}

// Result is the plan of every selected instance.
type Result struct {
	Instances map[string]*Instance `json:"instances"`
}

// ErrIncomplete is wrapped by Run's error when some instance's plan is
// unknown or its diff could not be made.
var ErrIncomplete = errors.New("the plan is incomplete")

// Run plans req's selection. Its error wraps ErrIncomplete when any
// instance's plan is unknown or lacks its diff; the result is nil only
// when nothing could be planned (the hive did not evaluate, a host key is
// unknown, ...).
func Run(ctx context.Context, req deploy.Request) (*Result, error) {
	req.Goal = goal.Switch
	s, err := deploy.Open(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	p := &planner{s: s, parallel: max(req.Parallel, 1), hosts: &generation.Reader{Runner: s.Runner, SSH: s.SSH},
		closures: &closure.Reader{Runner: s.Runner, SSH: s.SSH}}
	return p.run(ctx)
}

// planner is the state of one Run.
type planner struct {
	s        *deploy.Session
	parallel int
	hosts    *generation.Reader
	closures *closure.Reader

	mu      sync.Mutex
	systems map[string]engine.System
	errs    map[string]error // by system: evaluation or build
}

func (p *planner) run(ctx context.Context) (*Result, error) {
	inv := p.s.Inventory
	p.evaluate(ctx)
	res := &Result{Instances: map[string]*Instance{}}
	var mu sync.Mutex
	forEach(inv.InstanceNames(), p.parallel, func(n string) {
		i := p.status(ctx, n)
		fmt.Fprintf(p.s.Log, "%s: %s\n", n, describe(i))
		mu.Lock()
		res.Instances[n] = i
		mu.Unlock()
	})
	p.build(ctx, res)
	targets := p.targetClosures(ctx, res)
	forEach(inv.InstanceNames(), p.parallel, func(n string) { p.diff(ctx, n, res.Instances[n], targets) })
	var errs []error
	for _, n := range inv.InstanceNames() {
		if e := res.Instances[n].Error; e != "" {
			errs = append(errs, fmt.Errorf("%s: %s", n, e))
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(errs...))
	}
	return res, nil
}

// forEach runs f for each name, at most limit at once.
func forEach(names []string, limit int, f func(string)) {
	var g errgroup.Group
	g.SetLimit(limit)
	for _, n := range names {
		g.Go(func() error { f(n); return nil })
	}
	_ = g.Wait()
}

// evaluate evaluates every selected system, two at once.
func (p *planner) evaluate(ctx context.Context) {
	p.systems, p.errs = map[string]engine.System{}, map[string]error{}
	var names []string
	for name := range p.s.Inventory.Systems {
		names = append(names, name)
	}
	forEach(names, 2, func(name string) {
		sys, err := p.s.Stages.Builder.Evaluate(ctx, name)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.systems[name] = sys
		if err != nil {
			p.errs[name] = err
		}
	})
}

// status asks the host what it runs and plans the instance.
func (p *planner) status(ctx context.Context, name string) *Instance {
	inst := p.s.Inventory.Instances[name]
	i := &Instance{System: inst.System, Environment: inst.Environment, Target: p.systems[inst.System].Path}
	p.mu.Lock()
	evalErr := p.errs[inst.System]
	p.mu.Unlock()
	if evalErr != nil {
		i.Plan, i.Error = Unknown, evalErr.Error()
		return i
	}
	prof, err := p.hosts.Read(ctx, name)
	classify(i, name, prof, err)
	return i
}

// classify plans an instance from what its host said (readErr when it
// could not be asked).
func classify(i *Instance, name string, prof generation.Profile, readErr error) {
	switch {
	case readErr != nil:
		i.Plan, i.Error = Unknown, fmt.Sprintf("reach %s: %v", name, readErr)
	case prof.Running == "":
		i.Plan = New
	case goal.Switch.Unchanged(prof.Running, prof.ProfilePath(), i.Target):
		i.Plan, i.Running = Unchanged, prof.Running
	default:
		i.Plan, i.Running = Changed, prof.Running
	}
}

// needsDiff reports whether the instance gets a closure diff.
func needsDiff(i *Instance) bool { return i.Plan == Changed || i.Plan == New }

// describe is an instance's plan as a progress line says it.
func describe(i *Instance) string {
	switch i.Plan {
	case Unknown:
		return "unknown: " + i.Error
	case Unchanged:
		return "unchanged (running " + i.Running + ")"
	case New:
		return "new (runs no system; target " + i.Target + ")"
	}
	return "changed (running " + i.Running + ", target " + i.Target + ")"
}
