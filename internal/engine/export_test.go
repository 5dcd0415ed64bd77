package engine

import (
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// The in-memory stages, for the tests of package engine_test that run them
// with other packages (the GitHub recorder against the fake GitHub).

// FakeStages are the in-memory stages of engine_test.go.
type FakeStages = fakeStages

// NewFakeStages returns in-memory stages for inv.
func NewFakeStages(t testing.TB, inv *inventory.Inventory) *FakeStages { return newFakeStages(t, inv) }

// FleetInventory is an inventory of n instances over the given numbers of
// systems and stores.
func FleetInventory(n, systems, stores int) *inventory.Inventory {
	return fleetInventory(n, systems, stores)
}

// Stages returns the stages.
func (f *fakeStages) Stages() Stages { return f.stages() }

// Forget makes a host run nothing, so that the next run changes it.
func (f *fakeStages) Forget(instance string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, instance)
}

// Calls counts the calls whose key starts with prefix ("build ", "copy ").
func (f *fakeStages) Calls(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, c := range f.counts {
		if strings.HasPrefix(k, prefix) {
			n += c
		}
	}
	return n
}
