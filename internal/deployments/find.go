package deployments

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/go-github/v60/github"
)

// Wanted is an instance whose current deployment Find looks for: the
// newest deployment, in one of Environments, whose payload gives the
// instance Path (its own deployment's, or a group deployment's entry).
type Wanted struct {
	Instance, Path string
	Environments   []string
}

// Found is the deployment that put an instance's path there.
type Found struct {
	ID          int64
	Environment string
}

// findPageSize is how many deployments one read of Find lists.
const findPageSize = 100

// Find looks through the repository's newest deployments, at most maxPages
// reads of 100, newest first, for the deployment that put each wanted
// instance's path there, and stops once every one is found. Instances not
// found (older, or never recorded) are missing from the result.
func (g *GitHub) Find(ctx context.Context, wanted []Wanted, maxPages int) (map[string]Found, error) {
	found := map[string]Found{}
	opts := &github.DeploymentsListOptions{ListOptions: github.ListOptions{PerPage: findPageSize}}
	for page := 1; page <= maxPages && len(found) < len(wanted); page++ {
		opts.Page = page
		var deps []*github.Deployment
		var next int
		err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
			var err error
			var resp *github.Response
			deps, resp, err = c.Repositories.ListDeployments(ctx, g.owner, g.repo, opts)
			if resp != nil {
				next = resp.NextPage
			}
			return err
		}})
		if err != nil {
			return found, fmt.Errorf("list the repository's deployments: %w", err)
		}
		for _, d := range deps {
			match(d, wanted, found)
		}
		if next == 0 {
			break
		}
	}
	return found, nil
}

// match adds to found each wanted instance, not found yet, that d deployed.
func match(d *github.Deployment, wanted []Wanted, found map[string]Found) {
	var p payload
	if json.Unmarshal(d.Payload, &p) != nil {
		return
	}
	for _, w := range wanted {
		if _, ok := found[w.Instance]; ok || !slices.Contains(w.Environments, d.GetEnvironment()) {
			continue
		}
		if (p.Instance == w.Instance && p.Path == w.Path) || p.Instances[w.Instance].Path == w.Path && w.Path != "" {
			found[w.Instance] = Found{ID: d.GetID(), Environment: d.GetEnvironment()}
		}
	}
}
