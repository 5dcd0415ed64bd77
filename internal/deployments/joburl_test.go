package deployments

import (
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestJobURL(t *testing.T) {
	jobs := githubfake.WithJobs(7, 2,
		githubfake.Job{ID: 1, Name: "build", Status: "completed", RunnerName: "GitHub Actions 3", HTMLURL: "https://github.com/acme/fleet/actions/runs/7/job/1"},
		githubfake.Job{ID: 2, Name: "deploy (staging)", Status: "in_progress", RunnerName: "GitHub Actions 4", HTMLURL: "https://github.com/acme/fleet/actions/runs/7/job/2"},
		githubfake.Job{ID: 3, Name: "deploy (production)", Status: "in_progress", RunnerName: "GitHub Actions 5", HTMLURL: "https://github.com/acme/fleet/actions/runs/7/job/3"},
	)
	older := githubfake.WithJobs(7, 1,
		githubfake.Job{ID: 4, Name: "deploy (production)", Status: "completed", RunnerName: "GitHub Actions 5", HTMLURL: "https://github.com/acme/fleet/actions/runs/7/job/4"},
	)
	tests := []struct {
		name       string
		runID      int64
		attempt    int
		runner     string
		job        string
		want       string
		wantErr    string
		wantRoute  string
		extraOpts  []githubfake.Option
		permission bool
	}{
		{name: "runner of an in-progress job", runID: 7, attempt: 2, runner: "GitHub Actions 5", job: "deploy",
			want: "https://github.com/acme/fleet/actions/runs/7/job/3", wantRoute: githubfake.ListAttemptJobs},
		{name: "completed job on the runner is skipped, name decides", runID: 7, attempt: 2, runner: "GitHub Actions 3", job: "deploy",
			want: "https://github.com/acme/fleet/actions/runs/7/job/2", wantRoute: githubfake.ListAttemptJobs},
		{name: "exact name", runID: 7, attempt: 2, job: "build",
			want: "https://github.com/acme/fleet/actions/runs/7/job/1", wantRoute: githubfake.ListAttemptJobs},
		{name: "attempt 0 reads the latest attempt", runID: 7, runner: "GitHub Actions 5",
			want: "https://github.com/acme/fleet/actions/runs/7/job/3", wantRoute: githubfake.ListJobs},
		{name: "earlier attempt", runID: 7, attempt: 1, job: "deploy",
			want: "https://github.com/acme/fleet/actions/runs/7/job/4", wantRoute: githubfake.ListAttemptJobs},
		{name: "no match", runID: 7, attempt: 2, runner: "elsewhere", job: "lint",
			wantErr: `find the job of run 7: no job in progress on runner "elsewhere" and no job named "lint" among 3 jobs`, wantRoute: githubfake.ListAttemptJobs},
		{name: "unknown run", runID: 8, attempt: 1, job: "deploy",
			wantErr: "find the job of run 8: GitHub found no such repository, deployment or run", wantRoute: githubfake.ListAttemptJobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, s, _ := setup(t, nil, jobs, older)
			got, err := g.JobURL(t.Context(), tt.runID, tt.attempt, tt.runner, tt.job)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.wantErr)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			if n := s.Calls(tt.wantRoute); n != 1 {
				t.Errorf("%s called %d times, want 1", tt.wantRoute, n)
			}
		})
	}
}

func TestJobURLPagesAndPermission(t *testing.T) {
	var many []githubfake.Job
	for i := range 150 {
		many = append(many, githubfake.Job{Name: "other", Status: "completed", RunnerName: "r" + string(rune('a'+i%26))})
	}
	many = append(many, githubfake.Job{Name: "deploy", RunnerName: "mine", HTMLURL: "https://example.com/job/last"})
	g, s, _ := setup(t, nil, githubfake.WithJobs(9, 1, many...))
	got, err := g.JobURL(t.Context(), 9, 1, "mine", "deploy")
	if err != nil || got != "https://example.com/job/last" {
		t.Fatalf("got %q, %v", got, err)
	}
	if n := s.Calls(githubfake.ListAttemptJobs); n != 2 {
		t.Errorf("read %d pages, want 2: %+v", n, s.Requests())
	}

	s.Inject(githubfake.ListAttemptJobs, githubfake.Fault{Status: 403, Message: "Resource not accessible by integration"})
	_, err = g.JobURL(t.Context(), 9, 1, "mine", "deploy")
	if err == nil || !strings.Contains(err.Error(), "permissions: actions: read") {
		t.Errorf("got %v, want the actions: read hint", err)
	}
}
