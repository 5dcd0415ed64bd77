package deployments

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// Config configures the GitHub recorder. Token, Owner and Repo are required.
type Config struct {
	// Token authenticates the requests (GITHUB_TOKEN); it never appears in
	// errors.
	Token string
	// APIURL is the REST API root (GITHUB_API_URL), for example
	// https://ghe.example.com/api/v3 on GitHub Enterprise Server. Default
	// https://api.github.com.
	APIURL string
	// Owner and Repo name the repository the deployments belong to.
	Owner, Repo string
	// HTTPClient sends each attempt of a request; its Timeout bounds one
	// attempt. Default: a client with a 30 second timeout.
	HTTPClient *http.Client
	// MaxWritesPerMinute caps content-creating requests (deployments and
	// statuses) in any minute, for GitHub's secondary rate limit of 80:
	// half of them may start at once, the rest spread over the minute.
	// Default 75, a little under GitHub's limit.
	MaxWritesPerMinute int
	// MaxWritesPerHour caps the writes in any hour; a write beyond it is
	// refused with ErrWriteBudget. Default 500, GitHub's secondary limit.
	MaxWritesPerHour int
	// MaxAttempts bounds the attempts of one request. Default 5.
	MaxAttempts int
	// MaxRetryWait bounds the total time one request waits between
	// attempts. Default 3 minutes.
	MaxRetryWait time.Duration
}

// GitHub records deployments through GitHub's REST API. It is safe for
// concurrent use; its pacing and rate-limit pauses are shared by all
// callers.
type GitHub struct {
	owner, repo, token string
	baseURL            *url.URL
	httpClient         *http.Client // retries around paced attempts
	pacer              *pacer       // shared by every request: pacing, counts, rate limits

	mu      sync.Mutex
	created map[int64]Request // what Create was asked, for statuses and messages
}

// NewGitHub checks cfg, sets its defaults and returns a recorder. It makes
// no request.
func NewGitHub(cfg Config) (*GitHub, error) {
	switch {
	case cfg.Token == "":
		return nil, errors.New("record deployments in GitHub: no token given")
	case cfg.Owner == "" || cfg.Repo == "":
		return nil, errors.New("record deployments in GitHub: no repository given")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.github.com"
	}
	if err := CheckURL(cfg.APIURL); err != nil {
		return nil, fmt.Errorf("record deployments in GitHub: API URL %w", err)
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.APIURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("record deployments in GitHub: API URL %q: %w", cfg.APIURL, err)
	}
	transport := newTransport(cfg)
	return &GitHub{
		owner: cfg.Owner, repo: cfg.Repo, token: cfg.Token,
		baseURL:    base,
		httpClient: &http.Client{Transport: transport},
		pacer:      transport.pacer,
		created:    make(map[int64]Request),
	}, nil
}

// newTransport returns what sends go-github's requests: retries (see
// retrying) around attempts that start writes as a shared pacer allows.
func newTransport(cfg Config) *retrying {
	attempt := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		attempt = &c
	}
	p := newPacer(cmp.Or(max(cfg.MaxWritesPerMinute, 0), 75))
	p.perHour = cmp.Or(max(cfg.MaxWritesPerHour, 0), defaultWritesPerHour)
	attempt.Transport = paced{base: attempt.Transport, pacer: p}
	return &retrying{
		attempt:     attempt,
		pacer:       p,
		maxAttempts: cmp.Or(max(cfg.MaxAttempts, 0), 5),
		maxWait:     cmp.Or(max(cfg.MaxRetryWait, 0), 3*time.Minute),
	}
}

// client returns a go-github client for one call. A fresh one each time on
// purpose: go-github remembers a rate limit it was refused for and refuses
// later requests itself until the reset, by the wall clock, while the
// transport already waited as GitHub asked and paused the other writes.
func (g *GitHub) client() *github.Client {
	c := github.NewClient(g.httpClient).WithAuthToken(g.token)
	base := *g.baseURL
	c.BaseURL = &base
	c.UserAgent = "nix-hive"
	return c
}

// payload is the deployment's payload, for whoever reads the deployment.
// A group deployment's payload lists its instances instead.
type payload struct {
	Instance  string                   `json:"instance,omitempty"`
	System    string                   `json:"system,omitempty"`
	Path      string                   `json:"path,omitempty"`
	Goal      string                   `json:"goal"`
	Instances map[string]memberPayload `json:"instances,omitempty"`
	// Flake is the locked flake the systems come from (omitted for a
	// hive.nix).
	Flake *FlakeSource `json:"flake,omitempty"`
}

// memberPayload is one instance in a group deployment's payload.
type memberPayload struct {
	System string `json:"system"`
	Path   string `json:"path"`
}

// payloadOf is the payload of req.
func payloadOf(req Request) payload {
	if len(req.Members) == 0 {
		return payload{Instance: req.Instance, System: req.System, Path: req.StorePath, Goal: req.Goal, Flake: req.Flake}
	}
	p := payload{Goal: req.Goal, Flake: req.Flake, Instances: make(map[string]memberPayload, len(req.Members))}
	for _, m := range req.Members {
		p.Instances[m.Instance] = memberPayload{System: m.System, Path: m.StorePath}
	}
	return p
}

// Create records a deployment of req.Ref with task "deploy", no auto-merge
// and no required status checks (the workflow's own checks are still
// running), and returns its id.
func (g *GitHub) Create(ctx context.Context, req Request) (int64, error) {
	if req.Ref == "" {
		return 0, fmt.Errorf("record deployment of %s in GitHub: no ref to deploy", req.Instance)
	}
	if req.Environment != "" {
		if err := CheckEnvironmentName(req.Environment); err != nil {
			return 0, fmt.Errorf("record deployment of %s in GitHub: %w", req.Instance, err)
		}
	}
	body := &github.DeploymentRequest{
		Ref:                   github.String(req.Ref),
		Task:                  github.String("deploy"),
		AutoMerge:             github.Bool(false),
		RequiredContexts:      &[]string{},
		Payload:               payloadOf(req),
		ProductionEnvironment: github.Bool(req.Production),
	}
	if req.Environment != "" {
		body.Environment = github.String(req.Environment)
	}
	if req.Description != "" {
		body.Description = github.String(req.Description)
	}
	var id int64
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		d, _, err := c.Repositories.CreateDeployment(ctx, g.owner, g.repo, body)
		id = d.GetID()
		return err
	}})
	if err == nil && id == 0 {
		err = errors.New("GitHub answered without a deployment id")
	}
	if err != nil {
		return 0, fmt.Errorf("record deployment of %s in GitHub: %w", req.Instance, err)
	}
	g.mu.Lock()
	g.created[id] = req
	g.mu.Unlock()
	return id, nil
}

// SetStatus adds a status to deployment id. The description is cut to
// MaxDescription characters; without an EnvironmentURL, the Request's is used.
func (g *GitHub) SetStatus(ctx context.Context, id int64, st Status) error {
	g.mu.Lock()
	req, known := g.created[id]
	g.mu.Unlock()
	what := fmt.Sprintf("deployment %d", id)
	if known {
		what = fmt.Sprintf("the deployment of %s (%d)", req.Instance, id)
	}
	if !st.State.Valid() {
		return fmt.Errorf("set status of %s: unknown state %q", what, st.State)
	}
	body := &github.DeploymentStatusRequest{
		State:        github.String(string(st.State)),
		AutoInactive: github.Bool(st.AutoInactive),
	}
	if d := Clip(st.Description, MaxDescription); d != "" {
		body.Description = github.String(d)
	}
	if st.LogURL != "" {
		body.LogURL = github.String(st.LogURL)
	}
	if u := cmp.Or(st.EnvironmentURL, req.EnvironmentURL); u != "" {
		body.EnvironmentURL = github.String(u)
	}
	err := g.do(ctx, call{noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		_, _, err := c.Repositories.CreateDeploymentStatus(ctx, g.owner, g.repo, id, body)
		return err
	}})
	if err != nil {
		return fmt.Errorf("set status %s on %s in GitHub: %w", st.State, what, err)
	}
	return nil
}
