package deployments

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// maxJobPages bounds the pages of 100 jobs JobURL reads.
const maxJobPages = 10

// JobURL returns the html_url of the job this process runs in, for status
// log links: among the jobs of the run's attempt (the latest attempt when
// attempt < 1), the in-progress job on runnerName (RUNNER_NAME), else the
// job named jobName (or a matrix variant "jobName (...)"), preferring one in
// progress. It needs `permissions: actions: read`; on error the caller can
// fall back to the run's URL.
func (g *GitHub) JobURL(ctx context.Context, runID int64, attempt int, runnerName, jobName string) (string, error) {
	var jobs []*github.WorkflowJob
	opts := github.ListOptions{PerPage: 100}
	for range maxJobPages {
		var (
			page *github.Jobs
			resp *github.Response
		)
		err := g.do(ctx, call{noPermission: errNoActionsRead, fn: func(ctx context.Context, c *github.Client) error {
			var err error
			if attempt >= 1 {
				page, resp, err = c.Actions.ListWorkflowJobsAttempt(ctx, g.owner, g.repo, runID, int64(attempt), &opts)
			} else {
				page, resp, err = c.Actions.ListWorkflowJobs(ctx, g.owner, g.repo, runID, &github.ListWorkflowJobsOptions{ListOptions: opts})
			}
			return err
		}})
		if err != nil {
			return "", fmt.Errorf("find the job of run %d: %w", runID, err)
		}
		jobs = append(jobs, page.Jobs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if u := pickJob(jobs, runnerName, jobName); u != "" {
		return u, nil
	}
	return "", fmt.Errorf("find the job of run %d: no job in progress on runner %q and no job named %q among %d jobs",
		runID, runnerName, jobName, len(jobs))
}

// pickJob chooses the job's html_url as JobURL documents.
func pickJob(jobs []*github.WorkflowJob, runnerName, jobName string) string {
	named := func(j *github.WorkflowJob) bool {
		return jobName != "" && (j.GetName() == jobName || strings.HasPrefix(j.GetName(), jobName+" ("))
	}
	rules := []func(j *github.WorkflowJob) bool{
		func(j *github.WorkflowJob) bool {
			return runnerName != "" && j.GetRunnerName() == runnerName && j.GetStatus() == "in_progress"
		},
		func(j *github.WorkflowJob) bool { return named(j) && j.GetStatus() == "in_progress" },
		named,
	}
	for _, rule := range rules {
		for _, j := range jobs {
			if rule(j) && j.GetHTMLURL() != "" {
				return j.GetHTMLURL()
			}
		}
	}
	return ""
}
