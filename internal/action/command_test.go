package action

import (
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/goal"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, goal, rollback string
		pullRequest          bool
		want                 Command
		wantGoal             goal.Goal
		wantErr              string
	}{
		{"nothing deploys with switch", "", "", false, Deploy, goal.Switch, ""},
		{"a goal deploys with it", "boot", "", false, Deploy, goal.Boot, ""},
		{"a pull request plans", "", "", true, Plan, goal.Switch, ""},
		{"a goal on a pull request deploys", "build", "", true, Deploy, goal.Build, ""},
		{"goal plan", "plan", "", false, Plan, goal.Switch, ""},
		{"goal status", "status", "", false, Status, goal.Switch, ""},
		{"rollback previous", "", "previous", false, Rollback, goal.Switch, ""},
		{"rollback to a deployment", "switch", "1234", false, Rollback, goal.Switch, ""},
		{"rollback with another goal", "boot", "previous", false, "", "", "rolls back with switch"},
		{"rollback to nothing", "", "last", false, "", "", "neither previous nor a deployment id"},
		{"rollback to a negative id", "", "-4", false, "", "", "neither previous nor a deployment id"},
		{"unknown goal", "deploy", "", false, "", "", "unknown goal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Inputs
			err := in.parseCommand(tt.goal, tt.rollback, tt.pullRequest)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || in.Command != tt.want || in.Goal != tt.wantGoal {
				t.Errorf("parseCommand = %s, %s, %v; want %s, %s", in.Command, in.Goal, err, tt.want, tt.wantGoal)
			}
		})
	}
}

func TestPullRequestOf(t *testing.T) {
	tests := []struct {
		name  string
		event map[string]any
		want  *PullRequest
	}{
		{"push", map[string]any{"head_commit": map[string]any{}}, nil},
		{"same repository", map[string]any{"number": 7.0, "pull_request": map[string]any{"number": 7.0,
			"head": map[string]any{"repo": map[string]any{"full_name": "acme/fleet"}}}}, &PullRequest{Number: 7}},
		{"fork", map[string]any{"pull_request": map[string]any{"number": 8.0,
			"head": map[string]any{"repo": map[string]any{"full_name": "mallory/fleet"}}}}, &PullRequest{Number: 8, Fork: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pullRequestOf(&githubactions.GitHubContext{Repository: "acme/fleet", Event: tt.event})
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("pullRequestOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDryRunIsForDeployments(t *testing.T) {
	for _, edit := range []map[string]string{
		{"INPUT_GOAL": "plan", "INPUT_DRY-RUN": "true"},
		{"INPUT_ROLLBACK": "previous", "INPUT_DRY-RUN": "true"},
	} {
		_, _, err := Parse(mustAction(fakeEnv(t, edit)))
		if err == nil || !strings.Contains(err.Error(), "input dry-run: is for deployments") {
			t.Errorf("%v: error %v", edit, err)
		}
	}
}
