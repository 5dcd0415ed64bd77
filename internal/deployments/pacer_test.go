package deployments

import (
	"testing"
	"time"
)

func TestPacing(t *testing.T) {
	tests := []struct {
		writes, perMinute int
		want              time.Duration // simulated time until the last write starts
	}{
		{writes: 1, perMinute: 80, want: 0},
		{writes: 80, perMinute: 80, want: 0},
		{writes: 81, perMinute: 80, want: time.Minute},
		{writes: 4, perMinute: 2, want: time.Minute},
		{writes: 5, perMinute: 2, want: 2 * time.Minute},
		{writes: 3, perMinute: 1, want: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			g, s, fc := setup(t, func(c *Config) { c.MaxWritesPerMinute = tt.perMinute })
			start := fc.Now()
			id, err := g.Create(t.Context(), web1())
			if err != nil {
				t.Fatal(err)
			}
			for range tt.writes - 1 {
				if err := g.SetStatus(t.Context(), id, Status{State: StateInProgress}); err != nil {
					t.Fatal(err)
				}
			}
			if got := fc.Now().Sub(start); got != tt.want {
				t.Errorf("%d writes at %d a minute took %s, want %s", tt.writes, tt.perMinute, got, tt.want)
			}
			if n := len(s.Requests()); n != tt.writes {
				t.Errorf("%d requests, want %d", n, tt.writes)
			}
		})
	}
}

func TestPacerNeverExceedsTheLimitInAnyMinute(t *testing.T) {
	fc := newFakeClock()
	p := newPacer(fc, 3)
	var starts []time.Time
	for i := range 10 {
		if i == 4 {
			fc.Sleep(t.Context(), 20*time.Second) // some other work in between
		}
		if err := p.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, fc.Now())
	}
	for i := range starts {
		n := 0
		for _, s := range starts[i:] {
			if s.Sub(starts[i]) < time.Minute {
				n++
			}
		}
		if n > 3 {
			t.Errorf("%d writes in the minute from %s", n, starts[i].Format(time.TimeOnly))
		}
	}
}
