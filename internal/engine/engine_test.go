package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// fakeStages are in-memory stages: a builder, a distributor and hosts that
// count every call and fail the test on a call they do not expect.
type fakeStages struct {
	t   testing.TB
	inv *inventory.Inventory

	mu       sync.Mutex
	counts   map[string]int
	failing  map[string]bool // hosts whose activation is rolled back
	running  map[string]HostStatus
	unreach  map[string]bool
	badBuild map[string]bool // systems whose build fails
	reboot   map[string]bool // hosts whose new system needs a reboot
	order    []string        // instances in the order their activation ended
}

func newFakeStages(t testing.TB, inv *inventory.Inventory) *fakeStages {
	return &fakeStages{t: t, inv: inv, counts: map[string]int{}, failing: map[string]bool{},
		running: map[string]HostStatus{}, unreach: map[string]bool{}, badBuild: map[string]bool{}, reboot: map[string]bool{}}
}

func (f *fakeStages) stages() Stages { return Stages{Builder: f, Distributor: f, Hosts: f} }

func (f *fakeStages) count(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[fmt.Sprintf(format, args...)]++
}

func (f *fakeStages) get(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[key]
}

func systemPath(name string) string {
	return "/nix/store/" + strings.Repeat("a", 32) + "-nixos-system-" + name
}

func (f *fakeStages) Evaluate(_ context.Context, system string) (System, error) {
	if _, ok := f.inv.Systems[system]; !ok {
		f.t.Errorf("Evaluate of unknown system %q", system)
	}
	f.count("evaluate %s", system)
	return System{Name: system, Drv: systemPath(system) + ".drv", Path: systemPath(system)}, nil
}

func (f *fakeStages) Build(_ context.Context, sys System) error {
	f.count("build %s", sys.Name)
	if f.badBuild[sys.Name] {
		return fmt.Errorf("build system %s: nix-store --realise failed", sys.Name)
	}
	return nil
}

func (f *fakeStages) Push(_ context.Context, store, path string) error {
	if _, ok := f.inv.Stores[store]; !ok {
		f.t.Errorf("Push to unknown store %q", store)
	}
	f.count("push %s %s", store, path)
	return nil
}

func (f *fakeStages) Copy(_ context.Context, instance, path string) error {
	if _, ok := f.inv.Instances[instance]; !ok {
		f.t.Errorf("Copy to unknown instance %q", instance)
	}
	f.count("copy %s", instance)
	return nil
}

func (f *fakeStages) Host(instance string) Host {
	if _, ok := f.inv.Instances[instance]; !ok {
		f.t.Errorf("Host of unknown instance %q", instance)
	}
	return fakeHost{f, instance}
}

type fakeHost struct {
	f    *fakeStages
	name string
}

func (h fakeHost) Status(context.Context) (HostStatus, error) {
	h.f.count("status %s", h.name)
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.f.unreach[h.name] {
		return HostStatus{}, errors.New("ssh: connect to host: no route to host")
	}
	return h.f.running[h.name], nil
}

func (h fakeHost) Activate(_ context.Context, path string, g goal.Goal) (Activation, error) {
	h.f.count("activate %s", h.name)
	if h.f.failing[h.name] {
		return nil, fmt.Errorf("%w: switch-to-configuration %s failed", ErrRolledBack, g)
	}
	return fakeActivation{h, path, g}, nil
}

type fakeActivation struct {
	h    fakeHost
	path string
	g    goal.Goal
}

func (a fakeActivation) Confirm(context.Context) (ActivationResult, error) {
	a.h.f.count("confirm %s", a.h.name)
	a.h.f.mu.Lock()
	defer a.h.f.mu.Unlock()
	a.h.f.order = append(a.h.f.order, a.h.name)
	if a.h.f.reboot[a.h.name] {
		return ActivationResult{RebootRequired: true}, nil
	}
	st := a.h.f.running[a.h.name]
	if a.g.ChangesRunning() {
		st.Current = a.path
	}
	if a.g.SetsProfile() {
		st.Profile = a.path
	}
	a.h.f.running[a.h.name] = st
	return ActivationResult{}, nil
}

// fleetInventory is an inventory of n instances over the given numbers of
// systems and stores; every third instance has no store.
func fleetInventory(n, systems, stores int) *inventory.Inventory {
	inv := &inventory.Inventory{File: "/d/hive.nix", Systems: map[string]inventory.System{},
		Stores: map[string]inventory.Store{}, Instances: map[string]inventory.Instance{}}
	for i := range systems {
		inv.Systems[fmt.Sprintf("sys-%d", i)] = inventory.System{System: "x86_64-linux"}
	}
	for i := range stores {
		inv.Stores[fmt.Sprintf("store-%d", i)] = inventory.Store{URL: fmt.Sprintf("ssh-ng://store-%d", i)}
	}
	for i := range n {
		inst := inventory.Instance{System: fmt.Sprintf("sys-%d", i%systems), Environment: "production"}
		if i%3 != 0 {
			inst.Store = fmt.Sprintf("store-%d", (i/3)%stores)
		}
		inv.Instances[fmt.Sprintf("host-%04d", i)] = inst
	}
	return inv
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Observe(_ context.Context, e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) finals() map[string][]State {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]State{}
	for _, e := range r.events {
		if e.Final {
			out[e.Instance] = append(out[e.Instance], e.State)
		}
	}
	return out
}
