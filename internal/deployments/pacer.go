package deployments

import (
	"context"
	"sync"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
)

// clock is the time source of retries and pacing; tests replace it so that
// a minute of waiting takes no time.
type clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx is done and then returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return ctxtime.Sleep(ctx, d) }

// pacer keeps content-creating requests under GitHub's secondary rate limit:
// at most limit of them start in any window (a minute), and none while
// paused after GitHub said to slow down. Slots are handed out in order, so
// waiting writers are served first come, first served.
type pacer struct {
	clock  clock
	limit  int
	window time.Duration

	mu          sync.Mutex
	starts      []time.Time // start times of the latest writes, oldest first; at most limit
	pausedUntil time.Time
}

func newPacer(c clock, perMinute int) *pacer {
	return &pacer{clock: c, limit: perMinute, window: time.Minute}
}

// wait blocks until a write may start, or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.clock.Now()
	at := now
	if p.pausedUntil.After(at) {
		at = p.pausedUntil
	}
	if len(p.starts) == p.limit {
		if free := p.starts[0].Add(p.window); free.After(at) {
			at = free
		}
		p.starts = p.starts[1:]
	}
	p.starts = append(p.starts, at)
	p.mu.Unlock()
	return p.clock.Sleep(ctx, at.Sub(now))
}

// pause holds every write until t.
func (p *pacer) pause(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.pausedUntil) {
		p.pausedUntil = t
	}
}
