package rollback

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func TestPerInstance(t *testing.T) {
	inv := &inventory.Inventory{
		Systems:   map[string]inventory.System{"web": {Tags: []string{"frontend"}}},
		Instances: map[string]inventory.Instance{"web-1": {System: "web", Store: "eu"}, "web-2": {System: "web"}},
	}
	got := perInstance(inv)
	if len(got.Systems) != 2 || got.Instances["web-1"].System != "web-1" || got.Instances["web-1"].Store != "eu" ||
		got.Systems["web-2"].Tags[0] != "frontend" || inv.Instances["web-1"].System != "web" {
		t.Errorf("perInstance = %+v (input %+v)", got, inv)
	}
}

func TestToDeployment(t *testing.T) {
	target := ToDeployment(deployments.Deployed{ID: 42, Paths: map[string]string{"web-1": "/nix/store/a-web", "web-2": "/nix/store/b-web"}})
	tests := []struct{ instance, want, wantErr string }{
		{"web-1", "/nix/store/a-web", ""},
		{"db-1", "", "deployment 42 did not deploy db-1 (it deployed web-1, web-2)"},
	}
	for _, tt := range tests {
		got, err := target(context.Background(), nil, tt.instance)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
			t.Errorf("%s: %q, %v; want %q, %q", tt.instance, got, err, tt.want, tt.wantErr)
		}
	}
}

// copier is a Distributor that records its copies and fails them with err.
type copier struct {
	engine.Distributor
	copied []string
	err    error
}

func (c *copier) Copy(_ context.Context, instance, path string) error {
	c.copied = append(c.copied, instance+" "+path)
	return c.err
}

func TestFetcher(t *testing.T) {
	inv := &inventory.Inventory{Instances: map[string]inventory.Instance{"web-1": {}, "eu-1": {Store: "eu"}}}
	tests := []struct {
		name, instance, valid string
		copyErr               error
		wantCopied            int
		wantErr               string
	}{
		{"on the host already", "web-1", "valid", nil, 0, ""},
		{"fetched from the store", "eu-1", "invalid", nil, 1, ""},
		{"nowhere", "eu-1", "invalid", errors.New("path is not valid in store eu"), 1, "is not on eu-1 (garbage-collected, or never there) and could not be fetched from store eu"},
		{"nowhere, no store", "web-1", "invalid", errors.New("path is not valid"), 1, "could not be fetched from the runner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runner := processtest.New(t)
			runner.Expect([]string{"ssh", "-F", "ssh_config", "-o", "LogLevel=ERROR", tt.instance}, tt.valid+"\n", nil)
			c := &copier{err: tt.copyErr}
			f := &fetcher{hosts: &generation.Reader{Runner: runner, SSH: &sshconfig.Config{Path: "ssh_config"}}, real: c, inv: inv}
			err := f.Copy(context.Background(), tt.instance, "/nix/store/a-web")
			if len(c.copied) != tt.wantCopied || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Copy = %v, copied %v; want %d copies, %q", err, c.copied, tt.wantCopied, tt.wantErr)
			}
		})
	}
}

// planRecorder records the plan it sees.
type planRecorder struct {
	engine.Observer
	plan *engine.Plan
}

func (p *planRecorder) ObservePlan(_ context.Context, plan *engine.Plan) { p.plan = plan }

func TestPlanObserversSeeTheHiveSystems(t *testing.T) {
	rec := &planRecorder{}
	o := withSystems(rec, map[string]string{"web-1": "web"})
	o.(engine.PlanObserver).ObservePlan(context.Background(), &engine.Plan{Instances: map[string]engine.PlannedInstance{"web-1": {System: "web-1", Path: "/nix/store/a-web"}}})
	if pi := rec.plan.Instances["web-1"]; pi.System != "web" || pi.Path != "/nix/store/a-web" {
		t.Errorf("the observer saw %+v", pi)
	}
	plain := engine.ObserverFunc(func(context.Context, engine.Event) {})
	if _, ok := withSystems(plain, nil).(engine.PlanObserver); ok {
		t.Error("a plain observer became a plan observer")
	}
}
