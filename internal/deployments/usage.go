package deployments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v60/github"
)

// defaultWritesPerHour is GitHub's secondary limit on content-creating
// requests in an hour.
const defaultWritesPerHour = 500

// ErrWriteBudget is wrapped by the error of a write that was not sent
// because this recorder already made as many writes in the last hour as
// GitHub allows.
var ErrWriteBudget = errors.New("nix-hive already made as many writes to GitHub in the last hour as GitHub allows (500)")

// Budget is what GitHub still allows, as far as this recorder knows.
type Budget struct {
	// Writes is how many more content-creating requests (deployments,
	// statuses) the hour allows: GitHub's 500 minus the writes this
	// recorder started in the last hour.
	Writes int
	// Requests is what GitHub's primary rate limit has left
	// (X-RateLimit-Remaining of the latest answer); -1 before any answer.
	Requests int
	// Limit is the primary limit (X-RateLimit-Limit), Reset when it resets.
	Limit int
	Reset time.Time
	// WritesMade and ReadsMade count the requests sent, attempts included.
	WritesMade, ReadsMade int
}

// usage is the pacer's count of requests and GitHub's latest rate limit
// headers; the pacer's mu guards it.
type usage struct {
	writes           []time.Time // when each write of the last hour started
	writesMade       int
	readsMade        int
	remaining, limit int
	reset            time.Time
}

// countWrite counts a write about to start, or refuses it when the hour's
// writes are used up.
func (p *pacer) countWrite() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for len(p.writes) > 0 && now.Sub(p.writes[0]) >= time.Hour {
		p.writes = p.writes[1:]
	}
	if len(p.writes) >= p.perHour {
		return ErrWriteBudget
	}
	p.writes = append(p.writes, now)
	return nil
}

// observe counts an answered request and reads GitHub's X-RateLimit-*
// headers, which every answer carries.
func (p *pacer) observe(method string, h http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if method == http.MethodGet || method == http.MethodHead {
		p.readsMade++
	} else {
		p.writesMade++
	}
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil {
		p.remaining = n
	}
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil {
		p.limit = n
	}
	if unix, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		p.reset = time.Unix(unix, 0)
	}
}

// budget returns what is left.
func (p *pacer) budget() Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	recent := 0
	now := time.Now()
	for _, t := range p.writes {
		if now.Sub(t) < time.Hour {
			recent++
		}
	}
	return Budget{Writes: max(p.perHour-recent, 0), Requests: p.remaining, Limit: p.limit, Reset: p.reset,
		WritesMade: p.writesMade, ReadsMade: p.readsMade}
}

// Budget returns what GitHub still allows this recorder, as far as it
// knows: its writes of the last hour and the primary rate limit GitHub
// reported on its latest answer.
func (g *GitHub) Budget() Budget { return g.pacer.budget() }

// Refresh asks GitHub for the primary rate limit's budget (GET /rate_limit,
// which GitHub does not count against it), for when no answer has told it
// yet.
func (g *GitHub) Refresh(ctx context.Context) error {
	var limits *github.RateLimits
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		var err error
		limits, _, err = c.RateLimit.Get(ctx)
		return err
	}})
	if err != nil {
		return fmt.Errorf("read GitHub's rate limits: %w", err)
	}
	if core := limits.GetCore(); core != nil {
		g.pacer.mu.Lock()
		g.pacer.remaining, g.pacer.limit, g.pacer.reset = core.Remaining, core.Limit, core.Reset.Time
		g.pacer.mu.Unlock()
	}
	return nil
}
