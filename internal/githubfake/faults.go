package githubfake

import (
	"net/http"
	"strconv"
	"time"
)

// Fault is an answer the server gives instead of doing the work: nothing is
// created or changed.
type Fault struct {
	// Status is the HTTP status code.
	Status int
	// Message and DocumentationURL fill GitHub's error body.
	Message          string
	DocumentationURL string
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter time.Duration
	// RateLimitResetIn, when positive, marks the primary rate limit as used
	// up: X-RateLimit-Remaining: 0 and X-RateLimit-Reset that far from now.
	RateLimitResetIn time.Duration
}

// SecondaryRateLimit is GitHub's 403 for too many writes in a short time.
func SecondaryRateLimit(retryAfter time.Duration) Fault {
	return Fault{
		Status: http.StatusForbidden,
		Message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
			"If you reach out to GitHub Support for help, please include the request ID 0000:1111:2222:3333:4444.",
		DocumentationURL: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		RetryAfter:       retryAfter,
	}
}

// PrimaryRateLimit is GitHub's answer (403 or 429) once the hourly request
// quota is used up; it resets after resetIn.
func PrimaryRateLimit(status int, resetIn time.Duration) Fault {
	return Fault{
		Status:           status,
		Message:          "API rate limit exceeded for installation ID 1234.",
		DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits",
		RateLimitResetIn: resetIn,
	}
}

// ServerError is a 5xx answer such as 500, 502 or 503.
func ServerError(status int) Fault {
	return Fault{Status: status, Message: http.StatusText(status)}
}

// AutoMerged is GitHub's 202 answer to creating a deployment of a ref behind
// the default branch with auto_merge on: it merged, and created nothing.
func AutoMerged() Fault {
	return Fault{Status: http.StatusAccepted, Message: "Auto-merged master into topic-branch on deployment."}
}

// MergeConflict is GitHub's 409 answer to creating a deployment when the
// auto-merge conflicts or required status checks failed.
func MergeConflict() Fault {
	return Fault{
		Status:           http.StatusConflict,
		Message:          "Conflict merging master into topic-branch.",
		DocumentationURL: "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
	}
}

// faultRule holds the faults injected on one route.
type faultRule struct {
	queue []Fault
	fn    func(call int, r *http.Request) *Fault
	calls int
}

// Inject queues faults on a route (one of the route constants): each of the
// next requests to it gets the next fault instead of an answer.
func (s *Server) Inject(route string, faults ...Fault) {
	s.t.Helper()
	rule := s.rule(route)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rule != nil {
		rule.queue = append(rule.queue, faults...)
	}
}

// InjectFunc makes fn decide, for each request to a route, whether it gets a
// fault (non-nil) instead of an answer. call counts that route's requests
// from 1. Queued faults are answered first.
func (s *Server) InjectFunc(route string, fn func(call int, r *http.Request) *Fault) {
	s.t.Helper()
	rule := s.rule(route)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rule != nil {
		rule.fn = fn
	}
}

func (s *Server) rule(route string) *faultRule {
	s.t.Helper()
	if _, ok := s.handlers()[route]; !ok {
		s.t.Errorf("githubfake: cannot inject faults on %q: the fake has no such route", route)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults[route] == nil {
		s.faults[route] = &faultRule{}
	}
	return s.faults[route]
}

// takeFault returns the fault for this request to route, if any.
func (s *Server) takeFault(route string, r *http.Request) *Fault {
	s.mu.Lock()
	rule := s.faults[route]
	if rule == nil {
		s.mu.Unlock()
		return nil
	}
	rule.calls++
	if len(rule.queue) > 0 {
		f := rule.queue[0]
		rule.queue = rule.queue[1:]
		s.mu.Unlock()
		return &f
	}
	fn, call := rule.fn, rule.calls
	s.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(call, r)
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.RateLimitResetIn > 0 {
		s.setRateHeaders(w, 0, time.Now().Add(f.RateLimitResetIn))
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
	}
	if f.Status == http.StatusAccepted {
		s.writeJSON(w, f.Status, map[string]string{"message": f.Message})
		return
	}
	s.writeError(w, f.Status, f.Message, f.DocumentationURL, nil)
}

// Verify fails the test for every queued fault no request consumed. It runs
// when the test ends; calling it earlier reports (and forgets) them sooner.
func (s *Server) Verify() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, route := range sortedKeys(s.faults) {
		if rule := s.faults[route]; len(rule.queue) > 0 {
			s.t.Errorf("githubfake: %d injected fault(s) on %s were never answered", len(rule.queue), route)
			rule.queue = nil
		}
	}
}
