package deployments

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

// setup starts a fake GitHub and a real recorder that reaches it in
// process. edit, if not nil, adjusts the recorder's Config.
func setup(t *testing.T, edit func(*Config), opts ...githubfake.Option) (*GitHub, *githubfake.Server, *timed) {
	t.Helper()
	s := githubfake.New(t, opts...)
	g, sent := newRecorder(t, s, edit)
	return g, s, sent
}

// simulate runs test in a testing/synctest bubble, where the recorder's
// waits (pacing, Retry-After, backoff) take no real time and happen exactly
// as long as asked. The fake GitHub starts outside the bubble, as its
// listener waits on a socket, reads the bubble's clock and is reached in
// process.
func simulate(t *testing.T, edit func(*Config), test func(t *testing.T, g *GitHub, s *githubfake.Server, sent *timed), opts ...githubfake.Option) {
	t.Helper()
	s := githubfake.New(t, append([]githubfake.Option{githubfake.WithClock(time.Now)}, opts...)...)
	synctest.Test(t, func(t *testing.T) {
		g, sent := newRecorder(t, s, edit)
		test(t, g, s, sent)
	})
}

func newRecorder(t *testing.T, s *githubfake.Server, edit func(*Config)) (*GitHub, *timed) {
	t.Helper()
	sent := &timed{base: s.Transport()}
	cfg := Config{Token: s.Token(), APIURL: s.URL(), Owner: "acme", Repo: "fleet", HTTPClient: &http.Client{Transport: sent}}
	if edit != nil {
		edit(&cfg)
	}
	g, err := NewGitHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, sent
}

// timed notes when each attempt of a request leaves the recorder.
type timed struct {
	base http.RoundTripper

	mu sync.Mutex
	at []time.Time
}

func (s *timed) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return s.base.RoundTrip(r)
}

// times returns when the attempts were sent, in order.
func (s *timed) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

// waits returns the time between consecutive attempts.
func (s *timed) waits() []time.Duration {
	at := s.times()
	var d []time.Duration
	for i := 1; i < len(at); i++ {
		d = append(d, at[i].Sub(at[i-1]))
	}
	return d
}

func web1() Request {
	return Request{
		Instance: "web1", System: "x86_64-linux", Goal: "switch",
		StorePath:   "/nix/store/0000000000000000000000000000000a-nixos-system-web1",
		Environment: "web1", Ref: "main", Description: "nix-hive deploy of web1",
		EnvironmentURL: "https://web1.example.com",
	}
}
