package githubfake_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestFaultsAsGoGitHubSeesThem(t *testing.T) {
	tests := []struct {
		name  string
		fault githubfake.Fault
		check func(t *testing.T, err error)
	}{
		{"secondary rate limit", githubfake.SecondaryRateLimit(90 * time.Second), func(t *testing.T, err error) {
			var e *github.AbuseRateLimitError
			if !errors.As(err, &e) || e.RetryAfter == nil || *e.RetryAfter != 90*time.Second {
				t.Errorf("got %v, want *github.AbuseRateLimitError with RetryAfter 90s", err)
			}
		}},
		{"primary rate limit 403", githubfake.PrimaryRateLimit(http.StatusForbidden, time.Hour), func(t *testing.T, err error) {
			var e *github.RateLimitError
			if !errors.As(err, &e) || e.Rate.Remaining != 0 || e.Rate.Reset.IsZero() {
				t.Errorf("got %v, want *github.RateLimitError", err)
			}
		}},
		{"primary rate limit 429", githubfake.PrimaryRateLimit(http.StatusTooManyRequests, time.Minute), func(t *testing.T, err error) {
			var e *github.ErrorResponse
			if !errors.As(err, &e) || e.Response.StatusCode != 429 || e.Response.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("got %v, want a 429 with X-RateLimit-Remaining: 0", err)
			}
		}},
		{"bad gateway", githubfake.ServerError(http.StatusBadGateway), func(t *testing.T, err error) {
			if !isStatus(err, 502) {
				t.Errorf("got %v, want 502", err)
			}
		}},
		{"auto-merged", githubfake.AutoMerged(), func(t *testing.T, err error) {
			var e *github.AcceptedError
			if !errors.As(err, &e) || !strings.Contains(string(e.Raw), "Auto-merged master into topic-branch") {
				t.Errorf("got %v, want *github.AcceptedError with the auto-merge message", err)
			}
		}},
		{"merge conflict", githubfake.MergeConflict(), func(t *testing.T, err error) {
			if !isStatus(err, 409) {
				t.Errorf("got %v, want 409", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubfake.New(t)
			s.Inject(githubfake.CreateDeployment, tt.fault)
			c := client(t, s)
			_, _, err := c.Repositories.CreateDeployment(context.Background(), "acme", "fleet", &github.DeploymentRequest{Ref: ptr("main")})
			tt.check(t, err)
			if n := len(s.Deployments()); n != 0 {
				t.Errorf("a fault created %d deployments", n)
			}
			// The fault is used up: the next request succeeds.
			createDeployment(t, client(t, s), &github.DeploymentRequest{Ref: ptr("main")})
			if got := s.Calls(githubfake.CreateDeployment); got != 2 {
				t.Errorf("Calls = %d, want 2", got)
			}
		})
	}
}

func TestInjectFunc(t *testing.T) {
	s := githubfake.New(t)
	s.InjectFunc(githubfake.ListDeployments, func(call int, r *http.Request) *githubfake.Fault {
		if call%2 == 1 {
			f := githubfake.ServerError(http.StatusServiceUnavailable)
			return &f
		}
		return nil
	})
	c := client(t, s)
	var codes []int
	for range 4 {
		_, resp, _ := c.Repositories.ListDeployments(context.Background(), "acme", "fleet", nil)
		codes = append(codes, resp.StatusCode)
	}
	if want := []int{503, 200, 503, 200}; !equal(codes, want) {
		t.Errorf("got %v, want %v", codes, want)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	s := githubfake.New(t)
	_, resp, err := client(t, s).Repositories.ListDeployments(context.Background(), "acme", "fleet", nil)
	if err != nil {
		t.Fatal(err)
	}
	// GitHub's limit for a GITHUB_TOKEN, the fake's default since it
	// enforces the limits (it said 5000 before and enforced nothing).
	if resp.Rate.Limit != 1000 || resp.Rate.Remaining != 999 || resp.Rate.Reset.IsZero() || resp.Header.Get("X-RateLimit-Used") != "1" ||
		resp.Header.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("rate %+v", resp.Rate)
	}
}

func TestVerifyReportsUnusedFaults(t *testing.T) {
	tb := &recordingTB{TB: t}
	s := githubfake.New(tb)
	s.Inject(githubfake.CreateStatus, githubfake.ServerError(500))
	s.Inject("GET /nowhere", githubfake.ServerError(500))
	s.Verify()
	got := tb.Errors()
	if len(got) != 2 || !strings.Contains(got[0], "no such route") || !strings.Contains(got[1], "never answered") {
		t.Errorf("got %q", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
