package githubfake_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

// TestLimits sends requests at a pace and checks which ones the fake
// refuses, and how, under GitHub's documented limits.
func TestLimits(t *testing.T) {
	tests := []struct {
		name    string
		limits  githubfake.Limits
		writes  bool          // create deployments, else list them
		n       int           // requests
		every   time.Duration // between requests
		refused int           // of them
		want    string        // the refusal's kind: "primary" or "secondary"
	}{
		{"reads within the primary budget", githubfake.Limits{Remaining: 10}, false, 10, 0, 0, ""},
		{"reads beyond the primary budget", githubfake.Limits{Remaining: 10}, false, 12, 0, 2, "primary"},
		{"80 writes in a minute", githubfake.Limits{}, true, 80, 0, 0, ""},
		{"81 writes in a minute", githubfake.Limits{}, true, 81, 0, 1, "secondary"},
		{"writes paced at 75 a minute", githubfake.Limits{}, true, 300, time.Minute / 75, 0, ""},
		{"501 writes in an hour", githubfake.Limits{Primary: 5000}, true, 501, time.Second, 1, "secondary"},
		{"the primary window resets after an hour", githubfake.Limits{Remaining: 2}, false, 4, 31 * time.Minute, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubfake.New(t, githubfake.WithClock(time.Now), githubfake.WithLimits(tt.limits))
			synctest.Test(t, func(t *testing.T) {
				c := github.NewClient(&http.Client{Transport: s.Transport()}).WithAuthToken(s.Token())
				c.BaseURL, _ = url.Parse("https://api.github.invalid/")
				refused := 0
				for range tt.n {
					var err error
					if tt.writes {
						_, _, err = c.Repositories.CreateDeployment(t.Context(), "acme", "fleet", &github.DeploymentRequest{
							Ref: github.String("main"), RequiredContexts: &[]string{},
						})
					} else {
						_, _, err = c.Repositories.ListDeployments(t.Context(), "acme", "fleet", nil)
					}
					if err != nil {
						refused++
						checkRefusal(t, err, tt.want)
					}
					time.Sleep(tt.every)
				}
				if refused != tt.refused {
					t.Errorf("%d refused, want %d", refused, tt.refused)
				}
			})
		})
	}
}

// checkRefusal checks that err is the refusal GitHub gives for a limit.
func checkRefusal(t *testing.T, err error, kind string) {
	t.Helper()
	var (
		abuse *github.AbuseRateLimitError
		rate  *github.RateLimitError
	)
	switch {
	case kind == "secondary" && errors.As(err, &abuse):
		if abuse.Response.StatusCode != http.StatusForbidden || abuse.RetryAfter == nil || *abuse.RetryAfter <= 0 {
			t.Errorf("secondary refusal %v without 403 and Retry-After", err)
		}
	case kind == "primary" && errors.As(err, &rate):
		if rate.Rate.Remaining != 0 || !rate.Rate.Reset.After(time.Now()) {
			t.Errorf("primary refusal %+v", rate.Rate)
		}
	default:
		t.Errorf("got %v, want a %s rate limit refusal", err, kind)
	}
}
