package deployments

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// Deployed is what a recorded deployment says its instances got.
type Deployed struct {
	// ID is the deployment's id, Environment its environment, Goal the
	// goal it was recorded with.
	ID          int64
	Environment string
	Goal        string
	// Paths holds each instance's store path: one entry for a deployment
	// of one instance, one per member for a group deployment.
	Paths map[string]string
}

// deployedOf reads d's payload; ok is false when it is not nix-hive's.
func deployedOf(d *github.Deployment) (Deployed, bool) {
	var p payload
	if json.Unmarshal(d.Payload, &p) != nil {
		return Deployed{}, false
	}
	out := Deployed{ID: d.GetID(), Environment: d.GetEnvironment(), Goal: p.Goal, Paths: map[string]string{}}
	if p.Instance != "" && p.Path != "" {
		out.Paths[p.Instance] = p.Path
	}
	for n, m := range p.Instances {
		out.Paths[n] = m.Path
	}
	return out, len(out.Paths) > 0
}

// Get reads the deployment with that id.
func (g *GitHub) Get(ctx context.Context, id int64) (Deployed, error) {
	var d *github.Deployment
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		var err error
		d, _, err = c.Repositories.GetDeployment(ctx, g.owner, g.repo, id)
		return err
	}})
	if err != nil {
		return Deployed{}, fmt.Errorf("read deployment %d: %w", id, err)
	}
	out, ok := deployedOf(d)
	if !ok {
		return Deployed{}, fmt.Errorf("deployment %d was not recorded by nix-hive: its payload names no instance and store path", id)
	}
	return out, nil
}

// LastSuccessful finds, among environment's newest ten deployments, the
// newest one for instance whose latest status is success and whose goal
// is one of goals. ok is false when there is none.
func (g *GitHub) LastSuccessful(ctx context.Context, environment, instance string, goals []string) (Deployed, bool, error) {
	deps, err := g.newestIn(ctx, environment)
	if err != nil {
		return Deployed{}, false, err
	}
	for _, d := range deps {
		dep, ok := deployedOf(d)
		if !ok || dep.Paths[instance] == "" || !contains(goals, dep.Goal) {
			continue
		}
		succeeded, err := g.succeeded(ctx, environment, d.GetID())
		if err != nil {
			return Deployed{}, false, err
		}
		if succeeded {
			return dep, true, nil
		}
	}
	return Deployed{}, false, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
