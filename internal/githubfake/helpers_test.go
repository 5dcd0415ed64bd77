package githubfake_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

// client is a real go-github client pointed at the fake.
func client(t *testing.T, s *githubfake.Server) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(s.Token())
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// recordingTB stands in for the test given to the fake, so that a test can
// check that the fake reports a violation instead of failing itself.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// send makes a raw request, for bodies go-github would never produce.
func send(t *testing.T, s *githubfake.Server, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, strings.TrimSuffix(s.URL(), "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, resp.Body)
	return resp.StatusCode, buf.String()
}

func ptr[T any](v T) *T { return &v }

func createDeployment(t *testing.T, c *github.Client, req *github.DeploymentRequest) *github.Deployment {
	t.Helper()
	d, _, err := c.Repositories.CreateDeployment(context.Background(), "acme", "fleet", req)
	if err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	return d
}

func createStatus(t *testing.T, c *github.Client, id int64, req *github.DeploymentStatusRequest) *github.DeploymentStatus {
	t.Helper()
	st, _, err := c.Repositories.CreateDeploymentStatus(context.Background(), "acme", "fleet", id, req)
	if err != nil {
		t.Fatalf("create status on %d: %v", id, err)
	}
	return st
}
