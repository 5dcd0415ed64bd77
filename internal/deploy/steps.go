package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
)

// evaluated is a system's evaluation: its derivation and output path.
type evaluated struct {
	drv, path string
	err       error
}

// eval evaluates one system: its toplevel derivation and the output path
// that derivation will build.
func (r *run) eval(ctx context.Context, name string) evaluated {
	e := r.engine
	sys := e.Inventory.Systems[name]
	log := e.log("system " + name)
	fail := func(err error) evaluated { return evaluated{err: fmt.Errorf("evaluate system %s: %w", name, err)} }
	out, err := e.Runner.Run(ctx, process.Command{Args: nixcmd.Instantiate(nixcmd.SystemBuild{
		ExprDir: e.Options.ExprDir, HiveFile: e.Inventory.File, Name: name,
		Platform: sys.System, Path: sys.Path, Settings: sys.Nix,
	}, r.gcRoot(name+".drv")), Stderr: log})
	if err != nil {
		return fail(err)
	}
	drv, err := r.pathFrom(out, r.gcRoot(name+".drv"), "/nix/store/<"+name+".drv>")
	if err != nil {
		return fail(err)
	}
	out, err = e.Runner.Run(ctx, process.Command{Args: nixcmd.QueryOutputs(drv), Stderr: log})
	if err != nil {
		return fail(err)
	}
	path, err := r.pathFrom(out, "", "/nix/store/<"+name+">")
	if err != nil {
		return fail(err)
	}
	return evaluated{drv: drv, path: path}
}

// build builds an evaluated system and returns its toplevel path.
func (r *run) build(ctx context.Context, name string, ev evaluated) (string, error) {
	e := r.engine
	sys := e.Inventory.Systems[name]
	_, err := e.Runner.Run(ctx, process.Command{Args: nixcmd.Realise(ev.drv, r.gcRoot(name), sys.Nix), Stderr: e.log("system " + name)})
	if err != nil {
		return "", fmt.Errorf("build system %s: %w", name, err)
	}
	return ev.path, nil
}

// gcRoot is where the built system is registered as a garbage collector
// root for the length of the run (none in a dry run or without a RootDir).
func (r *run) gcRoot(system string) string {
	if r.engine.Options.RootDir == "" || r.engine.Options.DryRun {
		return ""
	}
	return filepath.Join(r.engine.Options.RootDir, "system-"+system)
}

// pathFrom returns the store path a nix command produced: the target of
// the garbage collector root when there is one (nix then prints the root),
// else the path nix printed; in a dry run, where nothing ran, placeholder.
func (r *run) pathFrom(out []byte, root, placeholder string) (string, error) {
	if r.engine.Options.DryRun {
		return placeholder, nil
	}
	if root != "" {
		target, err := os.Readlink(root)
		if err != nil {
			return "", fmt.Errorf("read the result link: %w", err)
		}
		out = []byte(target)
	}
	return nixcmd.ParsePath(out)
}

// pushToStore signs the closure (when a key is given) and copies it to the
// store, once per system and store.
func (r *run) pushToStore(ctx context.Context, path, store string) error {
	e := r.engine
	s := e.Inventory.Stores[store]
	log := e.log("store " + store)
	if e.Options.SigningKey != "" {
		if _, err := e.Runner.Run(ctx, process.Command{Args: nixcmd.Sign(e.Options.SigningKey, path), Stderr: log}); err != nil {
			return fmt.Errorf("sign %s for store %s: %w", path, store, err)
		}
	}
	if _, err := e.Runner.Run(ctx, process.Command{Args: nixcmd.CopyTo(s.URL, path), Env: e.SSH.NixEnv(), Stderr: log}); err != nil {
		return fmt.Errorf("push to store %s (%s): %w", store, s.URL, err)
	}
	return nil
}

// instance takes one instance through the pipeline and records its outcome.
func (r *run) instance(ctx context.Context, name string) {
	e := r.engine
	inst := e.Inventory.Instances[name]
	goal := e.Options.Goal
	fail := func(err error) {
		state := Failed
		if errors.Is(err, activation.ErrRolledBack) {
			state = RolledBack
		}
		r.finish(ctx, name, state, "", err)
	}

	if ctx.Err() != nil {
		r.finish(ctx, name, Skipped, "", fmt.Errorf("not started: %w", context.Cause(ctx)))
		return
	}
	r.emit(ctx, name, Building, inst.System, nil)
	path, err := r.builds[inst.System].wait(ctx)
	if err != nil {
		fail(err)
		return
	}
	r.report.setPath(name, path)
	if goal == GoalBuild {
		r.finish(ctx, name, Built, path, nil)
		return
	}
	r.emit(ctx, name, Built, path, nil)

	agent := &activation.Agent{Runner: e.Runner, SSH: e.SSH, Host: name, Log: r.logf(name)}
	if goal.activates() && !e.Options.DryRun {
		status, err := agent.Status(ctx)
		if err != nil {
			fail(fmt.Errorf("reach %s: %w", name, err))
			return
		}
		if status.Unchanged(path, activation.Goal(goal)) {
			r.finish(ctx, name, Unchanged, "already running "+path, nil)
			return
		}
	}

	// Only instances that need the closure wait for their store to get it.
	if inst.Store != "" {
		r.emit(ctx, name, Pushing, inst.Store, nil)
		if _, err := r.push(ctx, inst.System, path, inst.Store).wait(ctx); err != nil {
			fail(err)
			return
		}
		r.emit(ctx, name, Pushed, inst.Store, nil)
	}

	r.emit(ctx, name, Copying, copySource(inst.Store), nil)
	if err := r.copy(ctx, name, path); err != nil {
		fail(err)
		return
	}
	if !goal.activates() {
		r.finish(ctx, name, Pushed, "copied to "+name, nil)
		return
	}
	r.emit(ctx, name, Copied, "", nil)

	if ctx.Err() != nil {
		r.finish(ctx, name, Skipped, "", fmt.Errorf("not activated: %w", context.Cause(ctx)))
		return
	}
	r.emit(ctx, name, Activating, string(goal), nil)
	if e.Options.DryRun {
		if err := agent.DryRun(ctx, path, activation.Goal(goal), e.Options.Activation); err != nil {
			fail(err)
			return
		}
		r.finish(ctx, name, Activated, string(goal)+", dry run", nil)
		return
	}
	if _, err := agent.Activate(ctx, path, activation.Goal(goal), e.Options.Activation); err != nil {
		fail(fmt.Errorf("activate %s on %s: %w", goal, name, err))
		return
	}
	r.finish(ctx, name, Activated, string(goal), nil)
}

func copySource(store string) string {
	if store == "" {
		return "from the runner"
	}
	return "from store " + store
}

// copy brings the closure onto the instance: from its store when it has
// one (the instance substitutes, checking the store's key), else straight
// from the runner.
func (r *run) copy(ctx context.Context, name, path string) error {
	e := r.engine
	inst := e.Inventory.Instances[name]
	log := e.log(name)
	if inst.Store == "" {
		_, err := e.Runner.Run(ctx, process.Command{Args: nixcmd.CopyTo("ssh://"+name, path), Env: e.SSH.NixEnv(), Stderr: log})
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", path, name, err)
		}
		return nil
	}
	s := e.Inventory.Stores[inst.Store]
	_, err := e.Runner.Run(ctx, process.Command{
		Args:   e.SSH.Command(name, nixcmd.Substitute(path, s.Substituter, s.PublicKey)...),
		Stderr: log,
	})
	if err != nil {
		return fmt.Errorf("substitute %s on %s from store %s (%s): %w", path, name, inst.Store, s.Substituter, err)
	}
	return nil
}

func (r *run) logf(name string) func(string, ...any) {
	w := r.engine.log(name)
	return func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
}
