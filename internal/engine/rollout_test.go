package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// steps records the rollout's calls in order, and fails the test on a
// call for an instance it was not told about.
type steps struct {
	t         testing.TB
	mu        sync.Mutex
	calls     []string
	unhealthy map[string]bool   // instances whose checks fail
	booted    map[string]string // what each host runs after a reboot
}

func (s *steps) add(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

func (s *steps) Check(_ context.Context, instance string) error {
	s.add("check %s", instance)
	if s.unhealthy[instance] {
		return errors.New("health check ready (sh -c ...) failed 3 times; the last time: exit 1: not ready")
	}
	return nil
}

func (s *steps) Upload(_ context.Context, instance, when string) error {
	s.add("keys %s %s", instance, when)
	return nil
}

func (s *steps) Reboot(_ context.Context, instance string) (string, error) {
	s.add("reboot %s", instance)
	running, ok := s.booted[instance]
	if !ok {
		s.t.Errorf("unexpected reboot of %s", instance)
	}
	return running, nil
}

func (s *steps) has(call string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.calls, call)
}

// rejectingHosts are the fake hosts whose activations can be refused: the
// host then goes back to what it ran.
type rejectingHosts struct{ *fakeStages }

func (h rejectingHosts) Host(instance string) Host {
	return rejectingHost{h.fakeStages.Host(instance).(fakeHost)}
}

type rejectingHost struct{ fakeHost }

func (h rejectingHost) Activate(ctx context.Context, path string, g goal.Goal) (Activation, error) {
	a, err := h.fakeHost.Activate(ctx, path, g)
	if err != nil {
		return nil, err
	}
	return rejectingActivation{a.(fakeActivation)}, nil
}

type rejectingActivation struct{ fakeActivation }

func (a rejectingActivation) Reject(_ context.Context, cause error) error {
	a.h.f.count("reject %s", a.h.name)
	return fmt.Errorf("%w\n%w: nix-hive refused the new system", cause, ErrRolledBack)
}

const oldPath = "/nix/store/00000000000000000000000000000000-old"

// TestRollout runs three waves of fake hosts with health checks, keys and
// reboots, and checks the results, the waves and the calls.
func TestRollout(t *testing.T) {
	waves := []Wave{
		{Instances: []string{"host-0000"}, Name: "1/3 a", Gate: true},
		{Instances: []string{"host-0001"}, Name: "2/3 b"}, // a jump host of the wave, alone first
		{Instances: []string{"host-0002"}, Name: "2/3 b", Gate: true},
		{Instances: []string{"host-0003", "host-0004"}, Name: "3/3 rest", Gate: true},
	}
	tests := []struct {
		name         string
		unhealthy    []string
		rollbackWave bool
		want         map[string]State
	}{
		{"healthy", nil, false, map[string]State{"host-0000": Activated, "host-0001": Activated,
			"host-0002": Activated, "host-0003": Activated, "host-0004": Activated}},
		{"a failing check stops the rollout after its wave", []string{"host-0002"}, false, map[string]State{
			"host-0000": Activated, "host-0001": Activated, "host-0002": RolledBack, "host-0003": Skipped, "host-0004": Skipped}},
		{"--rollback-wave rolls back the wave's activated instances", []string{"host-0002"}, true, map[string]State{
			"host-0000": Activated, "host-0001": RolledBack, "host-0002": RolledBack, "host-0003": Skipped, "host-0004": Skipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := fleetInventory(5, 1, 1)
			f := newFakeStages(t, inv)
			for _, n := range inv.InstanceNames() {
				f.running[n] = HostStatus{Current: oldPath, Profile: oldPath}
			}
			s := &steps{t: t, unhealthy: map[string]bool{}}
			for _, n := range tt.unhealthy {
				s.unhealthy[n] = true
			}
			stages := Stages{Builder: f, Distributor: f, Hosts: rejectingHosts{f}, Checker: s, Keys: s}
			e := &Engine{Stages: stages, Waves: func(*inventory.Inventory) []Wave { return waves }, RollbackWave: tt.rollbackWave}
			report, err := e.Run(context.Background(), inv)
			if (err != nil) != (tt.unhealthy != nil) || (err != nil && !errors.Is(err, ErrFailed)) {
				t.Fatalf("error = %v", err)
			}
			for n, want := range tt.want {
				o := report.Instances[n]
				if o.Result != want {
					t.Errorf("%s: %s (%s), want %s", n, o.Result, o.Error, want)
				}
				if o.Wave != waveOf(waves, n) {
					t.Errorf("%s: wave %q, want %q", n, o.Wave, waveOf(waves, n))
				}
				if want == Skipped && (f.get("activate "+n) != 0 || !strings.Contains(o.Error, "wave 2/3 b failed")) {
					t.Errorf("%s was skipped, yet activated or without the failed wave: %s", n, o.Error)
				}
				if want != Skipped && !s.has("keys "+n+" pre-activation") {
					t.Errorf("%s: its pre-activation keys were not uploaded", n)
				}
			}
			if o := report.Instances["host-0002"]; tt.unhealthy != nil && !strings.Contains(o.Error, "not ready") {
				t.Errorf("the failing check's output is not in the error: %s", o.Error)
			}
			if tt.rollbackWave && f.running["host-0001"].Current != oldPath {
				t.Errorf("host-0001 runs %s after --rollback-wave, want %s", f.running["host-0001"].Current, oldPath)
			}
		})
	}
}

func waveOf(waves []Wave, n string) string {
	for _, w := range waves {
		if slices.Contains(w.Instances, n) {
			return w.Name
		}
	}
	return ""
}

// TestKeysAndChecksAroundActivation checks the order of the steps of one
// instance: pre-activation keys, activation, post-activation keys, checks,
// confirmation.
func TestKeysAndChecksAroundActivation(t *testing.T) {
	inv := fleetInventory(1, 1, 1)
	f := newFakeStages(t, inv)
	s := &steps{t: t}
	hosts := orderedHosts{f, s}
	e := &Engine{Stages: Stages{Builder: f, Distributor: f, Hosts: hosts, Checker: s, Keys: s}}
	if _, err := e.Run(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	want := []string{"keys host-0000 pre-activation", "activate host-0000", "keys host-0000 post-activation", "check host-0000", "confirm host-0000"}
	if !slices.Equal(s.calls, want) {
		t.Errorf("calls = %q, want %q", s.calls, want)
	}
}

// orderedHosts records activations and confirmations among the steps.
type orderedHosts struct {
	f *fakeStages
	s *steps
}

func (h orderedHosts) Host(instance string) Host {
	return orderedHost{h.f.Host(instance).(fakeHost), h.s}
}

type orderedHost struct {
	fakeHost
	s *steps
}

func (h orderedHost) Activate(ctx context.Context, path string, g goal.Goal) (Activation, error) {
	h.s.add("activate %s", h.name)
	a, err := h.fakeHost.Activate(ctx, path, g)
	return orderedActivation{a.(fakeActivation), h.s}, err
}

type orderedActivation struct {
	fakeActivation
	s *steps
}

func (a orderedActivation) Confirm(ctx context.Context) (ActivationResult, error) {
	a.s.add("confirm %s", a.h.name)
	return a.fakeActivation.Confirm(ctx)
}

// TestReboot checks --reboot: after boot the host is rebooted, must come
// back running the new system, gets its keys again and is checked.
func TestReboot(t *testing.T) {
	tests := []struct {
		name    string
		running string // "" for the new system
		want    State
		wantErr string
	}{
		{"back on the new system", "", Activated, ""},
		{"back on another system", oldPath, Failed, "came back running " + oldPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := fleetInventory(1, 1, 1)
			f := newFakeStages(t, inv)
			running := tt.running
			if running == "" {
				running = systemPath("sys-0")
			}
			s := &steps{t: t, booted: map[string]string{"host-0000": running}}
			e := &Engine{Stages: Stages{Builder: f, Distributor: f, Hosts: f, Checker: s, Keys: s, Rebooter: s}, Goal: goal.Boot, Reboot: true}
			report, _ := e.Run(context.Background(), inv)
			o := report.Instances["host-0000"]
			if o.Result != tt.want || !strings.Contains(o.Error, tt.wantErr) {
				t.Errorf("result %s (%s), want %s with %q", o.Result, o.Error, tt.want, tt.wantErr)
			}
			if tt.want == Activated && !slices.Equal(s.calls, []string{"keys host-0000 pre-activation", "reboot host-0000", "keys host-0000 ", "check host-0000"}) {
				t.Errorf("calls = %q", s.calls)
			}
		})
	}
}

// TestTableShowsWaves checks the final table's WAVE column, in wave order.
func TestTableShowsWaves(t *testing.T) {
	r := newReport()
	for n, w := range map[string]string{"a": "10/10 rest", "b": "2/10 @eu", "c": "1/10 @canary"} {
		r.Instances[n] = &Outcome{System: "s", Result: Activated, Wave: w}
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "WAVE") || !strings.HasPrefix(lines[1], "1/10 @canary  c") ||
		!strings.HasPrefix(lines[3], "10/10 rest") {
		t.Errorf("table:\n%s", b.String())
	}
}
