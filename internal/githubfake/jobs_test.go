package githubfake_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestJobs(t *testing.T) {
	s := githubfake.New(t,
		githubfake.WithJobs(7, 1, githubfake.Job{Name: "deploy", Status: "completed", Conclusion: "failure", RunnerName: "r1"}),
		githubfake.WithJobs(7, 2, githubfake.Job{Name: "build"}, githubfake.Job{Name: "deploy", RunnerName: "r2", HTMLURL: "https://github.com/acme/fleet/actions/runs/7/job/99"}),
	)
	c := client(t, s)
	ctx := context.Background()

	attempt1, _, err := c.Actions.ListWorkflowJobsAttempt(ctx, "acme", "fleet", 7, 1, nil)
	if err != nil || attempt1.GetTotalCount() != 1 || attempt1.Jobs[0].GetConclusion() != "failure" || attempt1.Jobs[0].GetRunAttempt() != 1 {
		t.Fatalf("attempt 1: %+v %v", attempt1, err)
	}
	latest, _, err := c.Actions.ListWorkflowJobs(ctx, "acme", "fleet", 7, nil)
	if err != nil || latest.GetTotalCount() != 2 || latest.Jobs[1].GetHTMLURL() != "https://github.com/acme/fleet/actions/runs/7/job/99" ||
		latest.Jobs[1].GetRunnerName() != "r2" || latest.Jobs[1].GetStatus() != "in_progress" {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	if latest.Jobs[0].GetHTMLURL() == "" || latest.Jobs[0].GetID() == 0 {
		t.Errorf("default id and html_url missing: %+v", latest.Jobs[0])
	}
	all, _, err := c.Actions.ListWorkflowJobs(ctx, "acme", "fleet", 7, &github.ListWorkflowJobsOptions{Filter: "all"})
	if err != nil || all.GetTotalCount() != 3 {
		t.Fatalf("all: %+v %v", all, err)
	}
	paged, resp, err := c.Actions.ListWorkflowJobs(ctx, "acme", "fleet", 7,
		&github.ListWorkflowJobsOptions{Filter: "all", ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil || len(paged.Jobs) != 2 || resp.NextPage != 2 {
		t.Fatalf("paged: %d jobs, next %d, %v", len(paged.Jobs), resp.NextPage, err)
	}
	if _, _, err := c.Actions.ListWorkflowJobs(ctx, "acme", "fleet", 8, nil); !isStatus(err, 404) {
		t.Errorf("unknown run: %v, want 404", err)
	}
	if _, _, err := c.Actions.ListWorkflowJobsAttempt(ctx, "acme", "fleet", 7, 3, nil); !isStatus(err, 404) {
		t.Errorf("unknown attempt: %v, want 404", err)
	}
}
