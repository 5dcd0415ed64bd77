package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// TestConfirmationFreesTheSlot runs two instances one at a time: the
// first one's confirmation waits for the second one's activation, which
// only works when a confirmation does not hold the instance's slot.
func TestConfirmationFreesTheSlot(t *testing.T) {
	inv := fleetInventory(2, 1, 1)
	f := newFakeStages(t, inv)
	second := make(chan struct{})
	var once sync.Once
	f.onActivate = func(name string) {
		if name == "host-0001" {
			once.Do(func() { close(second) })
		}
	}
	f.onConfirm = func(name string) {
		if name != "host-0000" {
			return
		}
		select {
		case <-second:
		case <-time.After(10 * time.Second):
			t.Error("the second instance was not activated while the first one's confirmation waited")
		}
	}
	e := &Engine{Stages: f.stages(), Goal: goal.Switch, Parallel: 1}
	if _, err := e.Run(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
}

// TestPushDoesNotWaitForTheWave checks that a closure reaches its store
// once built, before the wave of the instance that fetches from it.
func TestPushDoesNotWaitForTheWave(t *testing.T) {
	inv := fleetInventory(3, 1, 1) // host-0000 direct, host-0001 and -0002 from store-0
	f := newFakeStages(t, inv)
	f.onActivate = func(name string) {
		deadline := time.Now().Add(10 * time.Second)
		for name == "host-0000" && f.get("push store-0 "+systemPath("sys-0")) == 0 {
			if time.Now().After(deadline) {
				t.Error("the first wave was activated before the store had the closure its later wave needs")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	e := &Engine{Stages: f.stages(), Goal: goal.Switch, Waves: func(*inventory.Inventory) []Wave {
		return []Wave{{Name: "1", Instances: []string{"host-0000"}, Gate: true}, {Name: "2", Instances: []string{"host-0001", "host-0002"}}}
	}}
	if _, err := e.Run(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	if n := f.get("push store-0 " + systemPath("sys-0")); n != 1 {
		t.Errorf("%d pushes, want 1", n)
	}
}

// TestOnePushAtATimePerStore checks that the closures of several systems
// go to one store one after the other.
func TestOnePushAtATimePerStore(t *testing.T) {
	inv := fleetInventory(60, 4, 2)
	f := newFakeStages(t, inv)
	e := &Engine{Stages: f.stages(), Goal: goal.Switch, Parallel: 20, BuildParallel: 4}
	if _, err := e.Run(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	if f.maxPushing != 1 {
		t.Errorf("%d pushes to one store at once, want 1", f.maxPushing)
	}
}
