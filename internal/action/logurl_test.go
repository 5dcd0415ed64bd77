package action

import (
	"context"
	"errors"
	"testing"
)

type jobFinder struct {
	url string
	err error
	got []any
}

func (f *jobFinder) JobURL(_ context.Context, runID int64, attempt int, runner, job string) (string, error) {
	f.got = []any{runID, attempt, runner, job}
	return f.url, f.err
}

func TestLogURL(t *testing.T) {
	run := &Workflow{ServerURL: "https://ghe.example.com", Owner: "acme", Repo: "fleet", RunID: 7, RunAttempt: 2, Job: "deploy", RunnerName: "r1"}
	jobs := &jobFinder{url: "https://ghe.example.com/acme/fleet/actions/runs/7/job/9"}
	if got, err := LogURL(t.Context(), jobs, run); err != nil || got != jobs.url {
		t.Errorf("LogURL = %q, %v", got, err)
	}
	if want := []any{int64(7), 2, "r1", "deploy"}; len(jobs.got) != 4 || jobs.got[0] != want[0] || jobs.got[1] != want[1] || jobs.got[2] != want[2] || jobs.got[3] != want[3] {
		t.Errorf("JobURL called with %v, want %v", jobs.got, want)
	}

	denied := &jobFinder{err: errors.New("the token cannot list the run's jobs")}
	got, err := LogURL(t.Context(), denied, run)
	if err == nil || got != "https://ghe.example.com/acme/fleet/actions/runs/7/attempts/2" {
		t.Errorf("fallback = %q, %v", got, err)
	}
	run.RunAttempt = 0
	if got, _ := LogURL(t.Context(), denied, run); got != "https://ghe.example.com/acme/fleet/actions/runs/7" {
		t.Errorf("fallback without attempt = %q", got)
	}
	if got, err := LogURL(t.Context(), denied, &Workflow{}); got != "" || err != nil {
		t.Errorf("no run: %q, %v", got, err)
	}
}
