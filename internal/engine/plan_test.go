package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/goal"
)

// planRecorder is an observer that also sees the plan, and checks that it
// comes once and before every event.
type planRecorder struct {
	recorder
	t      *testing.T
	planMu sync.Mutex
	plans  []*Plan
}

func (p *planRecorder) ObservePlan(_ context.Context, plan *Plan) {
	p.planMu.Lock()
	defer p.planMu.Unlock()
	p.recorder.mu.Lock()
	defer p.recorder.mu.Unlock()
	if len(p.recorder.events) > 0 {
		p.t.Errorf("the plan came after %d events", len(p.recorder.events))
	}
	p.plans = append(p.plans, plan)
}

// TestPlanFirst runs fleets in which some instances already run their
// system and checks that every host is asked once, before anything is
// built, and that only what a changed instance needs is built, pushed,
// copied and activated.
func TestPlanFirst(t *testing.T) {
	tests := []struct {
		name      string
		unchanged func(i int) bool // which of the 60 instances already run their system
		builds    int              // systems built, of 6
	}{
		{"nothing changed", func(int) bool { return true }, 0},
		{"everything changed", func(int) bool { return false }, 6},
		{"only system sys-2 changed", func(i int) bool { return i%6 != 2 }, 1},
		{"one instance in five changed", func(i int) bool { return i%5 != 0 }, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := fleetInventory(60, 6, 3)
			f := newFakeStages(t, inv)
			changed := map[string]bool{}
			for i, name := range inv.InstanceNames() {
				if tt.unchanged(i) {
					p := systemPath(inv.Instances[name].System)
					f.running[name] = HostStatus{Current: p, Profile: p}
				} else {
					changed[name] = true
				}
			}
			rec := &planRecorder{t: t}
			report, err := (&Engine{Stages: f.stages(), Goal: goal.Switch, Observers: []Observer{rec}}).Run(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.plans) != 1 {
				t.Fatalf("%d plans, want 1", len(rec.plans))
			}
			builds, pushes := 0, 0
			for key, n := range f.counts {
				builds += n * b2i(strings.HasPrefix(key, "build "))
				pushes += n * b2i(strings.HasPrefix(key, "push "))
			}
			if builds != tt.builds {
				t.Errorf("%d builds, want %d", builds, tt.builds)
			}
			if len(changed) == 0 && pushes != 0 {
				t.Errorf("%d pushes in a run where nothing changed", pushes)
			}
			for _, name := range inv.InstanceNames() {
				want, calls := Unchanged, 0
				if changed[name] {
					want, calls = Activated, 1
				}
				if got := report.Instances[name].Result; got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
				if p := rec.plans[0].Instances[name]; p.Changed != changed[name] || p.Path != systemPath(inv.Instances[name].System) {
					t.Errorf("%s: planned %+v, want changed %t", name, p, changed[name])
				}
				if f.get("status "+name) != 1 || f.get("copy "+name) != calls || f.get("activate "+name) != calls {
					t.Errorf("%s: %d status calls, %d copies, %d activations; want 1, %d, %d", name,
						f.get("status "+name), f.get("copy "+name), f.get("activate "+name), calls, calls)
				}
			}
			if got := len(rec.plans[0].Changed()); got != len(changed) {
				t.Errorf("plan says %d changed, want %d", got, len(changed))
			}
		})
	}
}

// TestPlanUnreachable checks that a host that cannot be reached fails when
// planning, with its only event the failure after planned.
func TestPlanUnreachable(t *testing.T) {
	inv := fleetInventory(3, 1, 1)
	f := newFakeStages(t, inv)
	f.unreach["host-0001"] = true
	rec := &planRecorder{t: t}
	report, _ := (&Engine{Stages: f.stages(), Observers: []Observer{rec}}).Run(context.Background(), inv)
	if o := report.Instances["host-0001"]; o.Result != Failed || !strings.Contains(o.Error, "reach host-0001") {
		t.Errorf("host-0001: %s (%s), want failed to reach it", o.Result, o.Error)
	}
	if p := rec.plans[0].Instances["host-0001"]; p.Err == nil || !p.Changed {
		t.Errorf("host-0001 planned %+v, want changed with an error", p)
	}
	var states []State
	for _, e := range rec.events {
		if e.Instance == "host-0001" {
			states = append(states, e.State)
		}
	}
	if len(states) != 2 || states[0] != Planned || states[1] != Failed {
		t.Errorf("host-0001's events %v, want planned, failed", states)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
