package action

import (
	"context"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/rollback"
)

// rollBack rolls the targets back, to their previous generation or to the
// deployment the rollback input names (read from GitHub), recorded like a
// deployment through the observers.
func rollBack(ctx context.Context, rec *recording, in *Inputs, run *Workflow, req deploy.Request, observers []engine.Observer) (*engine.Report, error) {
	target := rollback.Target(rollback.Previous)
	if id := in.RollbackID(); id != 0 {
		gh := rec.gh
		if gh == nil {
			var err error
			if gh, err = deployments.NewGitHub(deployments.Config{Token: in.Token, APIURL: run.APIURL, Owner: run.Owner, Repo: run.Repo}); err != nil {
				return nil, err
			}
		}
		d, err := gh.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		target = rollback.ToDeployment(d)
	}
	return rollback.Run(ctx, req, target, observers...)
}
