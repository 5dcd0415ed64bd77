package action

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/goal"
)

// Command is what the action does.
type Command string

// The action's commands.
const (
	// Deploy deploys with the goal input (the default).
	Deploy Command = "deploy"
	// Plan says what deploying would change (goal: plan, and the default
	// on pull_request), in the step summary and one pull-request comment.
	Plan Command = "plan"
	// Status reports drift against GitHub's last successful deployments
	// (goal: status, for a scheduled workflow).
	Status Command = "status"
	// Rollback switches the targets back (the rollback input).
	Rollback Command = "rollback"
)

// PullRequest is the pull request a run is for.
type PullRequest struct {
	// Number is its number.
	Number int
	// Fork is set when its head is in another repository: the run's token
	// is then read-only, whatever the workflow's permissions say.
	Fork bool
}

// pullRequestOf reads the pull request from a pull_request event's payload;
// nil for other events.
func pullRequestOf(gh *githubactions.GitHubContext) *PullRequest {
	pr, ok := gh.Event["pull_request"].(map[string]any)
	if !ok {
		return nil
	}
	n, _ := pr["number"].(float64)
	if n == 0 {
		n, _ = gh.Event["number"].(float64)
	}
	out := &PullRequest{Number: int(n)}
	if head, ok := pr["head"].(map[string]any); ok {
		if repo, ok := head["repo"].(map[string]any); ok {
			name, _ := repo["full_name"].(string)
			out.Fork = name != "" && name != gh.Repository
		}
	}
	return out
}

// deploymentID is the form of a rollback input naming a deployment.
var deploymentID = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)

// parseCommand decides the command from the goal and rollback inputs and
// the event, and sets in.Goal: goal plan or status, or an empty goal on a
// pull request, plans or checks the status; a rollback input rolls back
// (with switch); anything else deploys with the goal (default switch).
func (in *Inputs) parseCommand(goalInput, rollback string, pullRequest bool) error {
	in.Command, in.Goal = Deploy, goal.Switch
	switch {
	case rollback != "" && goalInput != "" && goalInput != string(goal.Switch):
		return fmt.Errorf("input rollback: rolls back with switch; leave goal empty or switch (it is %q)", goalInput)
	case rollback != "":
		if rollback != "previous" && !deploymentID.MatchString(rollback) {
			return fmt.Errorf("input rollback: %q is neither previous nor a deployment id", rollback)
		}
		in.Command, in.Rollback = Rollback, rollback
	case goalInput == string(Plan), goalInput == "" && pullRequest:
		in.Command = Plan
	case goalInput == string(Status):
		in.Command = Status
	case goalInput != "":
		g, err := goal.Parse(goalInput)
		if err != nil {
			return fmt.Errorf("input goal: %w (or plan, or status)", err)
		}
		in.Goal = g
	}
	return nil
}

// RollbackID is the deployment the rollback input names; 0 for the
// previous generation.
func (in *Inputs) RollbackID() int64 {
	id, _ := strconv.ParseInt(in.Rollback, 10, 64)
	return id
}

// errNoPullRequest is plan's error on an event without a pull request
// when it would comment.
var errNoPullRequest = errors.New("no pull request in this event; the plan is in the step summary only")
