package githubfake

import (
	"net/http"
	"time"
)

// Limits are the rate limits the server enforces, as GitHub documents them
// ("Rate limits for the REST API"). Zero fields take GitHub's values for a
// GITHUB_TOKEN.
type Limits struct {
	// Primary is the requests allowed an hour (X-RateLimit-Limit); 1,000
	// for a GITHUB_TOKEN, per repository.
	Primary int
	// Remaining is what is left of Primary when the server starts, for
	// tests that begin with a small budget; default Primary.
	Remaining int
	// WritesPerMinute and WritesPerHour are the secondary limits on
	// content-creating requests: 80 and 500.
	WritesPerMinute, WritesPerHour int
}

// WithLimits sets the rate limits the server enforces. The windows are
// measured with time.Now, which testing/synctest makes a fake clock.
func WithLimits(l Limits) Option {
	return func(s *Server) {
		if l.Primary > 0 {
			s.limits.Primary = l.Primary
		}
		s.limits.Remaining = s.limits.Primary
		if l.Remaining > 0 && l.Remaining <= s.limits.Primary {
			s.limits.Remaining = l.Remaining
		}
		if l.WritesPerMinute > 0 {
			s.limits.WritesPerMinute = l.WritesPerMinute
		}
		if l.WritesPerHour > 0 {
			s.limits.WritesPerHour = l.WritesPerHour
		}
		s.remaining = s.limits.Remaining
	}
}

// defaultLimits are GitHub's limits for a GITHUB_TOKEN.
func defaultLimits() Limits {
	return Limits{Primary: 1000, Remaining: 1000, WritesPerMinute: 80, WritesPerHour: 500}
}

// rateState is the server's count against its limits; s.mu guards it.
type rateState struct {
	limits    Limits
	remaining int         // of the primary limit, until reset
	reset     time.Time   // when the primary window ends
	writes    []time.Time // accepted writes of the last hour
}

// admit counts a request against the limits and returns the refusal
// GitHub would answer instead, if any: the primary limit's 403 once the
// hour's requests are used up (every request counts), the secondary
// limit's 403 with Retry-After for a write beyond 80 a minute or 500 an
// hour.
func (s *Server) admit(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.reset.IsZero() {
		s.reset = now.Add(time.Hour)
	}
	if !now.Before(s.reset) {
		s.remaining, s.reset = s.limits.Primary, now.Add(time.Hour)
	}
	if r.Method == http.MethodGet && r.URL.Path == "/rate_limit" {
		return nil // not counted, as GitHub documents
	}
	if s.remaining <= 0 {
		f := PrimaryRateLimit(http.StatusForbidden, s.reset.Sub(now))
		return &f
	}
	s.remaining--
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	for len(s.writes) > 0 && now.Sub(s.writes[0]) >= time.Hour {
		s.writes = s.writes[1:]
	}
	lastMinute := 0
	for _, t := range s.writes {
		if now.Sub(t) < time.Minute {
			lastMinute++
		}
	}
	switch {
	case lastMinute >= s.limits.WritesPerMinute:
		f := SecondaryRateLimit(time.Minute)
		return &f
	case len(s.writes) >= s.limits.WritesPerHour:
		f := SecondaryRateLimit(max(s.writes[0].Add(time.Hour).Sub(now), time.Second))
		return &f
	}
	s.writes = append(s.writes, now)
	return nil
}

// Refused counts the requests the server refused for a rate limit.
func (s *Server) Refused() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// Writes and Reads count the requests answered without a refusal
// (status below 400), by kind.
func (s *Server) Writes() int { return s.count(true) }

// Reads: see Writes.
func (s *Server) Reads() int { return s.count(false) }

func (s *Server) count(writes bool) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status < 400 && (r.Method != http.MethodGet) == writes {
			n++
		}
	}
	return n
}

// rateLimit answers GET /rate_limit with the core resource's budget.
func (s *Server) rateLimit(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.mu.Lock()
	core := map[string]any{"limit": s.limits.Primary, "remaining": s.remaining, "used": s.limits.Primary - s.remaining,
		"reset": s.rateState.reset.Unix(), "resource": "core"}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
}
