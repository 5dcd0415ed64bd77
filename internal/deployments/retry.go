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
	"github.com/hashicorp/go-retryablehttp"
)

// retrying is the http.RoundTripper under go-github: go-retryablehttp
// sends each request again after a rate limit, a server error (500, 502,
// 503, 504) or a network error, up to maxAttempts attempts and maxWait of
// waiting in all. Rate limits wait as GitHub asks (Retry-After, else
// X-RateLimit-Reset when the quota is used up, else a minute) and hold
// every other write too; server and network errors back off exponentially.
// The final answer, refusal or not, goes up to go-github unchanged.
type retrying struct {
	attempt     *http.Client // sends one attempt
	pacer       *pacer
	maxAttempts int
	maxWait     time.Duration
}

var (
	_ http.RoundTripper = (*retrying)(nil)
	_ http.RoundTripper = paced{}
)

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	a, ok := req.Context().Value(attemptsKey{}).(*attempts)
	if !ok {
		a = &attempts{}
	}
	c := &retryablehttp.Client{
		HTTPClient: t.attempt,
		RetryMax:   t.maxAttempts, // check stops first, saying why
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return t.check(ctx, a, resp, err), nil
		},
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
			a.waiting = true
			return a.delay
		},
		PrepareRetry: func(*http.Request) error {
			a.waiting = false
			return nil
		},
		ErrorHandler: lastAnswer,
	}
	return (&retryablehttp.RoundTripper{Client: c}).RoundTrip(req)
}

// check decides whether to send the request again after an attempt, and
// after how long (a.delay).
func (t *retrying) check(ctx context.Context, a *attempts, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err == nil {
		err = github.CheckResponse(resp) // puts the body back for go-github
	}
	if err == nil {
		return false
	}
	a.n++
	a.last = err
	delay, rateLimited, retry := retryDelay(err, a.n)
	switch {
	case !retry:
		return false
	case a.n >= t.maxAttempts:
		a.gaveUp = fmt.Sprintf("gave up after %d attempts", a.n)
		return false
	case a.waited+delay > t.maxWait:
		a.gaveUp = fmt.Sprintf("gave up: retrying means waiting %s more, beyond the %s allowed", delay, t.maxWait)
		return false
	}
	if rateLimited {
		t.pacer.pause(time.Now().Add(delay))
	}
	a.delay = delay
	a.waited += delay
	return true
}

// lastAnswer hands go-retryablehttp's last answer on unchanged: a response
// for go-github to read, or the error of the last attempt.
func lastAnswer(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil && resp != nil {
		resp.Body.Close()
		resp = nil
	}
	return resp, err
}

// attempts is what the retrying transport did with one request. GitHub.do
// puts one in the request's context, as net/http/httptrace does with its
// hooks, to explain a final failure.
type attempts struct {
	n       int           // failed attempts
	last    error         // why the latest one failed
	delay   time.Duration // the wait before the next attempt
	waited  time.Duration // all waits so far
	waiting bool          // between attempts
	gaveUp  string        // why retrying stopped, when it stopped early
}

type attemptsKey struct{}

// call is one GitHub API operation, attempted until it succeeds, fails for
// good, or the attempts or the wait budget run out.
type call struct {
	// noPermission is the error for a 403 "Resource not accessible".
	noPermission error
	fn           func(ctx context.Context, c *github.Client) error
}

// do runs c and phrases its failure for a user.
func (g *GitHub) do(ctx context.Context, c call) error {
	a := &attempts{}
	err := c.fn(context.WithValue(ctx, attemptsKey{}, a), g.client())
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && a.waiting:
		return fmt.Errorf("%w; interrupted while waiting %s to retry: %w", describe(a.last, c.noPermission), a.delay, ctx.Err())
	case ctx.Err() != nil:
		return ctx.Err()
	case a.gaveUp != "":
		return fmt.Errorf("%s: %w", a.gaveUp, describe(err, c.noPermission))
	}
	return describe(err, c.noPermission)
}

// retryDelay decides whether err deserves another attempt, after how long,
// and whether it was a rate limit (which holds every write).
func retryDelay(err error, attempt int) (delay time.Duration, rateLimited, retry bool) {
	var (
		abuse *github.AbuseRateLimitError
		rate  *github.RateLimitError
		resp  *github.ErrorResponse
		uerr  *url.Error
	)
	switch {
	case errors.As(err, &abuse):
		return rateLimitWait(abuse.Response), true, true
	case errors.As(err, &rate):
		return untilReset(rate.Rate.Reset.Time), true, true
	case errors.As(err, &resp) && resp.Response != nil:
		code := resp.Response.StatusCode
		switch {
		case code == http.StatusTooManyRequests,
			code == http.StatusForbidden && strings.Contains(strings.ToLower(resp.Message), "secondary rate limit"):
			return rateLimitWait(resp.Response), true, true
		case code == http.StatusInternalServerError, code == http.StatusBadGateway,
			code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
			return backoff(attempt), false, true
		}
	case errors.As(err, &uerr) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, ErrWriteBudget):
		return backoff(attempt), false, true // the connection failed or timed out
	}
	return 0, false, false
}

// rateLimitWait follows GitHub's advice for a rate-limited answer: wait
// Retry-After seconds if given, else until X-RateLimit-Reset if the quota is
// used up, else at least a minute.
func rateLimitWait(resp *http.Response) time.Duration {
	if resp == nil {
		return time.Minute
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if unix, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return untilReset(time.Unix(unix, 0))
		}
	}
	return time.Minute
}

// untilReset is the wait until a rate limit reset time, plus a second since
// GitHub gives it in whole seconds.
func untilReset(reset time.Time) time.Duration {
	if reset.IsZero() {
		return time.Minute
	}
	return max(time.Until(reset)+time.Second, time.Second)
}

// backoff is the wait before attempt+1 after a server or network error:
// 1s, 2s, 4s, ... at most 30s.
func backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt-1, 5), 30*time.Second)
}
