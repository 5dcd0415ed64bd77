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

// The in-process transport answers as the server does, inside a synctest
// bubble, with the bubble's clock in the rate limit headers.
func TestTransportInABubble(t *testing.T) {
	s := githubfake.New(t, githubfake.WithClock(time.Now))
	synctest.Test(t, func(t *testing.T) {
		c := github.NewClient(&http.Client{Transport: s.Transport()}).WithAuthToken(s.Token())
		c.BaseURL, _ = url.Parse("https://api.github.invalid/")
		s.Inject(githubfake.CreateDeployment, githubfake.PrimaryRateLimit(http.StatusForbidden, time.Minute))
		_, _, err := c.Repositories.CreateDeployment(t.Context(), "acme", "fleet", &github.DeploymentRequest{Ref: github.String("main")})
		var rate *github.RateLimitError
		if !errors.As(err, &rate) || !rate.Rate.Reset.Time.Equal(time.Now().Add(time.Minute)) {
			t.Fatalf("got %v, want a rate limit until a minute from the bubble's now", err)
		}
		time.Sleep(time.Minute)
		d, _, err := c.Repositories.CreateDeployment(t.Context(), "acme", "fleet", &github.DeploymentRequest{
			Ref: github.String("main"), RequiredContexts: &[]string{},
		})
		if err != nil || d.GetID() == 0 {
			t.Fatalf("create: %v, %v", d, err)
		}
	})
	if n := s.Calls(githubfake.CreateDeployment); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}
