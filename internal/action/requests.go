package action

import (
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Requests returns the GitHub deployment of each selected instance: in the
// environment the template renders, of the run's commit. It is a
// production deployment only when that environment is named "production",
// as GitHub's default has it: auto_inactive retires earlier deployments
// only in non-production environments, such as the default per-instance
// ones ("production/web-1"). It fails,
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
			Production:     env == "production",
			Flake:          flakeSource(inv),
		}
	}
	return reqs, errors.Join(errs...)
}

// GroupRequest returns the deployment of an environment group: every
// selected instance whose hive.nix environment is env, recorded together in
// the GitHub environment of that name when recording per environment.
func GroupRequest(in *Inputs, run *Workflow, env string) deployments.Request {
	return deployments.Request{
		Instance: env, Goal: string(in.Goal), Environment: env, Ref: run.SHA,
		Description: deployments.Clip(fmt.Sprintf("nix-hive %s of environment %s: %s", in.Goal, env, run.Trigger), deployments.MaxDescription),
		Production:  env == "production",
	}
}

// flakeSource is the locked flake of a hive from a flake, for the
// deployments' payload; nil for a hive.nix.
func flakeSource(inv *inventory.Inventory) *deployments.FlakeSource {
	if inv.Flake == nil {
		return nil
	}
	return &deployments.FlakeSource{URL: inv.Flake.URL, Rev: inv.Flake.Rev, NarHash: inv.Flake.NarHash}
}
