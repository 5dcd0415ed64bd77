package deployments

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

// fakeClock is a clock whose Sleep returns at once, moving the time on, so
// that a test waits minutes of simulated time in milliseconds.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	slept   []time.Duration
	onSleep func() // called before each Sleep, for tests that cancel mid-wait
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.onSleep != nil && d > 0 {
		c.onSleep()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// setup starts a fake GitHub sharing a fake clock with a real recorder.
// edit, if not nil, adjusts the recorder's Config.
func setup(t *testing.T, edit func(*Config), opts ...githubfake.Option) (*GitHub, *githubfake.Server, *fakeClock) {
	t.Helper()
	fc := newFakeClock()
	s := githubfake.New(t, append([]githubfake.Option{githubfake.WithClock(fc.Now)}, opts...)...)
	cfg := Config{Token: s.Token(), APIURL: s.URL(), Owner: "acme", Repo: "fleet"}
	if edit != nil {
		edit(&cfg)
	}
	g, err := NewGitHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.clock = fc
	g.pacer.clock = fc
	return g, s, fc
}

func web1() Request {
	return Request{
		Instance: "web1", System: "x86_64-linux", Goal: "switch",
		StorePath:   "/nix/store/0000000000000000000000000000000a-nixos-system-web1",
		Environment: "web1", Ref: "main", Description: "nix-hive deploy of web1",
		EnvironmentURL: "https://web1.example.com",
	}
}
