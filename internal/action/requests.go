package action

import (
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// maxDescription bounds the deployment description we write, as GitHub
// bounds a status's.
const maxDescription = 140

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
		case len([]rune(env)) > maxEnvironmentName:
			errs = append(errs, fmt.Errorf("input environment: %q gives instance %s an environment name longer than GitHub's %d characters",
				in.Environment, n, maxEnvironmentName))
			continue
		}
		reqs[n] = deployments.Request{
			Instance: n, System: inst.System, Goal: string(in.Goal),
			Environment: env, Ref: run.SHA,
			Description:    clip(fmt.Sprintf("nix-hive %s of %s: %s", in.Goal, n, run.Trigger), maxDescription),
			EnvironmentURL: inst.URL,
			Production:     inst.Environment == "production",
		}
	}
	return reqs, errors.Join(errs...)
}

// clip cuts s to n characters, ending in "…" when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
