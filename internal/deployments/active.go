package deployments

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// activeLookback is how many of an environment's newest deployments Active
// reads. A run retires its predecessors as it succeeds, so only the newest
// few can still be active.
const activeLookback = 10

// Active returns the ids of the deployments in environment whose latest
// status is success, newest first, among the environment's newest ten.
//
// GitHub's auto_inactive does not retire production deployments; a caller
// that records production deployments retires the earlier active ones
// itself with it (setting StateInactive on each).
func (g *GitHub) Active(ctx context.Context, environment string) ([]int64, error) {
	deps, err := g.newestIn(ctx, environment)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, d := range deps {
		ok, err := g.succeeded(ctx, environment, d.GetID())
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, d.GetID())
		}
	}
	return ids, nil
}

// newestIn lists the newest deployments of environment, at most
// activeLookback of them.
func (g *GitHub) newestIn(ctx context.Context, environment string) ([]*github.Deployment, error) {
	var deps []*github.Deployment
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		var err error
		deps, _, err = c.Repositories.ListDeployments(ctx, g.owner, g.repo, &github.DeploymentsListOptions{
			Environment: environment, ListOptions: github.ListOptions{PerPage: activeLookback},
		})
		return err
	}})
	if err != nil {
		return nil, fmt.Errorf("list the deployments in environment %s: %w", environment, err)
	}
	return deps, nil
}

// succeeded reports whether deployment id's latest status is success.
func (g *GitHub) succeeded(ctx context.Context, environment string, id int64) (bool, error) {
	var latest []*github.DeploymentStatus
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		var err error
		latest, _, err = c.Repositories.ListDeploymentStatuses(ctx, g.owner, g.repo, id, &github.ListOptions{PerPage: 1})
		return err
	}})
	if err != nil {
		return false, fmt.Errorf("read the status of deployment %d in environment %s: %w", id, environment, err)
	}
	return len(latest) > 0 && latest[0].GetState() == string(StateSuccess), nil
}
