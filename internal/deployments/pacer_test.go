package deployments

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestPacing(t *testing.T) {
	tests := []struct {
		writes, perMinute int
		want              time.Duration // simulated time until the last write starts
	}{
		{writes: 1, perMinute: 80, want: 0},
		{writes: 40, perMinute: 80, want: 0}, // half at once
		{writes: 41, perMinute: 80, want: 1500 * time.Millisecond},
		{writes: 80, perMinute: 80, want: time.Minute}, // the other half over the minute
		{writes: 81, perMinute: 80, want: time.Minute + 1500*time.Millisecond},
		{writes: 4, perMinute: 2, want: 3 * time.Minute},
		{writes: 3, perMinute: 1, want: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			simulate(t, func(c *Config) { c.MaxWritesPerMinute = tt.perMinute }, func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed) {
				start := time.Now()
				id, err := g.Create(t.Context(), web1())
				if err != nil {
					t.Fatal(err)
				}
				for range tt.writes - 1 {
					if err := g.SetStatus(t.Context(), id, Status{State: StateInProgress}); err != nil {
						t.Fatal(err)
					}
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("%d writes at %d a minute took %s, want %s", tt.writes, tt.perMinute, got, tt.want)
				}
				if n := len(s.Requests()); n != tt.writes {
					t.Errorf("%d requests, want %d", n, tt.writes)
				}
			})
		})
	}
}

func TestPacerNeverExceedsTheLimitInAnyMinute(t *testing.T) {
	for _, limit := range []int{1, 3, 80} {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(limit)
			var starts []time.Time
			for i := range 3 * limit {
				if i == limit+1 {
					time.Sleep(20 * time.Second) // some other work in between
				}
				if err := p.wait(t.Context()); err != nil {
					t.Fatal(err)
				}
				starts = append(starts, time.Now())
			}
			for i := range starts {
				n := 0
				for _, s := range starts[i:] {
					if s.Sub(starts[i]) < time.Minute {
						n++
					}
				}
				if n > limit {
					t.Errorf("limit %d: %d writes in the minute from %s", limit, n, starts[i].Format(time.TimeOnly))
				}
			}
		})
	}
}

func TestPauseHoldsWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(80)
		start := time.Now()
		p.pause(start.Add(40 * time.Second))
		p.pause(start.Add(10 * time.Second)) // an earlier end does not shorten it
		if err := p.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 40*time.Second {
			t.Errorf("write started after %s, want 40s", got)
		}
	})
}
