package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/rollback"
)

const rollbackDoc = `Switches each selected host back to the system it ran before: its previous
system profile generation, or, with --to-deployment, the store path that
GitHub deployment recorded for it (read with GITHUB_TOKEN from
GITHUB_REPOSITORY at GITHUB_API_URL, or --repo). The hive is not
evaluated; a path the host lacks is fetched from the instance's store or
the runner. Activation, confirmation and automatic rollback are deploy's.`

// rollbackFlags are rollback's own flags.
type rollbackFlags struct {
	toDeployment, repo, onFailure string
}

func runRollback(ctx context.Context, args []string, std IO) error {
	var rf rollbackFlags
	var confirmTimeout, lockTimeout, activationTimeout = deploy.DefaultConfirmTimeout, deploy.DefaultLockTimeout, activation.DefaultTimeout
	f, err := parseHosts("rollback", rollbackDoc, args, std, func(fs *flag.FlagSet) {
		fs.StringVar(&rf.toDeployment, "to-deployment", "", "roll back to the store path this GitHub deployment id recorded")
		fs.StringVar(&rf.repo, "repo", "", "OWNER/REPO the deployment belongs to (default GITHUB_REPOSITORY)")
		fs.StringVar(&rf.onFailure, "on-activation-failure", string(activation.Rollback), "rollback or keep")
		fs.DurationVar(&confirmTimeout, "confirm-timeout", confirmTimeout, "as deploy's")
		fs.DurationVar(&lockTimeout, "lock-timeout", lockTimeout, "as deploy's")
		fs.DurationVar(&activationTimeout, "activation-timeout", activationTimeout, "as deploy's")
	})
	if err != nil {
		return err
	}
	r := &f.request
	r.ConfirmTimeout, r.LockTimeout, r.ActivationTimeout = confirmTimeout, lockTimeout, activationTimeout
	if r.OnActivationFailure, err = activation.ParsePolicy(rf.onFailure); err != nil {
		return fmt.Errorf("%w: --on-activation-failure: %w", ErrUsage, err)
	}
	target, err := rf.target(ctx, std)
	if err != nil {
		return err
	}
	report, runErr := rollback.Run(ctx, *r, target)
	if report == nil {
		return runErr
	}
	df := deployFlags{json: f.json}
	if err := df.print(std, report); err != nil {
		return err
	}
	return runErr
}

// target is where the rollback goes: the previous generation, or the
// deployment --to-deployment names, read from GitHub.
func (rf *rollbackFlags) target(ctx context.Context, std IO) (rollback.Target, error) {
	if rf.toDeployment == "" {
		return rollback.Previous, nil
	}
	id, err := strconv.ParseInt(rf.toDeployment, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%w: --to-deployment %q is not a deployment id", ErrUsage, rf.toDeployment)
	}
	repo := rf.repo
	if repo == "" {
		repo = std.Env("GITHUB_REPOSITORY")
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || std.Env("GITHUB_TOKEN") == "" {
		return nil, fmt.Errorf("%w: --to-deployment reads GitHub: set GITHUB_TOKEN and --repo OWNER/REPO (or GITHUB_REPOSITORY)", ErrUsage)
	}
	gh, err := deployments.NewGitHub(deployments.Config{Token: std.Env("GITHUB_TOKEN"), APIURL: std.Env("GITHUB_API_URL"), Owner: owner, Repo: name})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	d, err := gh.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return rollback.ToDeployment(d), nil
}
