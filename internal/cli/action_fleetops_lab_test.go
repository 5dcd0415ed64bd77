package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/action"
	"github.com/nix-hive/nix-hive/internal/githubfake"
	"github.com/nix-hive/nix-hive/internal/labfleet"
)

// prEvent is a pull_request event's payload for pull request number from
// head (OWNER/REPO).
func prEvent(number int, head string) string {
	return fmt.Sprintf(`{"number":%d,"pull_request":{"number":%d,"head":{"repo":{"full_name":%q}},"base":{"repo":{"full_name":"acme/fleet"}}},"sender":{"login":"bob"}}`,
		number, number, head)
}

// hostRuns returns what a lab host runs and what its profile points at.
func (a *labAction) hostRuns(t *testing.T, host string) (current, profile string) {
	t.Helper()
	out, err := a.lab.Exec(context.Background(), host, "sh", "-c",
		`printf '%s|%s' "$(readlink -f /run/current-system)" "$(readlink -f /nix/var/nix/profiles/system)"`)
	if err != nil {
		t.Fatalf("on %s: %v", host, err)
	}
	current, profile, _ = strings.Cut(string(out), "|")
	return current, profile
}

type actionPlan struct {
	Instances map[string]struct {
		Plan, Running, Target, Error string
		Diff                         *struct {
			Changes []struct{ AddedPaths []string }
		}
	}
}

// TestActionPlanStatusRollback runs the action's plan on pull requests,
// its scheduled status and its rollback input against the example fleet
// and a fake GitHub.
func TestActionPlanStatusRollback(t *testing.T) {
	a := newLabAction(t)
	gh := githubfake.New(t, githubfake.WithToken(a.token))
	push := `{"ref":"refs/heads/main","sender":{"login":"alice"}}`
	first := a.run(t, gh, push, nil)
	if first.err != nil {
		t.Fatalf("deploy: %v", first.err)
	}
	firstResults, firstIDs := first.results(t), first.ids(t)

	var commentID int64
	for round, version := range []string{"version 2", "version 3"} {
		t.Run(fmt.Sprintf("plan %d on the pull request", round+1), func(t *testing.T) {
			a.edit("systems/web.nix", map[bool]string{true: "deployed by nix-hive", false: "version 2"}[round == 0], version)
			deployments := len(gh.Deployments())
			r := a.run(t, gh, prEvent(7, "acme/fleet"), map[string]string{"GITHUB_EVENT_NAME": "pull_request"})
			if r.err != nil {
				t.Fatalf("plan: %v\n%s", r.err, r.stdout.String())
			}
			t.Logf("step summary:\n%s", r.summary)
			var p actionPlan
			if err := json.Unmarshal([]byte(r.outputs["plan"]), &p); err != nil {
				t.Fatalf("plan output %q: %v", r.outputs["plan"], err)
			}
			for _, n := range labfleet.Instances {
				want := map[bool]string{true: "changed", false: "unchanged"}[strings.HasPrefix(n, "web-")]
				i := p.Instances[n]
				if i.Plan != want || i.Running != firstResults[n].Path {
					t.Errorf("%s: %+v, want %s", n, i, want)
				}
				if c, _ := a.hostRuns(t, n); c != firstResults[n].Path {
					t.Errorf("plan changed %s: it runs %s", n, c)
				}
				if want == "changed" && (i.Diff == nil || len(i.Diff.Changes) != 1 || i.Diff.Changes[0].AddedPaths[0] != i.Target) {
					t.Errorf("%s: diff %+v does not name %s", n, i.Diff, i.Target)
				}
			}
			if len(gh.Deployments()) != deployments {
				t.Errorf("plan recorded deployments")
			}
			comments := gh.Comments(7)
			if len(comments) != 1 || !strings.Contains(comments[0].Body, action.PlanMarker) ||
				!strings.Contains(comments[0].Body, "| web-1 | web | changed |") || !strings.Contains(comments[0].Body, "2 changed, 4 unchanged") {
				t.Fatalf("comments on #7: %+v", comments)
			}
			if commentID != 0 && comments[0].ID != commentID {
				t.Errorf("the second plan wrote comment %d, not the first's %d", comments[0].ID, commentID)
			}
			commentID = comments[0].ID
			if !strings.Contains(r.summary, "| web-2 | web | changed |") || !strings.Contains(r.summary, fmt.Sprintf("comment %d on #7", commentID)) {
				t.Errorf("summary:\n%s", r.summary)
			}
		})
	}
	if n := gh.Calls(githubfake.CreateComment); n != 1 || gh.Calls(githubfake.UpdateComment) != 1 {
		t.Errorf("%d comments created and %d updated, want 1 and 1", n, gh.Calls(githubfake.UpdateComment))
	}

	t.Run("a fork's pull request gets the summary and no comment", func(t *testing.T) {
		readOnly := githubfake.New(t, githubfake.WithToken(a.token), githubfake.WithReadOnlyToken())
		for _, tc := range []struct{ head, want string }{
			{"mallory/fleet", "it comes from a fork"},
			{"acme/fleet", "pull-requests: write"},
		} {
			r := a.run(t, readOnly, prEvent(8, tc.head), map[string]string{"GITHUB_EVENT_NAME": "pull_request"})
			if r.err != nil || !strings.Contains(r.summary, "| web-1 | web | changed |") || !strings.Contains(r.summary, "Did not comment on #8") ||
				!strings.Contains(r.summary, tc.want) {
				t.Errorf("head %s: %v; summary:\n%s", tc.head, r.err, r.summary)
			}
		}
		if len(readOnly.Comments(8)) != 0 {
			t.Error("a comment was written")
		}
	})
	a.edit("systems/web.nix", "version 3", "deployed by nix-hive")

	status := map[string]string{"INPUT_GOAL": "status", "GITHUB_EVENT_NAME": "schedule"}
	t.Run("status flags exactly the host switched out of band", func(t *testing.T) {
		if r := a.run(t, gh, `{}`, status); r.err != nil {
			t.Fatalf("status after deploying: %v\n%s", r.err, r.summary)
		}
		a.edit("systems/db.nix", "deployed by nix-hive", "hand-made")
		other := a.run(t, gh, push, map[string]string{"INPUT_GOAL": "push", "INPUT_TARGETS": "db-1", "INPUT_RECORD-DEPLOYMENTS": "none"}).results(t)["db-1"].Path
		a.edit("systems/db.nix", "hand-made", "deployed by nix-hive")
		if _, err := a.lab.Exec(context.Background(), "db-1", "sh", "-c",
			`nix-env -p /nix/var/nix/profiles/system --set "$1" && "$1/bin/switch-to-configuration" switch`, "sh", other); err != nil {
			t.Fatal(err)
		}
		r := a.run(t, gh, `{}`, status)
		var st struct {
			Instances map[string]struct {
				Expected, Running, Profile string
				Reachable, Drift           bool
			}
		}
		if err := json.Unmarshal([]byte(r.outputs["status"]), &st); err != nil || r.err == nil {
			t.Fatalf("status output %q (%v), error %v", r.outputs["status"], err, r.err)
		}
		for _, n := range labfleet.Instances {
			if i := st.Instances[n]; i.Drift != (n == "db-1") || i.Expected != firstResults[n].Path {
				t.Errorf("%s: %+v", n, i)
			}
		}
		if !strings.Contains(r.stdout.String(), "::error title=db-1 drifted::") || !strings.Contains(r.summary, "1 of 6 instances drifted: db-1") {
			t.Errorf("no annotation or summary line for db-1:\n%s\n%s", r.stdout.String(), r.summary)
		}
		if r := a.run(t, gh, push, nil); r.err != nil {
			t.Fatal(r.err)
		}
		if r := a.run(t, gh, `{}`, status); r.err != nil {
			t.Errorf("status after redeploying: %v\n%s", r.err, r.summary)
		}
	})

	t.Run("rollback inputs", func(t *testing.T) {
		a.edit("systems/web.nix", "deployed by nix-hive", "version 4")
		second := a.run(t, gh, push, map[string]string{"INPUT_TARGETS": "web-1"})
		if second.err != nil {
			t.Fatal(second.err)
		}
		dispatch := `{"inputs":{"rollback":"previous","targets":"web-1"},"sender":{"login":"carol"}}`
		r := a.run(t, gh, dispatch, map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch", "INPUT_ROLLBACK": "previous", "INPUT_TARGETS": "web-1"})
		if r.err != nil {
			t.Fatalf("rollback: %v\n%s", r.err, r.stdout.String())
		}
		want := firstResults["web-1"].Path
		if c, p := a.hostRuns(t, "web-1"); c != want || p != want {
			t.Errorf("web-1 after rollback: %s, profile %s; want %s", c, p, want)
		}
		ids := r.ids(t)
		d := checkDeployment(t, gh, ids["web-1"], "web-1", "production/web-1", "success", "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1")
		if !strings.Contains(string(d.Payload), want) || len(ids) != 1 || !strings.Contains(r.summary, "## nix-hive rollback") {
			t.Errorf("the rollback's deployment %+v (ids %v)", d, ids)
		}

		to := fmt.Sprint(firstIDs["web-1"])
		a.edit("systems/web.nix", "version 4", "version 5")
		if r := a.run(t, gh, push, map[string]string{"INPUT_TARGETS": "web-1"}); r.err != nil {
			t.Fatal(r.err)
		}
		r = a.run(t, gh, `{}`, map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch", "INPUT_ROLLBACK": to, "INPUT_TARGETS": "web-1"})
		if c, p := a.hostRuns(t, "web-1"); r.err != nil || c != want || p != want {
			t.Errorf("rollback to deployment %s: %v; web-1 runs %s, profile %s; want %s", to, r.err, c, p, want)
		}
	})
}
