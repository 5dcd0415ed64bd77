package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/health"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/keys"
	"github.com/nix-hive/nix-hive/internal/linewriter"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/selector"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// RolloutWaves splits the selected instances of inv into the rollout's
// waves, in order: each wave holds the instances its selector picks that
// no earlier wave holds, and the instances no selector picks form a last
// wave ("rest"). A batch size splits each wave into batches of N
// instances, or of P% of the wave (rounded up), each a wave of its own.
// Within a wave, jump hosts of the wave run first, alone (JumpHostWaves);
// the wave's last group is its gate, after which a failure stops the run.
// A rollout without waves or batch keeps the jump-host order and no gate.
// whole says the selection is the whole hive: a wave term that selects no
// instance is then a typo and an error (with --on it may just fall outside
// the selection).
func RolloutWaves(inv *inventory.Inventory, ro inventory.Rollout, whole bool) ([]engine.Wave, error) {
	jumps := slices.Concat(JumpHostWaves(inv)...)
	if len(ro.Waves) == 0 && ro.Batch == "" {
		var out []engine.Wave
		for _, j := range jumps {
			out = append(out, engine.Wave{Instances: []string{j}})
		}
		return out, nil
	}
	groups, labels, err := selectWaves(inv, ro.Waves, whole)
	if err != nil {
		return nil, err
	}
	var batches [][]string
	var names []string
	for i, g := range groups {
		parts := batch(g, ro.Batch)
		for j, p := range parts {
			batches = append(batches, p)
			name := labels[i]
			if len(parts) > 1 {
				name += fmt.Sprintf(" batch %d/%d", j+1, len(parts))
			}
			names = append(names, name)
		}
	}
	var out []engine.Wave
	for i, b := range batches {
		name := fmt.Sprintf("%d/%d %s", i+1, len(batches), names[i])
		for _, j := range jumps {
			if slices.Contains(b, j) {
				out = append(out, engine.Wave{Instances: []string{j}, Name: name})
			}
		}
		var rest []string
		for _, n := range b {
			if !slices.Contains(jumps, n) {
				rest = append(rest, n)
			}
		}
		out = append(out, engine.Wave{Instances: rest, Name: name, Gate: true})
	}
	return out, nil
}

// selectWaves returns the instances of each non-empty wave, and its label
// (the selector's text, "rest" for the instances no selector picked).
func selectWaves(inv *inventory.Inventory, waves []string, whole bool) ([][]string, []string, error) {
	placed := map[string]bool{}
	var groups [][]string
	var labels []string
	var errs []error
	for i, text := range waves {
		sel, err := selector.Parse(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("wave %d: %w", i+1, err))
			continue
		}
		if len(sel.Terms) == 0 {
			errs = append(errs, fmt.Errorf("wave %d is empty; give it instance names, globs or @tags", i+1))
		}
		var group []string
		for _, t := range sel.Terms {
			picked, err := selector.Selector{Terms: []selector.Term{t}}.Select(inv.InstanceNames(), inv.Tags)
			if err != nil && (whole || !errors.Is(err, selector.ErrNoMatch)) {
				errs = append(errs, fmt.Errorf("wave %d (%s): %w", i+1, text, err))
			}
			for _, n := range picked {
				if !placed[n] {
					placed[n] = true
					group = append(group, n)
				}
			}
		}
		if len(group) > 0 {
			slices.Sort(group)
			groups, labels = append(groups, group), append(labels, text)
		}
	}
	var rest []string
	for _, n := range inv.InstanceNames() {
		if !placed[n] {
			rest = append(rest, n)
		}
	}
	if len(rest) > 0 {
		label := "rest"
		if len(waves) == 0 {
			label = "all"
		}
		groups, labels = append(groups, rest), append(labels, label)
	}
	return groups, labels, errors.Join(errs...)
}

// batch splits a wave into batches of size ("N" or "P%" of the wave, at
// least one instance); "" keeps it whole.
func batch(names []string, size string) [][]string {
	if size == "" || len(names) == 0 {
		return [][]string{names}
	}
	n := 0
	if p, ok := strings.CutSuffix(size, "%"); ok {
		pct, _ := strconv.Atoi(p)
		n = (len(names)*pct + 99) / 100
	} else {
		n, _ = strconv.Atoi(size)
	}
	return slices.Collect(slices.Chunk(names, max(n, 1)))
}

// ParseWaves checks the command line's or the action's waves (selectors)
// and batch size.
func ParseWaves(waves []string, size string) error {
	var errs []error
	for i, w := range waves {
		if sel, err := selector.Parse(w); err != nil {
			errs = append(errs, fmt.Errorf("wave %d: %w", i+1, err))
		} else if len(sel.Terms) == 0 {
			errs = append(errs, fmt.Errorf("wave %d is empty; give it instance names, globs or @tags", i+1))
		}
	}
	if size != "" && !inventory.ValidBatch(size) {
		errs = append(errs, fmt.Errorf("batch %q is neither a number of instances (5) nor a percentage (25%%)", size))
	}
	return errors.Join(errs...)
}

// rollout is a run's rollout: its waves and the keys its instances need.
type rollout struct {
	waves        []engine.Wave
	rollbackWave bool
	keys         *keys.Set
	keyVars      []string // the environment variables keys come from
}

// prepareRollout computes the waves (the request's, else hive.nix's) and
// reads every key's content, before any host is touched. A dry run reads
// no key.
func prepareRollout(ctx context.Context, req Request, r process.Runner, inv *inventory.Inventory) (*rollout, error) {
	ro := inv.Rollout
	if len(req.Waves) > 0 {
		ro.Waves = req.Waves
	}
	if req.Batch != "" {
		ro.Batch = req.Batch
	}
	waves, err := RolloutWaves(inv, ro, len(req.Selector.Terms) == 0)
	if err != nil {
		return nil, fmt.Errorf("%s: rollout: %w", inv.File, err)
	}
	out := &rollout{waves: waves, rollbackWave: ro.RollbackWave || req.RollbackWave, keys: &keys.Set{}, keyVars: keyVars(inv)}
	if req.DryRun || !req.Goal.Replaces() {
		return out, nil
	}
	if out.keys, err = keys.Resolve(ctx, r, inv, req.Environ); err != nil {
		return nil, err
	}
	return out, nil
}

// keyVars are the environment variables the selected instances' keys
// are read from.
func keyVars(inv *inventory.Inventory) []string {
	var out []string
	for _, inst := range inv.InstanceNames() {
		for _, k := range inv.KeysOf(inst) {
			if k.Env != "" && !slices.Contains(out, k.Env) {
				out = append(out, k.Env)
			}
		}
	}
	return out
}

// withoutKeyVars returns a runner whose programs (ssh, nix) do not see
// the environment variables keys are read from.
func (ro *rollout) withoutKeyVars(r *process.Exec) *process.Exec {
	if len(ro.keyVars) == 0 {
		return r
	}
	out := *r
	base := r.Environ
	if base == nil {
		base = os.Environ() // what Exec itself falls back to
	}
	out.Environ = slices.DeleteFunc(slices.Clone(base), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(ro.keyVars, name)
	})
	return &out
}

// stages adds the health checks, the keys and the reboots to the stages
// of a real run.
func (ro *rollout) stages(s engine.Stages, req Request, r process.Runner, ssh *sshconfig.Config, inv *inventory.Inventory, log *linewriter.Shared) engine.Stages {
	if req.DryRun {
		return s
	}
	prefixed := func(name string) io.Writer { return log.Prefixed(name + "| ") }
	s.Checker = &health.Checker{Runner: r, SSH: ssh, Inventory: inv, Log: prefixed}
	s.Keys = &keys.Uploader{Runner: r, SSH: ssh, Keys: ro.keys, Log: prefixed}
	if rb, ok := s.Hosts.(engine.Rebooter); ok {
		s.Rebooter = rb
	}
	return s
}

// holdFor is how much longer a host waits for its confirmation so that
// the slowest system's health checks (and its keys' upload) fit in.
func holdFor(inv *inventory.Inventory) time.Duration {
	var d time.Duration
	for sys := range inv.Systems {
		if checks := inv.HealthChecks[sys]; len(checks) > 0 {
			d = max(d, health.Budget(checks)+30*time.Second)
		}
	}
	return d
}
