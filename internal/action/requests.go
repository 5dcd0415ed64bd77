package action

import (
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Requests returns the GitHub deployment of each selected instance: in the
// environment the template renders, of the run's commit, and a production
// deployment when the instance's environment is "production". It fails,
// naming the environment input, when a name is empty or too long for
// GitHub.
func Requests(in *Inputs, run *Workflow, inv *inventory.Inventory, names []string) (map[string]deployments.Request, error) {
	reqs := make(map[string]deployments.Request, len(names))
	var errs []error
	for _, n := range names {
		inst := inv.Instances[n]
		env := in.Environment.Render(n, inst.Environment, inst.System)
		switch {
		case env == "":
			errs = append(errs, fmt.Errorf("input environment: %q gives instance %s an empty environment name", in.Environment, n))
			continue
		case deployments.CheckEnvironmentName(env) != nil:
			errs = append(errs, fmt.Errorf("input environment: %q gives instance %s an environment name longer than GitHub's %d characters",
				in.Environment, n, deployments.MaxEnvironmentName))
			continue
		}
		reqs[n] = deployments.Request{
			Instance: n, System: inst.System, Goal: string(in.Goal),
			Environment: env, Ref: run.SHA,
			Description:    deployments.Clip(fmt.Sprintf("nix-hive %s of %s: %s", in.Goal, n, run.Trigger), deployments.MaxDescription),
			EnvironmentURL: inst.URL,
			Production:     inst.Environment == "production",
			Flake:          flakeSource(inv),
		}
	}
	return reqs, errors.Join(errs...)
}

// flakeSource is the locked flake of a hive from a flake, for the
// deployments' payload; nil for a hive.nix.
func flakeSource(inv *inventory.Inventory) *deployments.FlakeSource {
	if inv.Flake == nil {
		return nil
	}
	return &deployments.FlakeSource{URL: inv.Flake.URL, Rev: inv.Flake.Rev, NarHash: inv.Flake.NarHash}
}
