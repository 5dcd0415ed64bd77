package action

import (
	"context"
)

// JobFinder finds the Actions job a step runs in; *deployments.GitHub is
// one.
type JobFinder interface {
	JobURL(ctx context.Context, runID int64, attempt int, runnerName, jobName string) (string, error)
}

// LogURL returns the link every deployment status carries: the job's log,
// looked up through the API (the token needs `actions: read`), else the
// run's page. A non-nil error says why the job was not found; the URL is
// then the run's, or "" when the run is unknown.
func LogURL(ctx context.Context, jobs JobFinder, run *Workflow) (string, error) {
	if run.RunID == 0 {
		return "", nil
	}
	u, err := jobs.JobURL(ctx, run.RunID, run.RunAttempt, run.RunnerName, run.Job)
	if err != nil || u == "" {
		return run.URL(), err
	}
	return u, nil
}
