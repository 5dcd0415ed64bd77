package githubfake_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestCreateDeploymentDefaults(t *testing.T) {
	tests := []struct {
		name           string
		req            *github.DeploymentRequest
		wantEnv        string
		wantProduction bool
		wantTask       string
	}{
		{"all defaults", &github.DeploymentRequest{Ref: ptr("main")}, "production", true, "deploy"},
		{"other environment", &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("staging")}, "staging", false, "deploy"},
		{"explicit flags", &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("production"),
			ProductionEnvironment: ptr(false), Task: ptr("deploy:switch")}, "production", false, "deploy:switch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubfake.New(t)
			d := createDeployment(t, client(t, s), tt.req)
			snap := s.Deployments()[0] // go-github v60 does not decode the environment flags
			if d.GetEnvironment() != tt.wantEnv || snap.ProductionEnvironment != tt.wantProduction || d.GetTask() != tt.wantTask {
				t.Errorf("got environment %q production %v task %q, want %q %v %q",
					d.GetEnvironment(), snap.ProductionEnvironment, d.GetTask(), tt.wantEnv, tt.wantProduction, tt.wantTask)
			}
			if d.GetSHA() != githubfake.DefaultSHA || snap.TransientEnvironment || string(d.Payload) != "{}" {
				t.Errorf("got sha %q transient %v payload %s", d.GetSHA(), snap.TransientEnvironment, d.Payload)
			}
			wantURL := s.URL() + "repos/acme/fleet/deployments/" + itoa(d.GetID())
			if d.GetURL() != wantURL || d.GetStatusesURL() != wantURL+"/statuses" || d.GetRepositoryURL() != s.URL()+"repos/acme/fleet" {
				t.Errorf("got urls %q %q %q", d.GetURL(), d.GetStatusesURL(), d.GetRepositoryURL())
			}
			if d.CreatedAt == nil || d.GetCreator().GetLogin() != githubfake.DefaultLogin {
				t.Errorf("missing created_at or creator: %+v", d)
			}
		})
	}
}

func TestUnknownRef(t *testing.T) {
	s := githubfake.New(t, githubfake.WithRefs(map[string]string{"v1": "aaaa"}))
	c := client(t, s)
	_, _, err := c.Repositories.CreateDeployment(context.Background(), "acme", "fleet", &github.DeploymentRequest{Ref: ptr("nope")})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusUnprocessableEntity || er.Message != "No ref found for: nope" {
		t.Fatalf("got %v, want 422 No ref found for: nope", err)
	}
	for _, ref := range []string{"v1", "aaaa", "main"} {
		if d := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr(ref)}); d.GetSHA() != map[string]string{"v1": "aaaa", "aaaa": "aaaa", "main": githubfake.DefaultSHA}[ref] {
			t.Errorf("ref %s resolved to %s", ref, d.GetSHA())
		}
	}
}

func TestStatusLifecycle(t *testing.T) {
	s := githubfake.New(t)
	c := client(t, s)
	ctx := context.Background()
	d := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("web1")})
	createStatus(t, c, d.GetID(), &github.DeploymentStatusRequest{State: ptr("queued")})
	createStatus(t, c, d.GetID(), &github.DeploymentStatusRequest{State: ptr("in_progress"), LogURL: ptr("https://log/1")})
	last := createStatus(t, c, d.GetID(), &github.DeploymentStatusRequest{State: ptr("success"),
		Description: ptr("switched"), EnvironmentURL: ptr("https://web1")})
	if last.GetEnvironment() != "web1" || last.GetDeploymentURL() != d.GetURL() || last.GetEnvironmentURL() != "https://web1" {
		t.Errorf("got status %+v", last)
	}

	sts, _, err := c.Repositories.ListDeploymentStatuses(ctx, "acme", "fleet", d.GetID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, st := range sts {
		states = append(states, st.GetState())
	}
	if got := strings.Join(states, ","); got != "success,in_progress,queued" {
		t.Errorf("listed states %s, want newest first", got)
	}
	if sts[1].GetLogURL() != "https://log/1" || sts[1].GetTargetURL() != "https://log/1" {
		t.Errorf("target_url does not mirror log_url: %+v", sts[1])
	}
	got, _, err := c.Repositories.GetDeploymentStatus(ctx, "acme", "fleet", d.GetID(), last.GetID())
	if err != nil || got.GetState() != "success" {
		t.Errorf("get status: %v %v", got, err)
	}
	if snap := s.Deployments(); len(snap) != 1 || snap[0].State != "success" || len(s.Statuses(d.GetID())) != 3 {
		t.Errorf("snapshot %+v", snap)
	}
	if _, _, err := c.Repositories.CreateDeploymentStatus(ctx, "acme", "fleet", 999, &github.DeploymentStatusRequest{State: ptr("queued")}); !isStatus(err, 404) {
		t.Errorf("status on a missing deployment: %v, want 404", err)
	}
}

func TestListDeploymentsFiltersAndPages(t *testing.T) {
	s := githubfake.New(t)
	c := client(t, s)
	ctx := context.Background()
	for _, env := range []string{"a", "b", "a", "a"} {
		createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr(env)})
	}
	all, _, err := c.Repositories.ListDeployments(ctx, "acme", "fleet", &github.DeploymentsListOptions{Environment: "a"})
	if err != nil || len(all) != 3 || all[0].GetID() < all[2].GetID() {
		t.Fatalf("list environment a: %d deployments, %v (want 3, newest first)", len(all), err)
	}
	page1, resp, err := c.Repositories.ListDeployments(ctx, "acme", "fleet",
		&github.DeploymentsListOptions{Environment: "a", ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil || len(page1) != 2 || resp.NextPage != 2 || resp.LastPage != 2 {
		t.Fatalf("page 1: %d items, next %d, last %d, %v", len(page1), resp.NextPage, resp.LastPage, err)
	}
	page2, _, err := c.Repositories.ListDeployments(ctx, "acme", "fleet",
		&github.DeploymentsListOptions{Environment: "a", ListOptions: github.ListOptions{PerPage: 2, Page: 2}})
	if err != nil || len(page2) != 1 || page2[0].GetID() != all[2].GetID() {
		t.Fatalf("page 2: %v %v", page2, err)
	}
	none, _, err := c.Repositories.ListDeployments(ctx, "acme", "fleet", &github.DeploymentsListOptions{SHA: "ffff", Task: "deploy"})
	if err != nil || len(none) != 0 {
		t.Fatalf("list sha ffff: %v %v", none, err)
	}
	other, _, err := c.Repositories.ListDeployments(ctx, "acme", "other", nil)
	if err != nil || len(other) != 0 {
		t.Fatalf("list another repository: %v %v", other, err)
	}
}

func TestDeleteDeployment(t *testing.T) {
	s := githubfake.New(t)
	c := client(t, s)
	ctx := context.Background()
	d1 := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("qa")})
	d2 := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("qa")})
	if _, err := c.Repositories.DeleteDeployment(ctx, "acme", "fleet", d1.GetID()); !isStatus(err, 422) {
		t.Errorf("deleting an active deployment: %v, want 422", err)
	}
	createStatus(t, c, d1.GetID(), &github.DeploymentStatusRequest{State: ptr("inactive")})
	if _, err := c.Repositories.DeleteDeployment(ctx, "acme", "fleet", d1.GetID()); err != nil {
		t.Errorf("deleting an inactive deployment: %v", err)
	}
	if _, err := c.Repositories.DeleteDeployment(ctx, "acme", "fleet", d2.GetID()); err != nil {
		t.Errorf("deleting the only deployment: %v", err)
	}
	if _, _, err := c.Repositories.GetDeployment(ctx, "acme", "fleet", d2.GetID()); !isStatus(err, 404) {
		t.Errorf("get deleted deployment: %v, want 404", err)
	}
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response.StatusCode == code
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
