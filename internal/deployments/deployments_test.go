package deployments

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/time/rate"
)

func TestNewGitHub(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantURL string
		wantErr string
	}{
		{name: "defaults", cfg: Config{Token: "t", Owner: "o", Repo: "r"}, wantURL: "https://api.github.com/"},
		{name: "enterprise server", cfg: Config{Token: "t", Owner: "o", Repo: "r", APIURL: "https://ghe.example.com/api/v3"},
			wantURL: "https://ghe.example.com/api/v3/"},
		{name: "no token", cfg: Config{Owner: "o", Repo: "r"}, wantErr: "no token"},
		{name: "no repository", cfg: Config{Token: "t", Owner: "o"}, wantErr: "no repository"},
		{name: "bad URL", cfg: Config{Token: "t", Owner: "o", Repo: "r", APIURL: "ghe.example.com"}, wantErr: "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGitHub(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := g.client().BaseURL.String(); got != tt.wantURL {
				t.Errorf("base URL %s, want %s", got, tt.wantURL)
			}
			rt := g.httpClient.Transport.(*retrying)
			// 75 writes a minute, under GitHub's 80: 37 at once, 38 over the minute.
			if l := rt.pacer.limiter; l.Burst() != 37 || l.Limit() != rate.Every(time.Minute/38) || rt.pacer.perHour != 500 ||
				rt.maxAttempts != 5 || rt.maxWait != 3*time.Minute || rt.attempt.Timeout != 30*time.Second {
				t.Errorf("defaults: %d writes at once then %v a second, %d attempts, %s wait, %s timeout",
					l.Burst(), l.Limit(), rt.maxAttempts, rt.maxWait, rt.attempt.Timeout)
			}
		})
	}
}

func TestNewGitHubKeepsTheCallersClient(t *testing.T) {
	hc := &http.Client{Timeout: time.Second}
	g, err := NewGitHub(Config{Token: "t", Owner: "o", Repo: "r", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil || g.httpClient.Transport.(*retrying).attempt.Timeout != time.Second {
		t.Errorf("the caller's client was changed, or its timeout lost")
	}
}

func TestDescribeValidationErrors(t *testing.T) {
	err := &github.ErrorResponse{
		Response: &http.Response{StatusCode: http.StatusUnprocessableEntity},
		Message:  "Validation Failed",
		Errors: []github.Error{
			{Resource: "DeploymentStatus", Field: "description", Code: "custom", Message: "description is too long (maximum is 140 characters)"},
			{Resource: "Deployment", Field: "ref", Code: "missing_field"},
		},
	}
	got := describe(err, ErrNoPermission)
	want := "GitHub rejected the request (422 Validation Failed: description is too long (maximum is 140 characters); ref missing_field)"
	if got.Error() != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var er *github.ErrorResponse
	if !errors.As(got, &er) {
		t.Error("go-github's error is not in the chain")
	}
}
