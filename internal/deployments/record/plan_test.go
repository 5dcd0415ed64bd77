package record

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/deploymentstest"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

func TestDecide(t *testing.T) {
	inst := func(n int, production bool) []deployments.Request {
		reqs := make([]deployments.Request, n)
		for i := range reqs {
			reqs[i] = deployments.Request{Instance: "i", Production: production}
		}
		return reqs
	}
	groups := []deployments.Request{{Environment: "production", Production: true}, {Environment: "staging"}}
	tests := []struct {
		name    string
		mode    Mode
		n       int
		budget  deployments.Budget
		want    Mode
		writes  int
		grouped bool
	}{
		{"nothing changed", Auto, 0, deployments.Budget{Writes: 500, Requests: 1000}, PerInstance, 0, false},
		{"fits", Auto, 100, deployments.Budget{Writes: 500, Requests: 1000}, PerInstance, 300, false},
		{"unknown primary budget", Auto, 100, deployments.Budget{Writes: 500, Requests: -1}, PerInstance, 300, false},
		{"too many writes for the hour", Auto, 200, deployments.Budget{Writes: 500, Requests: 1000}, PerEnvironment, 7, true},
		{"too few requests left", Auto, 10, deployments.Budget{Writes: 500, Requests: 30}, PerEnvironment, 7, true},
		{"not even the groups fit", Auto, 10, deployments.Budget{Writes: 5, Requests: 1000}, None, 0, false},
		{"per-instance is obeyed", PerInstance, 200, deployments.Budget{Writes: 500, Requests: 1000}, PerInstance, 600, false},
		{"per-environment is obeyed", PerEnvironment, 2, deployments.Budget{Writes: 500, Requests: 1000}, PerEnvironment, 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.mode, inst(tt.n, false), groups, tt.budget)
			if d.Mode != tt.want || d.Writes != tt.writes || d.Grouped != tt.grouped || d.Message == "" {
				t.Errorf("decision %+v, want %s with %d writes, grouped %t", d, tt.want, tt.writes, tt.grouped)
			}
			if tt.grouped && !strings.Contains(d.Message, "one deployment per environment (production, staging)") {
				t.Errorf("message %q does not say it groups", d.Message)
			}
		})
	}
}

// fakeLimits is a fixed budget minus the writes the recorder made.
type fakeLimits struct {
	rec    *deploymentstest.Recorder
	writes int
}

func (f fakeLimits) Budget() deployments.Budget {
	made := 0
	for _, d := range f.rec.Deployments() {
		made += 1 + len(d.Statuses)
	}
	return deployments.Budget{Writes: f.writes - made, Requests: -1}
}

func (f fakeLimits) Refresh(context.Context) error { return nil }

// fakeFinder finds what it is given, and fails on an unexpected call.
type fakeFinder struct {
	t     *testing.T
	found map[string]deployments.Found
	calls int
}

func (f *fakeFinder) Find(_ context.Context, wanted []deployments.Wanted, pages int) (map[string]deployments.Found, error) {
	f.calls++
	if f.found == nil {
		f.t.Errorf("unexpected Find(%v)", wanted)
	}
	if pages < 1 || pages > findPages {
		f.t.Errorf("Find reads %d pages", pages)
	}
	return f.found, nil
}

// planOf is a plan of web-1, web-2 (production) and db-1, db-2 (staging),
// the changed ones as given, and each one's deployment in its own
// environment.
func planOf(changed ...string) (*engine.Plan, map[string]deployments.Request) {
	p := &engine.Plan{Goal: goal.Switch, Instances: map[string]engine.PlannedInstance{}}
	reqs := map[string]deployments.Request{}
	for _, n := range []string{"web-1", "web-2", "db-1", "db-2"} {
		sys, _, _ := strings.Cut(n, "-")
		env := map[string]string{"web": "production", "db": "staging"}[sys]
		p.Instances[n] = engine.PlannedInstance{System: sys, Path: path, Environment: env, Changed: slices.Contains(changed, n)}
		reqs[n] = deployments.Request{Instance: n, System: sys, Goal: "switch", Environment: env + "/" + n, Ref: "main"}
	}
	return p, reqs
}

// runPlan feeds a plan and each instance's events (planned, then activated
// or unchanged) to o, and closes it.
func runPlan(t *testing.T, o *Observer, p *engine.Plan) {
	t.Helper()
	o.ObservePlan(t.Context(), p)
	for n, pi := range p.Instances {
		o.Observe(t.Context(), engine.Event{Instance: n, State: engine.Planned, Path: pi.Path})
	}
	for n, pi := range p.Instances {
		if pi.Changed {
			for _, s := range []engine.State{engine.Building, engine.Built, engine.Copying, engine.Activating} {
				o.Observe(t.Context(), engine.Event{Instance: n, State: s, Detail: path})
			}
			o.Observe(t.Context(), engine.Event{Instance: n, State: engine.Activated, Final: true})
		} else {
			o.Observe(t.Context(), engine.Event{Instance: n, State: engine.Unchanged, Detail: "already running " + path, Final: true})
		}
	}
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
}

func groupRequest(env string) deployments.Request {
	return deployments.Request{Environment: env, Ref: "main", Goal: "switch", Production: env == "production"}
}

func TestObservePlan(t *testing.T) {
	found := map[string]deployments.Found{"db-1": {ID: 42, Environment: "staging/db-1"}}
	tests := []struct {
		name    string
		cfg     Config
		changed []string
		finder  map[string]deployments.Found
		small   bool              // a budget of 10 writes
		want    []string          // the environments of the deployments recorded
		links   map[string]string // instance: the environment of its link, or "#42"
		mode    Mode
		grouped bool
	}{
		{"unchanged get no deployment but a link", Config{}, []string{"web-1"}, found, false,
			[]string{"production/web-1"}, map[string]string{"web-1": "production/web-1", "db-1": "#42"}, PerInstance, false},
		{"nothing changed records nothing", Config{}, nil, map[string]deployments.Found{}, false,
			nil, map[string]string{}, PerInstance, false},
		{"unchanged recorded on request", Config{RecordUnchanged: true}, []string{"web-1"}, nil, false,
			[]string{"production/web-1", "production/web-2", "staging/db-1", "staging/db-2"},
			map[string]string{"web-2": "production/web-2"}, PerInstance, false},
		{"a small budget groups", Config{}, []string{"web-1", "web-2", "db-1", "db-2"}, nil, true,
			[]string{"production", "staging"}, map[string]string{"web-1": "production", "db-2": "staging"}, PerEnvironment, true},
		{"a group lists its unchanged members too", Config{Mode: PerEnvironment}, []string{"web-1"}, map[string]deployments.Found{}, false,
			[]string{"production"}, map[string]string{"web-2": "production"}, PerEnvironment, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := deploymentstest.New(t)
			var logs []string
			cfg := tt.cfg
			cfg.Recorder, cfg.Goal, cfg.Finder, cfg.Group = rec, goal.Switch, &fakeFinder{t: t, found: tt.finder}, groupRequest
			cfg.Log = func(m string) { logs = append(logs, m) }
			if tt.small {
				cfg.Limits = fakeLimits{rec: rec, writes: 10} // 4 × 3 do not fit, 3 + 1 + 3 do
			}
			p, reqs := planOf(tt.changed...)
			o := New(cfg)
			o.Plan(reqs)
			runPlan(t, o, p)
			var got []string
			for _, d := range rec.Deployments() {
				got = append(got, d.Request.Environment)
				if states := d.States(); len(states) > 2 || states[len(states)-1] != deployments.StateSuccess {
					t.Errorf("%s: states %v, want at most in_progress then success", d.Request.Environment, states)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("deployments in %v, want %v", got, tt.want)
			}
			for n, want := range tt.links {
				l := o.Links()[n]
				if want == "#42" && l.ID != 42 || want != "#42" && (l.Environment != want || l.ID == 0) {
					t.Errorf("%s links %+v, want %s", n, l, want)
				}
			}
			if d := o.Decision(); d.Mode != tt.mode || d.Grouped != tt.grouped {
				t.Errorf("decision %+v", d)
			}
			if tt.grouped && !slices.ContainsFunc(logs, func(m string) bool { return strings.Contains(m, "one deployment per environment") }) {
				t.Errorf("log %q does not say it groups", logs)
			}
		})
	}
}

// TestRefusedFinalEndsInError checks that a deployment whose final status
// GitHub refused is not left in progress.
func TestRefusedFinalEndsInError(t *testing.T) {
	rec := newRecorder(t)
	rec.fail("status web-1 success", errors.New("set status success: GitHub's secondary rate limit refused the request"))
	o, warns := newObserver(t, rec, goal.Switch, nil)
	for _, e := range []engine.Event{
		event("web-1", engine.Planned, "switch", nil), event("web-1", engine.Activating, "switch", nil),
		event("web-1", engine.Activated, "switch", nil),
	} {
		o.Observe(t.Context(), e)
	}
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	d, _ := rec.Latest("web-1")
	states := d.States()
	if len(states) > 2 || states[len(states)-1] != deployments.StateError ||
		!strings.Contains(d.Statuses[len(states)-1].Description, "GitHub refused its last status") {
		t.Errorf("states %v (%+v), want in_progress then an error naming the refusal", states, d.Statuses)
	}
	if len(warns.all()) != 1 {
		t.Errorf("warnings %q", warns.all())
	}
}
