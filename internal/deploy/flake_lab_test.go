package deploy_test

import (
	"context"
	"testing"

	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// TestDeployFleetFromFlake deploys the example fleet as a flake
// (examples/fleet-flake) to real hosts: every instance is activated, with
// its system, store and result as the include-path version gives them;
// then the include-path version finds every instance unchanged, running
// the very store path the flake deployed.
func TestDeployFleetFromFlake(t *testing.T) {
	l := lab.NewForTest(t, labfleet.Spec)
	ctx, r := context.Background(), &process.Exec{}
	ff, err := labfleet.PrepareFlake(ctx, r, l, "../../examples/fleet-flake", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fromFlake := &fleet{t: t, lab: l, Fleet: ff, dir: ff.Dir}
	lf, err := labfleet.Prepare(ctx, r, l, "../../examples/fleet", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	included := &fleet{t: t, lab: l, Fleet: lf, dir: lf.Dir}

	want := map[string]struct{ system, store string }{
		"web-1": {"web", ""}, "web-2": {"web", ""}, "db-1": {"db", ""},
		"eu-1": {"edge", "eu"}, "eu-2": {"edge", "eu"}, "eu-3": {"edge", "eu"},
	}
	r1, err := fromFlake.deploy()
	if err != nil {
		t.Fatalf("deployment from the flake failed: %v", err)
	}
	for _, name := range everyInstance {
		o := r1.Instances[name]
		if o.Result != "activated" || o.System != want[name].system || o.Store != want[name].store {
			t.Errorf("%s: %s of system %q through store %q (%s); want activated, %q, %q", name, o.Result, o.System, o.Store, o.Error, want[name].system, want[name].store)
			continue
		}
		if current, profile := fromFlake.running(name); current != o.Path || profile != o.Path {
			t.Errorf("%s runs %q with profile %q, want both %q", name, current, profile, o.Path)
		}
		if got := fromFlake.activations(name); len(got) != 1 || got[0] != "switch "+o.Path {
			t.Errorf("%s activations = %q", name, got)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	fromFlake.on("store-eu", "nix-store", "--check-validity", r1.Instances["eu-1"].Path)

	r2, err := included.deploy()
	if err != nil {
		t.Fatalf("deployment of the include-path version failed: %v", err)
	}
	for _, name := range everyInstance {
		f, i := r1.Instances[name], r2.Instances[name]
		if i.Result != "unchanged" || i.Path != f.Path || i.System != f.System || i.Store != f.Store {
			t.Errorf("%s: include-path version %s %s (system %q, store %q); the flake deployed %s (system %q, store %q)",
				name, i.Result, i.Path, i.System, i.Store, f.Path, f.System, f.Store)
		}
	}
}
