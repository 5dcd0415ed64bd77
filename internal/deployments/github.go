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
	"golang.org/x/oauth2"
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
	// HTTPClient sends the requests; its Transport is wrapped to add the
	// token. Default: a client with a 30 second timeout.
	HTTPClient *http.Client
	// MaxWritesPerMinute caps content-creating requests (deployments and
	// statuses) for GitHub's secondary rate limit. Default 80.
	MaxWritesPerMinute int
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
	owner, repo string
	baseURL     *url.URL
	httpClient  *http.Client
	maxAttempts int
	maxWait     time.Duration
	clock       clock
	pacer       *pacer

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
	hc := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	hc.Transport = &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.Token}),
		Base:   hc.Transport,
	}
	if cfg.MaxWritesPerMinute <= 0 {
		cfg.MaxWritesPerMinute = 80
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 3 * time.Minute
	}
	g := &GitHub{
		owner: cfg.Owner, repo: cfg.Repo,
		baseURL:     base,
		httpClient:  hc,
		maxAttempts: cfg.MaxAttempts,
		maxWait:     cfg.MaxRetryWait,
		created:     make(map[int64]Request),
	}
	g.clock = realClock{}
	g.pacer = newPacer(g.clock, cfg.MaxWritesPerMinute)
	return g, nil
}

// client returns a go-github client for one attempt. A fresh one each time
// on purpose: go-github remembers rate limits and refuses requests locally
// until they reset, by the wall clock; the pacer keeps that memory here
// instead, shared by all callers and on a clock tests can control.
func (g *GitHub) client() *github.Client {
	c := github.NewClient(g.httpClient)
	base := *g.baseURL
	c.BaseURL = &base
	c.UserAgent = "nix-hive"
	return c
}

// payload is the deployment's payload, for whoever reads the deployment.
type payload struct {
	Instance string `json:"instance"`
	System   string `json:"system"`
	Path     string `json:"path"`
	Goal     string `json:"goal"`
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
		Payload:               payload{Instance: req.Instance, System: req.System, Path: req.StorePath, Goal: req.Goal},
		ProductionEnvironment: github.Bool(req.Production),
	}
	if req.Environment != "" {
		body.Environment = github.String(req.Environment)
	}
	if req.Description != "" {
		body.Description = github.String(req.Description)
	}
	var id int64
	err := g.do(ctx, call{write: true, noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
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
	err := g.do(ctx, call{write: true, noPermission: ErrNoPermission, fn: func(ctx context.Context, c *github.Client) error {
		_, _, err := c.Repositories.CreateDeploymentStatus(ctx, g.owner, g.repo, id, body)
		return err
	}})
	if err != nil {
		return fmt.Errorf("set status %s on %s in GitHub: %w", st.State, what, err)
	}
	return nil
}
