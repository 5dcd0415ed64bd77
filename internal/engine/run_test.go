package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nix-hive/nix-hive/internal/goal"
)

// TestOneBuildPerSystemOnePushPerStore deploys 1,000 in-memory instances of
// 20 systems through 10 stores and checks that each system is evaluated
// and built once and pushed once to each store that needs it.
func TestOneBuildPerSystemOnePushPerStore(t *testing.T) {
	inv := fleetInventory(1000, 20, 10)
	f := newFakeStages(t, inv)
	rec := &recorder{}
	e := &Engine{Stages: f.stages(), Goal: goal.Switch, Parallel: 50, Observers: []Observer{rec}}
	report, err := e.Run(context.Background(), inv)
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	pairs := map[[2]string]bool{}
	for name, inst := range inv.Instances {
		if inst.Store != "" {
			pairs[[2]string{inst.System, inst.Store}] = true
		}
		if o := report.Instances[name]; o.Result != Activated || o.Path != systemPath(inst.System) {
			t.Errorf("%s: %s at %q, want activated at %q", name, o.Result, o.Path, systemPath(inst.System))
		}
		for _, call := range []string{"status", "copy", "activate", "confirm"} {
			if n := f.get(call + " " + name); n != 1 {
				t.Errorf("%s %s: %d calls, want 1", call, name, n)
			}
		}
	}
	for system := range inv.Systems {
		if f.get("evaluate "+system) != 1 || f.get("build "+system) != 1 {
			t.Errorf("%s: %d evaluations and %d builds, want 1 each", system, f.get("evaluate "+system), f.get("build "+system))
		}
	}
	pushes := 0
	for key, n := range f.counts {
		if len(key) > 5 && key[:5] == "push " {
			pushes += n
		}
	}
	for p := range pairs {
		if n := f.get(fmt.Sprintf("push %s %s", p[1], systemPath(p[0]))); n != 1 {
			t.Errorf("system %s to store %s: %d pushes, want 1", p[0], p[1], n)
		}
	}
	if pushes != len(pairs) {
		t.Errorf("%d pushes for %d (system, store) pairs", pushes, len(pairs))
	}
	for name, states := range rec.finals() {
		if len(states) != 1 {
			t.Errorf("%s reached %d final states: %v", name, len(states), states)
		}
	}
	t.Logf("%d instances, %d systems, %d (system, store) pairs, %d events", len(inv.Instances), len(inv.Systems), len(pairs), len(rec.events))
}

// TestGoals checks each goal's path through the stages and its result.
func TestGoals(t *testing.T) {
	tests := []struct {
		goal                       goal.Goal
		result                     State
		copies, activates, confirm int
	}{
		{goal.Build, Built, 0, 0, 0},
		{goal.Push, Pushed, 1, 0, 0},
		{goal.Switch, Activated, 1, 1, 1},
		{goal.Boot, Activated, 1, 1, 1},
		{goal.Test, Activated, 1, 1, 1},
		{goal.DryActivate, Activated, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.goal), func(t *testing.T) {
			inv := fleetInventory(3, 1, 1)
			f := newFakeStages(t, inv)
			report, err := (&Engine{Stages: f.stages(), Goal: tt.goal}).Run(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range inv.InstanceNames() {
				if got := report.Instances[name].Result; got != tt.result {
					t.Errorf("%s: %s, want %s", name, got, tt.result)
				}
				if f.get("copy "+name) != tt.copies || f.get("activate "+name) != tt.activates || f.get("confirm "+name) != tt.confirm {
					t.Errorf("%s: copies %d, activations %d, confirmations %d; want %d, %d, %d", name,
						f.get("copy "+name), f.get("activate "+name), f.get("confirm "+name), tt.copies, tt.activates, tt.confirm)
				}
			}
		})
	}
}

// TestFailuresStayWithTheirHost checks that a rolled-back host, an
// unreachable host and a failed build each fail only their instances.
func TestFailuresStayWithTheirHost(t *testing.T) {
	inv := fleetInventory(9, 3, 1)
	f := newFakeStages(t, inv)
	f.failing["host-0001"] = true
	f.unreach["host-0004"] = true
	f.badBuild["sys-2"] = true // host-0002, host-0005, host-0008
	report, err := (&Engine{Stages: f.stages(), Goal: goal.Switch}).Run(context.Background(), inv)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("error %v, want ErrFailed", err)
	}
	want := map[string]State{
		"host-0000": Activated, "host-0001": RolledBack, "host-0002": Failed, "host-0003": Activated,
		"host-0004": Failed, "host-0005": Failed, "host-0006": Activated, "host-0007": Activated, "host-0008": Failed,
	}
	for name, w := range want {
		if got := report.Instances[name].Result; got != w {
			t.Errorf("%s: %s (%s), want %s", name, got, report.Instances[name].Error, w)
		}
	}
	// Planning asks every host what it runs before anything is built, so
	// host-0002 was asked; nothing was copied to it nor activated.
	if f.get("copy host-0002") != 0 || f.get("activate host-0002") != 0 {
		t.Error("an instance whose system did not build was copied to or activated")
	}
}

// TestUnchangedIsNotActivated checks that a host already running the
// target is not copied to nor activated.
func TestUnchangedIsNotActivated(t *testing.T) {
	inv := fleetInventory(2, 1, 1)
	f := newFakeStages(t, inv)
	f.running["host-0000"] = HostStatus{Current: systemPath("sys-0"), Profile: systemPath("sys-0")}
	report, err := (&Engine{Stages: f.stages()}).Run(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if r := report.Instances["host-0000"].Result; r != Unchanged || f.get("copy host-0000") != 0 || f.get("activate host-0000") != 0 {
		t.Errorf("host-0000: %s, %d copies, %d activations; want unchanged, none", r, f.get("copy host-0000"), f.get("activate host-0000"))
	}
	if r := report.Instances["host-0001"].Result; r != Activated {
		t.Errorf("host-0001: %s, want activated", r)
	}
}

// TestCancelledRunSkips checks that instances not started when the run is
// cancelled are skipped, each with one final event.
func TestCancelledRunSkips(t *testing.T) {
	inv := fleetInventory(5, 1, 1)
	f := newFakeStages(t, inv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &recorder{}
	report, err := (&Engine{Stages: f.stages(), Observers: []Observer{rec}}).Run(ctx, inv)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("error %v, want ErrFailed", err)
	}
	for _, name := range inv.InstanceNames() {
		if r := report.Instances[name].Result; r != Skipped && r != Failed {
			t.Errorf("%s: %s, want skipped", name, r)
		}
		if n := len(rec.finals()[name]); n != 1 {
			t.Errorf("%s: %d final events", name, n)
		}
	}
	if f.get("activate host-0000") != 0 {
		t.Error("a cancelled run activated a host")
	}
}
