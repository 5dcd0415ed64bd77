package engine

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Wave is a group of instances that run together, after every earlier
// wave has ended (see Engine.Waves).
type Wave struct {
	// Instances are the wave's instances.
	Instances []string
	// Name names the rollout wave the group belongs to ("2/3 @eu"); it is
	// on every event of its instances. "" outside a rollout.
	Name string
	// Gate ends a rollout wave: when an instance of the groups since the
	// previous gate did not succeed, every later wave is skipped (and,
	// with Engine.RollbackWave, the wave's activated instances are rolled
	// back).
	Gate bool
}

// Checker runs an instance's health checks on the running system.
type Checker interface {
	// Check runs every health check of the instance's system, each retried
	// as configured; the error names each failing check with its output.
	// An instance without checks passes at once.
	Check(ctx context.Context, instance string) error
}

// KeyUploader uploads an instance's keys to its host.
type KeyUploader interface {
	// Upload writes the instance's keys whose upload time is when
	// (inventory.PreActivation or inventory.PostActivation; "" for all of
	// them, after a reboot) to the host.
	Upload(ctx context.Context, instance, when string) error
}

// Rebooter reboots hosts.
type Rebooter interface {
	// Reboot reboots the instance's host, waits (bounded) until it is back
	// with a new boot id, and returns the system it runs.
	Reboot(ctx context.Context, instance string) (running string, err error)
}

// Rejecter is an Activation that can be refused instead of confirmed
// (its health checks failed): the host then undoes it as the failure
// policy says, and Reject returns the activation's error (wrapping
// ErrRolledBack when the host went back).
type Rejecter interface {
	Reject(ctx context.Context, cause error) error
}

// RebootPending is an Activation that knows, before it is confirmed,
// that its system takes effect only after a reboot.
type RebootPending interface {
	RebootRequired() bool
}

// runWaves runs the waves in order. After a gate whose rollout wave had
// an instance that did not succeed, the later waves' instances are
// skipped (unchanged ones stay unchanged).
func (r *run) runWaves(ctx context.Context, waves []Wave, plan *Plan) {
	var since []string // the instances of the current rollout wave
	stopped := ""
	for _, wave := range waves {
		if stopped != "" {
			for _, n := range wave.Instances {
				if pi := plan.Instances[n]; pi.Err == nil && !pi.Changed {
					r.settle(ctx, n, pi)
					continue
				}
				r.finish(ctx, n, Skipped, "", fmt.Errorf("not started: wave %s failed", stopped))
			}
			continue
		}
		var g errgroup.Group
		g.SetLimit(orDefault(r.engine.Parallel, 10))
		for _, n := range wave.Instances {
			if r.settle(ctx, n, plan.Instances[n]) {
				continue
			}
			g.Go(func() error {
				r.instance(ctx, n)
				return nil
			})
		}
		_ = g.Wait()
		since = append(since, wave.Instances...)
		if !wave.Gate {
			continue
		}
		if r.failedAny(since) {
			stopped = wave.Name
			if r.engine.RollbackWave {
				r.rollbackWave(ctx, wave.Name, since, plan)
			}
		}
		since = nil
	}
}

// failedAny reports whether any of the instances did not succeed.
func (r *run) failedAny(names []string) bool {
	r.report.mu.Lock()
	defer r.report.mu.Unlock()
	for _, n := range names {
		if !r.report.Instances[n].Result.OK() {
			return true
		}
	}
	return false
}

// rollbackWave activates again, on each instance of a failed wave that was
// activated, the system it ran before the run, and reports it rolled back.
func (r *run) rollbackWave(ctx context.Context, wave string, names []string, plan *Plan) {
	var g errgroup.Group
	g.SetLimit(orDefault(r.engine.Parallel, 10))
	for _, n := range names {
		r.report.mu.Lock()
		result := r.report.Instances[n].Result
		r.report.mu.Unlock()
		if result != Activated {
			continue
		}
		g.Go(func() error {
			prev := plan.Instances[n].Previous(r.goal)
			cause := fmt.Errorf("wave %s failed (--rollback-wave)", wave)
			if prev == "" {
				r.finish(ctx, n, Failed, "", fmt.Errorf("%w; nothing to roll back to: the host ran no system before", cause))
				return nil
			}
			r.emit(ctx, Event{Instance: n, State: Activating, Detail: "rolling back to " + prev})
			if _, err := activate(ctx, r.engine.Stages.Hosts.Host(n), prev, r.goal); err != nil {
				r.finish(ctx, n, Failed, "", fmt.Errorf("%w; rolling back to %s failed: %w", cause, prev, err))
				return nil
			}
			r.finish(ctx, n, RolledBack, "", fmt.Errorf("%w: %w to %s", cause, ErrRolledBack, prev))
			return nil
		})
	}
	_ = g.Wait()
}

// waves splits names (the selected instances, sorted) into the waves they
// run in: Waves' groups, each instance once, then the rest.
func (e *Engine) waves(inv *inventory.Inventory, names []string) []Wave {
	if e.Waves == nil {
		return []Wave{{Instances: names}}
	}
	placed := map[string]bool{}
	var out []Wave
	for _, group := range e.Waves(inv) {
		wave := Wave{Name: group.Name, Gate: group.Gate}
		for _, n := range group.Instances {
			if _, ok := inv.Instances[n]; ok && !placed[n] {
				placed[n] = true
				wave.Instances = append(wave.Instances, n)
			}
		}
		if len(wave.Instances) > 0 || wave.Gate {
			out = append(out, wave)
		}
	}
	var rest []string
	for _, n := range names {
		if !placed[n] {
			rest = append(rest, n)
		}
	}
	if len(rest) > 0 {
		out = append(out, Wave{Instances: rest})
	}
	return out
}
