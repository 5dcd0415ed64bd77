package githubfake_test

import (
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestAutoInactive(t *testing.T) {
	type dep struct {
		env        string
		production bool
		transient  bool
		state      string // status set before the new deployment succeeds
	}
	tests := []struct {
		name         string
		earlier      []dep
		autoInactive *bool
		newEnv       string
		want         []string // latest state of each earlier deployment afterwards
	}{
		{
			name:    "same environment retired, others kept",
			earlier: []dep{{env: "web1", state: "success"}, {env: "web2", state: "success"}, {env: "web1", state: "success"}},
			newEnv:  "web1",
			want:    []string{"inactive", "success", "inactive"},
		},
		{
			name:    "only deployments whose latest state is success",
			earlier: []dep{{env: "web1", state: "failure"}, {env: "web1", state: "in_progress"}, {env: "web1"}},
			newEnv:  "web1",
			want:    []string{"failure", "in_progress", ""},
		},
		{
			name:    "transient and production deployments are kept",
			earlier: []dep{{env: "web1", transient: true, state: "success"}, {env: "web1", production: true, state: "success"}},
			newEnv:  "web1",
			want:    []string{"success", "success"},
		},
		{
			name:         "auto_inactive false",
			earlier:      []dep{{env: "web1", state: "success"}},
			autoInactive: ptr(false),
			newEnv:       "web1",
			want:         []string{"success"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubfake.New(t)
			c := client(t, s)
			var ids []int64
			for _, d := range tt.earlier {
				got := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr(d.env),
					ProductionEnvironment: ptr(d.production), TransientEnvironment: ptr(d.transient)})
				ids = append(ids, got.GetID())
				if d.state != "" {
					// Earlier deployments keep their state: no auto_inactive here.
					createStatus(t, c, got.GetID(), &github.DeploymentStatusRequest{State: ptr(d.state), AutoInactive: ptr(false)})
				}
			}
			newer := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr(tt.newEnv), ProductionEnvironment: ptr(false)})
			createStatus(t, c, newer.GetID(), &github.DeploymentStatusRequest{State: ptr("success"), AutoInactive: tt.autoInactive})

			byID := map[int64]githubfake.Deployment{}
			for _, d := range s.Deployments() {
				byID[d.ID] = d
			}
			for i, id := range ids {
				if got := byID[id].State; got != tt.want[i] {
					t.Errorf("earlier deployment %d (%+v): state %q, want %q", i, tt.earlier[i], got, tt.want[i])
				}
			}
			if got := byID[newer.GetID()].State; got != "success" {
				t.Errorf("new deployment state %q, want success", got)
			}
		})
	}
}

func TestStatusEnvironmentMovesDeployment(t *testing.T) {
	s := githubfake.New(t)
	c := client(t, s)
	d := createDeployment(t, c, &github.DeploymentRequest{Ref: ptr("main"), Environment: ptr("qa")})
	createStatus(t, c, d.GetID(), &github.DeploymentStatusRequest{State: ptr("queued"), Environment: ptr("staging")})
	st := createStatus(t, c, d.GetID(), &github.DeploymentStatusRequest{State: ptr("success")})
	if st.GetEnvironment() != "staging" {
		t.Errorf("status environment %q, want the previous status's staging", st.GetEnvironment())
	}
	if got := s.Deployments()[0]; got.Environment != "staging" || got.OriginalEnvironment != "qa" {
		t.Errorf("deployment environment %q original %q", got.Environment, got.OriginalEnvironment)
	}
}
