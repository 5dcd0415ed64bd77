// Package status compares what each selected instance runs with what it
// should run: the store path of its last successful GitHub deployment (in
// the action), or the hive's target (on the command line). It reads each
// host over read-only ssh (/run/current-system and the system profile) and
// reports drift: an out-of-band switch, a manual rollback, a rebuilt host,
// a host gone.
package status

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/goal"
)

// Instance is one instance's status, as --json prints it.
type Instance struct {
	// Expected is the store path it should run; "" when nothing says.
	Expected string `json:"expected"`
	// Running is where /run/current-system points, Profile where the
	// system profile points; "" when unknown or nowhere.
	Running string `json:"running"`
	Profile string `json:"profile"`
	// Reachable says whether the host answered.
	Reachable bool `json:"reachable"`
	// Drift is set when the host does not run what it should, or could
	// not be asked.
	Drift bool `json:"drift"`

	// Reason says what drifted, for a person; Source where Expected comes
	// from ("deployment 42", "hive.nix").
	Reason string `json:"-"`
	Source string `json:"-"`
}

// Result is every selected instance's status.
type Result struct {
	Instances map[string]*Instance `json:"instances"`
}

// Names returns the instance names, sorted.
func (r *Result) Names() []string { return slices.Sorted(maps.Keys(r.Instances)) }

// Drifted returns the names of the instances that drifted, sorted.
func (r *Result) Drifted() []string {
	var out []string
	for _, n := range r.Names() {
		if r.Instances[n].Drift {
			out = append(out, n)
		}
	}
	return out
}

// Expectation is what an instance should run.
type Expectation struct {
	// Path is the store path; "" when nothing was ever deployed.
	Path string
	// Goal is the goal it was deployed with: switch expects the running
	// system and the profile on Path, boot the profile, test the running
	// system.
	Goal goal.Goal
	// Source says where the expectation comes from.
	Source string
	// Err is set when the expectation could not be known.
	Err error
}

// Expect tells what each of the session's instances should run.
type Expect func(ctx context.Context, s *deploy.Session) map[string]Expectation

// ErrDrift is wrapped by Run's error when any instance drifted.
var ErrDrift = errors.New("drift")

// Run reads every selected host and compares it with expect's answer. Its
// error wraps ErrDrift when any instance drifted; the result is nil when
// nothing could be checked (the hive did not evaluate, ...).
func Run(ctx context.Context, req deploy.Request, expect Expect) (*Result, error) {
	req.Goal = goal.Switch
	s, err := deploy.Open(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	expected := expect(ctx, s)
	hosts := &generation.Reader{Runner: s.Runner, SSH: s.SSH}
	res := &Result{Instances: map[string]*Instance{}}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(max(req.Parallel, 1))
	for _, n := range s.Inventory.InstanceNames() {
		g.Go(func() error {
			prof, err := hosts.Read(ctx, n)
			i := Compare(expected[n], prof, err)
			mu.Lock()
			res.Instances[n] = i
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if d := res.Drifted(); len(d) > 0 {
		return res, fmt.Errorf("%w: %d of %d instances do not run what they should: %v", ErrDrift, len(d), len(res.Instances), d)
	}
	return res, nil
}

// Compare decides one instance's status from what it should run and what
// its host said (readErr when it could not be read).
func Compare(exp Expectation, prof generation.Profile, readErr error) *Instance {
	i := &Instance{Expected: exp.Path, Source: exp.Source, Reachable: readErr == nil}
	if readErr == nil {
		i.Running, i.Profile = prof.Running, prof.ProfilePath()
	}
	g := exp.Goal
	if g == "" {
		g = goal.Switch
	}
	switch {
	case readErr != nil:
		i.Drift, i.Reason = true, fmt.Sprintf("unreachable: %v", readErr)
	case exp.Err != nil:
		i.Drift, i.Reason = true, fmt.Sprintf("what it should run is not known: %v", exp.Err)
	case exp.Path == "":
		i.Drift, i.Reason = true, "no successful deployment is recorded for it"
	case !g.Unchanged(i.Running, i.Profile, exp.Path):
		i.Drift, i.Reason = true, fmt.Sprintf("runs %s (profile %s), but %s (%s) says %s", orNone(i.Running), orNone(i.Profile), exp.Source, g, exp.Path)
	}
	return i
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// FromHive expects each instance to run its system as the hive evaluates
// now (nothing is built).
func FromHive(ctx context.Context, s *deploy.Session) map[string]Expectation {
	paths := map[string]Expectation{}
	for name := range s.Inventory.Systems {
		sys, err := s.Stages.Builder.Evaluate(ctx, name)
		paths[name] = Expectation{Path: sys.Path, Goal: goal.Switch, Source: "hive.nix", Err: err}
	}
	out := map[string]Expectation{}
	for n, inst := range s.Inventory.Instances {
		out[n] = paths[inst.System]
	}
	return out
}
