package deployments

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestRetries(t *testing.T) {
	s := time.Second
	tests := []struct {
		name      string
		faults    []githubfake.Fault
		wantCalls int
		wantSlept []time.Duration
		wantErr   string // "" for eventual success
	}{
		{"403 secondary rate limit honours Retry-After", []githubfake.Fault{githubfake.SecondaryRateLimit(45 * s)},
			2, []time.Duration{45 * s}, ""},
		{"twice secondary", []githubfake.Fault{githubfake.SecondaryRateLimit(45 * s), githubfake.SecondaryRateLimit(60 * s)},
			3, []time.Duration{45 * s, 60 * s}, ""},
		{"secondary without Retry-After waits a minute", []githubfake.Fault{{Status: 403, Message: "You have exceeded a secondary rate limit."}},
			2, []time.Duration{time.Minute}, ""},
		{"403 primary rate limit waits for the reset", []githubfake.Fault{githubfake.PrimaryRateLimit(http.StatusForbidden, 30*s)},
			2, []time.Duration{31 * s}, ""},
		{"429 with Retry-After", []githubfake.Fault{{Status: 429, Message: "Too Many Requests", RetryAfter: 20 * s}},
			2, []time.Duration{20 * s}, ""},
		{"429 primary rate limit", []githubfake.Fault{githubfake.PrimaryRateLimit(http.StatusTooManyRequests, 10*s)},
			2, []time.Duration{11 * s}, ""},
		{"502 then 503 back off", []githubfake.Fault{githubfake.ServerError(502), githubfake.ServerError(503)},
			3, []time.Duration{1 * s, 2 * s}, ""},
		{"500 every time gives up", slices.Repeat([]githubfake.Fault{githubfake.ServerError(500)}, 5),
			5, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}, "gave up after 5 attempts: GitHub answered 500 Internal Server Error"},
		{"primary limit for an hour gives up at once", []githubfake.Fault{githubfake.PrimaryRateLimit(http.StatusForbidden, time.Hour)},
			1, nil, "gave up: retrying means waiting 1h0m1s more, beyond the 3m0s allowed: GitHub's API rate limit is used up until 2000-01-01T01:00:00Z"},
		{"retry waits add up to the budget", []githubfake.Fault{githubfake.SecondaryRateLimit(2 * time.Minute), githubfake.SecondaryRateLimit(2 * time.Minute)},
			2, []time.Duration{2 * time.Minute}, "beyond the 3m0s allowed: GitHub's secondary rate limit refused the request"},
	}
	for _, tt := range tests {
		for _, route := range []string{githubfake.CreateDeployment, githubfake.CreateStatus} {
			t.Run(tt.name+" on "+route, func(t *testing.T) {
				simulate(t, nil, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
					var id int64
					var err error
					if route == githubfake.CreateStatus {
						if id, err = g.Create(t.Context(), web1()); err != nil {
							t.Fatal(err)
						}
					}
					s.Inject(route, tt.faults...)
					before := len(sent.times())
					if route == githubfake.CreateStatus {
						err = g.SetStatus(t.Context(), id, Status{State: StateInProgress})
					} else {
						_, err = g.Create(t.Context(), web1())
					}
					if tt.wantErr == "" && err != nil {
						t.Fatalf("got %v, want success", err)
					}
					if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
						t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
					}
					if n := s.Calls(route); n != tt.wantCalls {
						t.Errorf("the fake saw %d attempts, want %d", n, tt.wantCalls)
					}
					if got := sent.waits()[max(before-1, 0):]; route == githubfake.CreateStatus && !slices.Equal(got[1:], tt.wantSlept) ||
						route == githubfake.CreateDeployment && !slices.Equal(got, tt.wantSlept) {
						t.Errorf("waited %v, want %v", got, tt.wantSlept)
					}
				})
			})
		}
	}
}

func TestRateLimitHoldsOtherWrites(t *testing.T) {
	simulate(t, nil, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
		start := time.Now()
		id, err := g.Create(t.Context(), web1())
		if err != nil {
			t.Fatal(err)
		}
		s.Inject(githubfake.CreateDeployment, githubfake.SecondaryRateLimit(45*time.Second))
		created := make(chan error)
		go func() {
			_, err := g.Create(t.Context(), web1())
			created <- err
		}()
		time.Sleep(time.Second) // the create is refused and waits
		if err := g.SetStatus(t.Context(), id, Status{State: StateQueued}); err != nil {
			t.Fatal(err)
		}
		got := time.Since(start)
		if err := <-created; err != nil {
			t.Fatal(err)
		}
		if got != 45*time.Second {
			t.Errorf("the status was sent after %s, want when the pause ended, 45s", got)
		}
		if n := len(sent.times()); n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
	})
}

func TestReadsAreNotPaced(t *testing.T) {
	simulate(t, nil, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
		g.httpClient.Transport.(*retrying).pacer.pause(time.Now().Add(time.Hour))
		if _, err := g.Active(t.Context(), "web1"); err != nil {
			t.Fatal(err)
		}
		if got := sent.waits(); len(got) != 0 || len(sent.times()) != 1 {
			t.Errorf("reads waited %v", got)
		}
	})
}

func TestCancelWhileWaitingToRetry(t *testing.T) {
	simulate(t, nil, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s.Inject(githubfake.CreateDeployment, githubfake.ServerError(502))
		go func() {
			time.Sleep(500 * time.Millisecond) // into the 1s wait
			cancel()
		}()
		_, err := g.Create(ctx, web1())
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "GitHub answered 502 Bad Gateway; interrupted while waiting 1s to retry") {
			t.Errorf("got %v, want context.Canceled while waiting", err)
		}
		if n := s.Calls(githubfake.CreateDeployment); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	refuse := func(c *Config) {
		c.HTTPClient.Transport.(*timed).base = roundTripperFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		})
	}
	simulate(t, refuse, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
		_, err := g.Create(t.Context(), web1())
		if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("got %v", err)
		}
		if got, want := sent.waits(), []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}; !slices.Equal(got, want) {
			t.Errorf("waited %v, want %v", got, want)
		}
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
