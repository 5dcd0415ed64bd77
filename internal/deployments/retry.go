package deployments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// call is one GitHub API operation, attempted until it succeeds, fails for
// good, or the attempts or the wait budget run out.
type call struct {
	// write marks content-creating requests, which the pacer spaces out.
	write bool
	// noPermission is the error for a 403 "Resource not accessible".
	noPermission error
	fn           func(ctx context.Context, c *github.Client) error
}

// do runs c with retries. Rate limits wait as GitHub asks (Retry-After,
// X-RateLimit-Reset, else a minute) and hold all other writes too; server
// and network errors back off exponentially. Everything else fails at once.
func (g *GitHub) do(ctx context.Context, c call) error {
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		if c.write {
			if err := g.pacer.wait(ctx); err != nil {
				return err
			}
		}
		err := c.fn(ctx, g.client())
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		final := describe(err, c.noPermission)
		delay, rateLimited, retry := g.retryDelay(err, attempt)
		switch {
		case !retry:
			return final
		case attempt >= g.maxAttempts:
			return fmt.Errorf("gave up after %d attempts: %w", attempt, final)
		case waited+delay > g.maxWait:
			return fmt.Errorf("gave up: retrying means waiting %s more, beyond the %s allowed: %w", delay, g.maxWait, final)
		}
		if rateLimited {
			g.pacer.pause(g.clock.Now().Add(delay))
		}
		if err := g.clock.Sleep(ctx, delay); err != nil {
			return fmt.Errorf("%w; interrupted while waiting %s to retry: %w", final, delay, err)
		}
		waited += delay
	}
}

// retryDelay decides whether err deserves another attempt, after how long,
// and whether it was a rate limit (which holds every write).
func (g *GitHub) retryDelay(err error, attempt int) (delay time.Duration, rateLimited, retry bool) {
	var (
		abuse *github.AbuseRateLimitError
		rate  *github.RateLimitError
		resp  *github.ErrorResponse
		uerr  *url.Error
	)
	switch {
	case errors.As(err, &abuse):
		return g.rateLimitWait(abuse.Response), true, true
	case errors.As(err, &rate):
		return g.untilReset(rate.Rate.Reset.Time), true, true
	case errors.As(err, &resp) && resp.Response != nil:
		code := resp.Response.StatusCode
		switch {
		case code == http.StatusTooManyRequests,
			code == http.StatusForbidden && strings.Contains(strings.ToLower(resp.Message), "secondary rate limit"):
			return g.rateLimitWait(resp.Response), true, true
		case code == http.StatusInternalServerError, code == http.StatusBadGateway,
			code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
			return backoff(attempt), false, true
		}
	case errors.As(err, &uerr) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return backoff(attempt), false, true // the connection failed or timed out
	}
	return 0, false, false
}

// rateLimitWait follows GitHub's advice for a rate-limited answer: wait
// Retry-After seconds if given, else until X-RateLimit-Reset if the quota is
// used up, else at least a minute.
func (g *GitHub) rateLimitWait(resp *http.Response) time.Duration {
	if resp == nil {
		return time.Minute
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if unix, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return g.untilReset(time.Unix(unix, 0))
		}
	}
	return time.Minute
}

// untilReset is the wait until a rate limit reset time, plus a second since
// GitHub gives it in whole seconds.
func (g *GitHub) untilReset(reset time.Time) time.Duration {
	if reset.IsZero() {
		return time.Minute
	}
	return max(reset.Sub(g.clock.Now())+time.Second, time.Second)
}

// backoff is the wait before attempt+1 after a server or network error:
// 1s, 2s, 4s, ... at most 30s.
func backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt-1, 5), 30*time.Second)
}
