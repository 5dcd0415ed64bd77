// Package githubfake is an in-process fake of the GitHub REST endpoints that
// nix-hive uses to record deployments: deployments, deployment statuses and
// the jobs of a workflow run.
//
// It keeps state as GitHub does (ids, URLs, documented defaults,
// auto_inactive), checks every request body against GitHub's own published
// description of the endpoints (deployments.json, embedded) and fails the test
// on an invalid body or on any request it does not implement, in the manner of
// cli/cli's httpmock registry. Faults (rate limits, server errors, GitHub's
// 202 auto-merge and 409 conflict answers) can be injected per route.
package githubfake

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Routes the fake implements, written as Go ServeMux patterns under the API
// base path. They name routes in Inject, InjectFunc and Calls.
const (
	ListDeployments  = "GET /repos/{owner}/{repo}/deployments"
	CreateDeployment = "POST /repos/{owner}/{repo}/deployments"
	GetDeployment    = "GET /repos/{owner}/{repo}/deployments/{deployment_id}"
	DeleteDeployment = "DELETE /repos/{owner}/{repo}/deployments/{deployment_id}"
	ListStatuses     = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
	CreateStatus     = "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
	GetStatus        = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses/{status_id}"
	ListJobs         = "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs"
	ListAttemptJobs  = "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs"
	// RateLimit reports the rate limits; GitHub does not count it against
	// them.
	RateLimit = "GET /rate_limit"
)

// Defaults of a new Server.
const (
	// DefaultToken is the token the server accepts unless WithToken says otherwise.
	DefaultToken = "ghs_githubfake"
	// DefaultSHA is the commit the ref "main" resolves to unless WithRefs says otherwise.
	DefaultSHA = "0123456789abcdef0123456789abcdef01234567"
	// DefaultLogin is the creator of deployments and statuses.
	DefaultLogin = "github-actions[bot]"
)

// Server is a fake GitHub REST API. Create it with New.
type Server struct {
	t        testing.TB
	srv      *httptest.Server
	basePath string
	mux      *http.ServeMux
	ops      map[string]*operation

	token   string
	noWrite bool
	refs    map[string]string
	now     func() time.Time
	login   string

	mu          sync.Mutex
	deployments []*deployment
	lastID      int64 // last deployment or status id handed out
	jobs        map[int64]map[int][]Job
	comments    []*Comment
	faults      map[string]*faultRule
	requests    []Request
	violations  []string
	rateState
}

// Request is one request the server received.
type Request struct {
	Method string
	// Path is the URL path below the API base path.
	Path     string
	RawQuery string
	// Route is the route that answered, one of the constants above, or ""
	// for a request the fake does not implement.
	Route  string
	Body   []byte
	Status int
}

// An Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept only this token.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithoutDeploymentsWrite simulates a token without `deployments: write`:
// every write answers 403 "Resource not accessible by integration".
func WithoutDeploymentsWrite() Option { return func(s *Server) { s.noWrite = true } }

// WithRefs sets the refs (branches, tags) the repository knows and the commit
// each resolves to; a commit SHA among the values is a valid ref too.
func WithRefs(refs map[string]string) Option {
	return func(s *Server) {
		for ref, sha := range refs {
			s.refs[ref] = sha
		}
	}
}

// WithBasePath serves the API below a path, as GitHub Enterprise Server does
// under "/api/v3".
func WithBasePath(path string) Option {
	return func(s *Server) { s.basePath = "/" + strings.Trim(path, "/") }
}

// WithClock makes the server read the time from now, for timestamps and rate
// limit headers. The default clock starts at 2024-05-01 12:00:00 UTC and
// moves one second each time it is read.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a fake GitHub server, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ops, err := loadSpec()
	if err != nil {
		t.Fatalf("githubfake: %v", err)
	}
	s := &Server{
		t:      t,
		ops:    ops,
		token:  DefaultToken,
		refs:   map[string]string{"main": DefaultSHA},
		now:    steppingClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
		login:  DefaultLogin,
		jobs:   make(map[int64]map[int][]Job),
		faults: make(map[string]*faultRule),
	}
	s.limits = defaultLimits()
	s.remaining = s.limits.Remaining
	for _, opt := range opts {
		opt(s)
	}
	if s.basePath == "/" {
		s.basePath = ""
	}
	s.mux = http.NewServeMux()
	for route, h := range s.handlers() {
		s.mux.Handle(route, s.middleware(route, h))
	}
	s.mux.HandleFunc("/", s.unexpected)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		s.srv.Close()
		s.Verify()
	})
	return s
}

// URL is the API base URL with a trailing slash, as go-github's BaseURL
// wants it: the GITHUB_API_URL of this fake.
func (s *Server) URL() string { return s.srv.URL + s.basePath + "/" }

// Transport returns an http.RoundTripper that hands each request straight
// to the server, without the network, whatever host the request names. It
// is for tests that simulate time with testing/synctest, whose clock cannot
// move while a goroutine of the test waits on a socket; create the Server
// outside the bubble then, as its listener waits on one.
func (s *Server) Transport() http.RoundTripper { return inProcess{s} }

type inProcess struct{ s *Server }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	defer r.Body.Close()
	r.RequestURI = r.URL.RequestURI()
	w := httptest.NewRecorder()
	p.s.serveHTTP(w, r)
	resp := w.Result()
	resp.Request = req
	return resp, nil
}

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	path, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if ok = ok && (path == "" || path[0] == '/'); !ok {
		path = r.URL.Path // outside the API: log it whole
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Body: body})
	rec := &recorder{ResponseWriter: w, s: s, i: len(s.requests) - 1}
	s.mu.Unlock()

	if !ok {
		s.unexpected(rec, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = path
	r2.URL.RawPath = ""
	s.mux.ServeHTTP(rec, r2)
}

// unexpected answers a request the fake does not implement, and fails the test.
func (s *Server) unexpected(w http.ResponseWriter, r *http.Request) {
	s.violation("unexpected request %s %s: the fake does not implement it", r.Method, r.URL.Path)
	s.writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest", nil)
}

// violation records a request nix-hive should never send and fails the test.
func (s *Server) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	s.t.Errorf("githubfake: %s", msg)
}

// recorder notes the route and status of an answer in the request log
// before the client can see the answer.
type recorder struct {
	http.ResponseWriter
	s       *Server
	i       int // index in s.requests
	written bool
}

func (r *recorder) setRoute(route string) {
	r.s.mu.Lock()
	r.s.requests[r.i].Route = route
	r.s.mu.Unlock()
}

func (r *recorder) WriteHeader(code int) {
	if r.written {
		return
	}
	r.written = true
	r.s.mu.Lock()
	r.s.requests[r.i].Status = code
	r.s.mu.Unlock()
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.ResponseWriter.Write(b)
}

// steppingClock is the deterministic default clock.
func steppingClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}
