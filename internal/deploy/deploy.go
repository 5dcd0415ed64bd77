// Package deploy takes the inventory to running machines: it builds each
// system once, pushes each closure to each store once, copies it to each
// instance (from its store, or straight from the runner), and activates it.
// Instances proceed independently and in parallel; one failing never stops
// the others.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Goal is what a deployment goes as far as.
type Goal string

// The goals: build and push stop before the instances are activated; the
// rest are switch-to-configuration's goals, with nixos-rebuild's meanings.
const (
	GoalBuild       Goal = "build"
	GoalPush        Goal = "push"
	GoalSwitch      Goal = "switch"
	GoalBoot        Goal = "boot"
	GoalTest        Goal = "test"
	GoalDryActivate Goal = "dry-activate"
)

// Goals lists every goal, for help texts and validation.
var Goals = []Goal{GoalBuild, GoalPush, GoalSwitch, GoalBoot, GoalTest, GoalDryActivate}

// ParseGoal validates a goal name.
func ParseGoal(s string) (Goal, error) {
	for _, g := range Goals {
		if string(g) == s {
			return g, nil
		}
	}
	return "", fmt.Errorf("unknown goal %q; use one of build, push, switch, boot, test, dry-activate", s)
}

// ParseParallel validates a parallelism setting (--parallel, the parallel
// input): a whole number of at least 1.
func ParseParallel(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a whole number of at least 1", s)
	}
	return n, nil
}

// activates reports whether the goal runs switch-to-configuration.
func (g Goal) activates() bool { return g != GoalBuild && g != GoalPush }

// Options tune a deployment.
type Options struct {
	// Goal is how far to go; default switch.
	Goal Goal
	// Parallel is how many instances are copied and activated at once.
	Parallel int
	// BuildParallel is how many systems are evaluated and built at once.
	BuildParallel int
	// DryRun prints the commands instead of running them.
	DryRun bool
	// SigningKey is a nix secret key file to sign closures with before they
	// are pushed to stores.
	SigningKey string
	// ExprDir holds hive/*.nix.
	ExprDir string
	// RootDir, if set, receives garbage collector roots for the systems
	// built, so that nix does not collect them while the run is going on.
	RootDir string
	// Activation tunes activation (confirmation, locks, timeouts).
	Activation activation.Options
}

// Observer receives every state change of every instance, in order per
// instance. It must be safe for concurrent use.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe implements Observer.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// Engine runs deployments.
type Engine struct {
	// Runner runs nix and ssh (process.Dry for --dry-run).
	Runner process.Runner
	// Inventory is the evaluated hive.
	Inventory *inventory.Inventory
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Options tune the run.
	Options Options
	// Observer, if set, receives every state change.
	Observer Observer
	// Log, if set, returns the writer for an instance's (or a system's)
	// command output; nil discards it.
	Log func(name string) io.Writer
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// ErrFailed is wrapped by Run's error when any instance did not succeed.
var ErrFailed = errors.New("deployment failed")

// Run deploys the named instances and reports each one's outcome. The
// error wraps ErrFailed when any instance failed, was rolled back or was
// skipped, and joins their errors.
func (e *Engine) Run(ctx context.Context, names []string) (*Report, error) {
	r := &run{engine: e, report: newReport(), builds: map[string]*future{}, pushes: map[string]*future{}}
	if e.Options.Goal == "" {
		e.Options.Goal = GoalSwitch
	}
	for _, n := range names {
		inst, ok := e.Inventory.Instances[n]
		if !ok {
			return nil, fmt.Errorf("deploy %s: no such instance in %s", n, e.Inventory.File)
		}
		r.report.add(n, inst, e.now())
	}
	systems := r.evaluate(ctx, names)
	for _, n := range names {
		r.event(ctx, Event{Instance: n, State: Planned, Detail: string(e.Options.Goal), Path: systems[e.Inventory.Instances[n].System].path})
	}
	r.startBuilds(ctx, systems)

	parallel := e.Options.Parallel
	if parallel <= 0 {
		parallel = 10
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for _, n := range names {
		if ctx.Err() != nil {
			r.finish(ctx, n, Skipped, "", fmt.Errorf("not started: %w", context.Cause(ctx)))
			continue
		}
		g.Go(func() error {
			r.instance(ctx, n)
			return nil
		})
	}
	_ = g.Wait()
	return r.report, r.report.err()
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log(name string) io.Writer {
	if e.Log == nil {
		return io.Discard
	}
	return e.Log(name)
}

// future is a value computed once and awaited by many instances.
type future struct {
	done chan struct{}
	path string
	err  error
}

func newFuture() *future { return &future{done: make(chan struct{})} }

func (f *future) resolve(path string, err error) {
	f.path, f.err = path, err
	close(f.done)
}

func (f *future) wait(ctx context.Context) (string, error) {
	select {
	case <-f.done:
		return f.path, f.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// run is the state of one Engine.Run.
type run struct {
	engine *Engine
	report *Report

	mu     sync.Mutex
	builds map[string]*future // by system
	pushes map[string]*future // by system + "\x00" + store
}

func (r *run) emit(ctx context.Context, name string, s State, detail string, err error) {
	r.event(ctx, Event{Instance: name, State: s, Detail: detail, Err: err})
}

// finish emits the instance's last event, its result.
func (r *run) finish(ctx context.Context, name string, s State, detail string, err error) {
	r.event(ctx, Event{Instance: name, State: s, Detail: detail, Err: err, Final: true})
}

func (r *run) event(ctx context.Context, ev Event) {
	ev.Time = r.engine.now()
	r.report.update(ev)
	if r.engine.Observer != nil {
		r.engine.Observer.Observe(ctx, ev)
	}
}

// evaluate evaluates every system the instances use, at most
// BuildParallel at once, and returns each one's derivation and output path
// (or the error), so that planning knows exactly what each instance gets.
func (r *run) evaluate(ctx context.Context, names []string) map[string]evaluated {
	limit := r.engine.Options.BuildParallel
	if limit <= 0 {
		limit = 2
	}
	systems := map[string]bool{}
	for _, n := range names {
		systems[r.engine.Inventory.Instances[n].System] = true
	}
	ordered := make([]string, 0, len(systems))
	for s := range systems {
		ordered = append(ordered, s)
	}
	sort.Strings(ordered)
	var mu sync.Mutex
	out := map[string]evaluated{}
	var g errgroup.Group
	g.SetLimit(limit)
	for _, s := range ordered {
		g.Go(func() error {
			ev := r.eval(ctx, s)
			mu.Lock()
			out[s] = ev
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// startBuilds starts building every evaluated system, at most
// BuildParallel at once; a system that failed to evaluate resolves to its
// error at once.
func (r *run) startBuilds(ctx context.Context, systems map[string]evaluated) {
	limit := r.engine.Options.BuildParallel
	if limit <= 0 {
		limit = 2
	}
	sem := make(chan struct{}, limit)
	for s, ev := range systems {
		f := newFuture()
		r.builds[s] = f
		if ev.err != nil {
			f.resolve("", ev.err)
			continue
		}
		go func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				f.resolve("", fmt.Errorf("build system %s: %w", s, context.Cause(ctx)))
				return
			}
			defer func() { <-sem }()
			f.resolve(r.build(ctx, s, ev))
		}()
	}
}

// push returns the future of pushing system's closure to store, starting
// the push on first use.
func (r *run) push(ctx context.Context, system, path, store string) *future {
	key := system + "\x00" + store
	r.mu.Lock()
	f, ok := r.pushes[key]
	if !ok {
		f = newFuture()
		r.pushes[key] = f
	}
	r.mu.Unlock()
	if !ok {
		go func() { f.resolve(path, r.pushToStore(ctx, path, store)) }()
	}
	return f
}
