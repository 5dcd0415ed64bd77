package deployments

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestLifecycle(t *testing.T) {
	g, s, _ := setup(t, nil)
	req := web1()
	id, err := g.Create(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	steps := []Status{
		{State: StateQueued, Description: "waiting for the build"},
		{State: StateInProgress, Description: "switching", LogURL: "https://github.com/acme/fleet/actions/runs/7/job/9"},
		{State: StateSuccess, Description: "switched", LogURL: "https://github.com/acme/fleet/actions/runs/7/job/9", AutoInactive: true},
	}
	for _, st := range steps {
		if err := g.SetStatus(t.Context(), id, st); err != nil {
			t.Fatal(err)
		}
	}

	deps := s.Deployments()
	if len(deps) != 1 {
		t.Fatalf("got %d deployments, want 1", len(deps))
	}
	d := deps[0]
	if d.ID != id || d.Ref != "main" || d.SHA != githubfake.DefaultSHA || d.Task != "deploy" || d.Environment != "web1" ||
		d.ProductionEnvironment || d.TransientEnvironment || d.Description != req.Description || d.State != "success" {
		t.Errorf("deployment %+v", d)
	}
	var p map[string]string
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"instance": "web1", "system": "x86_64-linux", "path": req.StorePath, "goal": "switch"}
	for k, v := range want {
		if p[k] != v || len(p) != len(want) {
			t.Errorf("payload %v, want %v", p, want)
			break
		}
	}
	var create struct {
		AutoMerge        *bool     `json:"auto_merge"`
		RequiredContexts *[]string `json:"required_contexts"`
		Transient        *bool     `json:"transient_environment"`
	}
	if err := json.Unmarshal(s.Requests()[0].Body, &create); err != nil {
		t.Fatal(err)
	}
	if create.AutoMerge == nil || *create.AutoMerge || create.RequiredContexts == nil || len(*create.RequiredContexts) != 0 || create.Transient != nil {
		t.Errorf("create body %s: want auto_merge false, required_contexts [] and no transient_environment", s.Requests()[0].Body)
	}

	sts := s.Statuses(id)
	if len(sts) != 3 {
		t.Fatalf("got %d statuses, want 3", len(sts))
	}
	for i, st := range sts {
		if st.State != string(steps[i].State) || st.Description != steps[i].Description || st.LogURL != steps[i].LogURL ||
			st.TargetURL != steps[i].LogURL || st.EnvironmentURL != req.EnvironmentURL || st.AutoInactive != steps[i].AutoInactive {
			t.Errorf("status %d: %+v, want %+v with environment_url %s", i, st, steps[i], req.EnvironmentURL)
		}
	}
}

func TestAutoInactive(t *testing.T) {
	tests := []struct {
		name         string
		secondEnv    string
		autoInactive bool
		want         string // state of the first web1 deployment afterwards
	}{
		{"same environment is retired", "web1", true, "inactive"},
		{"other environment is kept", "web2", true, "success"},
		{"without auto_inactive it is kept", "web1", false, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, s, _ := setup(t, nil)
			first, err := g.Create(t.Context(), web1())
			if err != nil {
				t.Fatal(err)
			}
			if err := g.SetStatus(t.Context(), first, Status{State: StateSuccess, AutoInactive: true}); err != nil {
				t.Fatal(err)
			}
			req := web1()
			req.Environment = tt.secondEnv
			second, err := g.Create(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.SetStatus(t.Context(), second, Status{State: StateSuccess, AutoInactive: tt.autoInactive}); err != nil {
				t.Fatal(err)
			}
			deps := s.Deployments()
			if deps[0].State != tt.want || deps[1].State != "success" {
				t.Errorf("states %q, %q; want %q, success", deps[0].State, deps[1].State, tt.want)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name     string
		opts     []githubfake.Option
		edit     func(*Config)
		fault    *githubfake.Fault
		ref      string
		status   bool // refuse SetStatus rather than Create
		sentinel error
		want     string
	}{
		{name: "202 auto-merged", fault: ptr(githubfake.AutoMerged()), sentinel: ErrAutoMerged,
			want: "record deployment of web1 in GitHub: GitHub merged the default branch into the ref instead of creating a deployment (GitHub answered 202 Auto-merged master into topic-branch on deployment.); nothing was recorded"},
		{name: "409 conflict", fault: ptr(githubfake.MergeConflict()), sentinel: ErrConflict,
			want: "GitHub answered 409 Conflict merging master into topic-branch."},
		{name: "422 unknown ref", ref: "no-such-branch",
			want: "record deployment of web1 in GitHub: GitHub rejected the request (422 No ref found for: no-such-branch)"},
		{name: "403 without deployments write", opts: []githubfake.Option{githubfake.WithoutDeploymentsWrite()}, sentinel: ErrNoPermission,
			want: "record deployment of web1 in GitHub: the token cannot write deployments: give the workflow `permissions: deployments: write` (GitHub answered 403 Resource not accessible by integration)"},
		{name: "403 on a status", status: true, fault: &githubfake.Fault{Status: 403, Message: "Resource not accessible by integration"}, sentinel: ErrNoPermission,
			want: "set status queued on the deployment of web1 (1) in GitHub: the token cannot write deployments"},
		{name: "401 bad token", edit: func(c *Config) { c.Token = "ghs_wrong" },
			want: "GitHub rejected the token (401 Bad credentials)"},
		{name: "404 on a status", status: true, fault: &githubfake.Fault{Status: 404, Message: "Not Found"},
			want: "GitHub found no such repository, deployment or run, or the token cannot see it (404 Not Found)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, s, _ := setup(t, tt.edit, tt.opts...)
			route := githubfake.CreateDeployment
			if tt.status {
				route = githubfake.CreateStatus
			}
			req := web1()
			if tt.ref != "" {
				req.Ref = tt.ref
			}
			var err error
			if tt.status {
				id, cerr := g.Create(t.Context(), req)
				if cerr != nil {
					t.Fatal(cerr)
				}
				if tt.fault != nil {
					s.Inject(route, *tt.fault)
				}
				err = g.SetStatus(t.Context(), id, Status{State: StateQueued})
			} else {
				if tt.fault != nil {
					s.Inject(route, *tt.fault)
				}
				_, err = g.Create(t.Context(), req)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want it to contain %q", err, tt.want)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if strings.Contains(err.Error(), githubfake.DefaultToken) || strings.Contains(err.Error(), "ghs_wrong") {
				t.Errorf("the error shows the token: %v", err)
			}
			if n := s.Calls(route); n != 1 {
				t.Errorf("%d calls, want 1: no retry", n)
			}
		})
	}
}

func TestDescriptionTruncation(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "switched", "switched"},
		{"exactly 140", strings.Repeat("ü", 140), strings.Repeat("ü", 140)},
		{"long multibyte", strings.Repeat("ü", 200), strings.Repeat("ü", 139) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, s, _ := setup(t, nil) // the fake fails the test on a description over 140
			id, err := g.Create(t.Context(), web1())
			if err != nil {
				t.Fatal(err)
			}
			if err := g.SetStatus(t.Context(), id, Status{State: StateFailure, Description: tt.in}); err != nil {
				t.Fatal(err)
			}
			if got := s.Statuses(id)[0].Description; got != tt.want {
				t.Errorf("description %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnterpriseServerBaseURL(t *testing.T) {
	g, s, _ := setup(t, func(c *Config) {}, githubfake.WithBasePath("/api/v3"))
	// GITHUB_API_URL on GHES has no trailing slash.
	g2, err := NewGitHub(Config{Token: s.Token(), APIURL: strings.TrimSuffix(s.URL(), "/"), Owner: "acme", Repo: "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*GitHub{g, g2} {
		if _, err := rec.Create(t.Context(), web1()); err != nil {
			t.Fatalf("create through %s: %v", rec.baseURL, err)
		}
	}
	if got := s.Requests()[0].Path; got != "/repos/acme/fleet/deployments" {
		t.Errorf("path below /api/v3: %q", got)
	}
}

func TestSetStatusRejectsUnknownState(t *testing.T) {
	g, s, _ := setup(t, nil)
	if err := g.SetStatus(t.Context(), 1, Status{State: "done"}); err == nil || !strings.Contains(err.Error(), `unknown state "done"`) {
		t.Errorf("got %v", err)
	}
	if _, err := g.Create(t.Context(), Request{Instance: "web1"}); err == nil || !strings.Contains(err.Error(), "no ref") {
		t.Errorf("create without ref: %v", err)
	}
	long := web1()
	long.Environment = strings.Repeat("e", MaxEnvironmentName+1)
	if _, err := g.Create(t.Context(), long); err == nil || !strings.Contains(err.Error(), "longer than GitHub's 255") {
		t.Errorf("create with a 256-character environment: %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func ptr[T any](v T) *T { return &v }

// TestCreatePayloadNamesTheFlake: a deployment from a flake carries the
// flake's locked revision and narHash in its payload beside the store path;
// one from a hive.nix has no flake key.
func TestCreatePayloadNamesTheFlake(t *testing.T) {
	source := &FlakeSource{URL: "git+file:///src/fleet?rev=0123abc", Rev: "0123abc", NarHash: "sha256-AAAA"}
	tests := []struct {
		name  string
		flake *FlakeSource
		want  string
	}{
		{"hive.nix", nil, `{"goal":"switch","instance":"web1","path":"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-web","system":"web"}`},
		{"flake", source, `{"flake":{"narHash":"sha256-AAAA","rev":"0123abc","url":"git+file:///src/fleet?rev=0123abc"},"goal":"switch","instance":"web1","path":"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-web","system":"web"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, s, _ := setup(t, nil)
			req := Request{Instance: "web1", System: "web", StorePath: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-web", Goal: "switch", Ref: "main", Flake: tt.flake}
			if _, err := g.Create(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			if err := json.Unmarshal(s.Deployments()[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(p) // keys sorted
			if string(got) != tt.want {
				t.Errorf("payload %s\nwant    %s", got, tt.want)
			}
		})
	}
}
