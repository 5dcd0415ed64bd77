package deployments

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
)

// pacer keeps content-creating requests (writes) under GitHub's secondary
// rate limit, which allows a repository's token a number of them a minute,
// and holds every write while GitHub has said to slow down.
//
// A token bucket lets at most burst + refill writes start in any minute
// (burst at once, then refill a minute). To keep GitHub's "at most N a
// minute" in every minute, as the limit is counted, N is split between the
// two: half at once, the other half spread over the minute.
//
// It also counts writes against GitHub's hourly limit on them (a write
// that would pass it is refused with ErrWriteBudget, not sent), and keeps
// what GitHub's X-RateLimit-* headers last said (see usage.go).
type pacer struct {
	limiter *rate.Limiter
	perHour int

	mu          sync.Mutex
	pausedUntil time.Time
	usage
}

func newPacer(perMinute int) *pacer {
	burst := max(1, perMinute/2)
	refill := max(1, perMinute-burst)
	return &pacer{limiter: rate.NewLimiter(rate.Every(time.Minute/time.Duration(refill)), burst),
		perHour: defaultWritesPerHour, usage: usage{remaining: -1}}
}

// wait blocks until a write may start, or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	for {
		for d := p.paused(); d > 0; d = p.paused() {
			if err := ctxtime.Sleep(ctx, d); err != nil {
				return err
			}
		}
		if err := p.limiter.Wait(ctx); err != nil {
			return err
		}
		if p.paused() <= 0 { // else a pause began while this write waited its turn
			return p.countWrite()
		}
	}
}

// paused returns how much longer writes are held.
func (p *pacer) paused() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Until(p.pausedUntil)
}

// pause holds every write until t.
func (p *pacer) pause(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.pausedUntil) {
		p.pausedUntil = t
	}
}

// paced is the transport of one attempt: it starts writes as the pacer
// allows and reads at once.
type paced struct {
	base  http.RoundTripper
	pacer *pacer
}

func (t paced) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		if err := t.pacer.wait(req.Context()); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil {
		t.pacer.observe(req.Method, resp.Header)
	}
	return resp, err
}
