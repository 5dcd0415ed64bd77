package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/record"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/githubfake"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// TestFleetAgainstGitHubLimits deploys 1,000 in-memory instances in four
// environments three times, recording in the fake GitHub that enforces
// GitHub's limits (1,000 requests and 500 writes an hour, 80 writes a
// minute), in simulated time: everything changed, then 20 % of the
// instances, then 10 %. No refusal may reach the user, the writes must fit
// the hour, and every deployment created must end in a final state. It
// logs the writes and reads per changed instance (go test -v).
func TestFleetAgainstGitHubLimits(t *testing.T) {
	gh := githubfake.New(t, githubfake.WithClock(time.Now), githubfake.WithLimits(githubfake.Limits{}))
	synctest.Test(t, func(t *testing.T) {
		inv := engine.FleetInventory(1000, 20, 10)
		envs := []string{"production", "staging", "eu", "us"}
		names := inv.InstanceNames()
		for i, n := range names {
			inst := inv.Instances[n]
			inst.Environment = envs[i%len(envs)]
			inv.Instances[n] = inst
		}
		f := engine.NewFakeStages(t, inv)
		phases := []struct {
			name    string
			changes func(i int) bool
			mode    record.Mode
		}{
			{"first deployment: everything changed", func(int) bool { return true }, record.PerEnvironment},
			{"20 % changed", func(i int) bool { return i%5 == 0 }, record.PerEnvironment},
			{"10 % changed", func(i int) bool { return i%10 == 1 }, record.PerInstance},
		}
		for p, ph := range phases {
			// Runs are minutes apart (a push, a workflow run): a new run's
			// recorder cannot know the writes of the minute before it.
			time.Sleep(2 * time.Minute)
			changed := 0
			for i, n := range names {
				if p > 0 && ph.changes(i) {
					f.Forget(n)
				}
				if ph.changes(i) {
					changed++
				}
			}
			writes, reads := gh.Writes(), gh.Reads()
			start := time.Now()
			d := deployFleet(t, gh, f, inv, changed)
			w, r := gh.Writes()-writes, gh.Reads()-reads
			t.Logf("%s: %d changed instances recorded %s in %s (simulated): %d writes, %d reads; %.2f writes and %.2f reads per changed instance",
				ph.name, changed, d.Mode, time.Since(start).Round(time.Second), w, r, float64(w)/float64(changed), float64(r)/float64(changed))
			if d.Mode != ph.mode {
				t.Errorf("%s: recorded %s (%s), want %s", ph.name, d.Mode, d.Message, ph.mode)
			}
			if d.Mode == record.PerInstance && w > 3*changed {
				t.Errorf("%s: %d writes for %d changed instances, more than 3 each", ph.name, w, changed)
			}
		}
		if n := gh.Refused(); n != 0 {
			t.Errorf("GitHub refused %d requests", n)
		}
		if w := gh.Writes(); w > 500 {
			t.Errorf("%d writes in the hour, more than GitHub's 500", w)
		}
		for _, d := range gh.Deployments() {
			if !slices.Contains([]string{"success", "failure", "error", "inactive"}, d.State) {
				t.Errorf("deployment %d in %s left %q", d.ID, d.Environment, d.State)
			}
		}
	})
}

// deployFleet runs the engine over inv once, recording in gh as the action
// does, with a new recorder (a new run), and checks the outcome.
func deployFleet(t *testing.T, gh *githubfake.Server, f *engine.FakeStages, inv *inventory.Inventory, changed int) record.Decision {
	t.Helper()
	client, err := deployments.NewGitHub(deployments.Config{Token: gh.Token(), APIURL: "https://api.github.invalid/",
		Owner: "acme", Repo: "fleet", HTTPClient: &http.Client{Transport: gh.Transport()}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	reqs := map[string]deployments.Request{}
	for _, n := range inv.InstanceNames() {
		inst := inv.Instances[n]
		reqs[n] = deployments.Request{Instance: n, System: inst.System, Goal: "switch", Ref: "main",
			Environment: inst.Environment + "/" + n}
	}
	obs := record.New(record.Config{
		Recorder: client, Goal: goal.Switch, Active: client, Finder: client, Limits: client,
		Group: func(env string) deployments.Request {
			return deployments.Request{Instance: env, Goal: "switch", Ref: "main", Environment: env, Production: env == "production"}
		},
		Warn: func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() },
	})
	obs.Plan(reqs)
	builds := f.Calls("build ")
	report, err := (&engine.Engine{Stages: f.Stages(), Goal: goal.Switch, Parallel: 50, Observers: []engine.Observer{obs}}).Run(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Close(time.Hour); err != nil {
		t.Error(err)
	}
	results := map[engine.State]int{}
	for _, o := range report.Instances {
		results[o.Result]++
	}
	if results[engine.Activated] != changed || results[engine.Unchanged] != len(inv.Instances)-changed {
		t.Errorf("results %v, want %d activated", results, changed)
	}
	if changed > 0 && f.Calls("build ") == builds {
		t.Error("nothing was built")
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if links := obs.Links(); obs.Decision().Mode != record.None && len(links) < len(inv.Instances)-5 {
		t.Errorf("%d instances link a deployment, want nearly all %d", len(links), len(inv.Instances))
	}
	return obs.Decision()
}

// TestSmallPrimaryBudget records the deployment of 100 changed instances
// in four environments when GitHub has few requests left this hour: auto
// records one deployment per environment, the run succeeds and every
// deployment is final; with too few for even that, nothing is recorded.
func TestSmallPrimaryBudget(t *testing.T) {
	tests := []struct {
		remaining int
		mode      record.Mode
	}{
		{1000, record.PerInstance},
		{60, record.PerEnvironment},
		{20, record.None},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.remaining), func(t *testing.T) {
			gh := githubfake.New(t, githubfake.WithClock(time.Now), githubfake.WithLimits(githubfake.Limits{Remaining: tt.remaining}))
			synctest.Test(t, func(t *testing.T) {
				inv := engine.FleetInventory(100, 5, 2)
				for i, n := range inv.InstanceNames() {
					inst := inv.Instances[n]
					inst.Environment = []string{"production", "staging", "eu", "us"}[i%4]
					inv.Instances[n] = inst
				}
				// A read first, as the action's job lookup does, tells the
				// recorder GitHub's remaining budget.
				d := deployFleet(t, gh, engine.NewFakeStages(t, inv), inv, 100)
				if d.Mode != tt.mode {
					t.Errorf("recorded %s (%s), want %s", d.Mode, d.Message, tt.mode)
				}
				if n := gh.Refused(); n != 0 {
					t.Errorf("GitHub refused %d requests", n)
				}
				for _, dep := range gh.Deployments() {
					if dep.State != "success" {
						t.Errorf("deployment %d in %s: %q, want success", dep.ID, dep.Environment, dep.State)
					}
				}
			})
		})
	}
}
