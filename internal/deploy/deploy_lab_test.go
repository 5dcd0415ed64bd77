package deploy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/labfleet"
)

var everyInstance = labfleet.Instances

// TestDeployFleet deploys the example fleet to real hosts and checks each
// goal, the store's one push per site, a no-op rerun and a failing host.
func TestDeployFleet(t *testing.T) {
	f := newFleet(t)

	// Everything, from nothing: bytes into the eu site are counted.
	siteBefore := f.txBytes("bastion-eu")
	r, err := f.deploy()
	if err != nil {
		t.Fatalf("first deployment failed: %v", err)
	}
	siteSent := f.txBytes("bastion-eu") - siteBefore
	paths := map[string]string{}
	for _, name := range everyInstance {
		o := r.Instances[name]
		if o.Result != "activated" {
			t.Errorf("%s: result %q (%s), want activated", name, o.Result, o.Error)
			continue
		}
		current, profile := f.running(name)
		if current != o.Path || profile != o.Path {
			t.Errorf("%s runs %q with profile %q, want both %q", name, current, profile, o.Path)
		}
		if got := f.activations(name); len(got) != 1 || got[0] != "switch "+o.Path {
			t.Errorf("%s activations = %q", name, got)
		}
		paths[name] = o.Path
	}
	if t.Failed() {
		t.FailNow()
	}
	if paths["web-1"] != paths["web-2"] || paths["eu-1"] != paths["eu-3"] || paths["web-1"] == paths["db-1"] {
		t.Errorf("systems and paths do not match: %v", paths)
	}
	if motd := f.on("eu-2", "cat", paths["eu-2"]+"/etc/motd"); !strings.Contains(motd, "edge host of the eu site") {
		t.Errorf("eu-2's system did not see its own include path: motd %q", motd)
	}
	// The store has the closure, and the eu instances took it from there:
	// the site's uplink carried about one closure (1 MiB of payload), not
	// one per instance.
	f.on("store-eu", "nix-store", "--check-validity", paths["eu-1"])
	const closure = 1 << 20
	t.Logf("bytes sent into the eu site for 3 instances: %d (closure payload %d)", siteSent, closure)
	if siteSent < closure || siteSent > 2*closure {
		t.Errorf("the runner sent %d bytes into the eu site; want about one closure (%d), not three", siteSent, closure)
	}

	t.Run("rerun changes nothing", func(t *testing.T) {
		r, err := f.deploy()
		if err != nil {
			t.Fatalf("rerun failed: %v", err)
		}
		for _, name := range everyInstance {
			if got := r.Instances[name].Result; got != "unchanged" {
				t.Errorf("%s: result %q, want unchanged", name, got)
			}
			if got := f.activations(name); len(got) != 1 {
				t.Errorf("%s was activated again: %q", name, got)
			}
		}
	})

	// A new web configuration, for the goals that follow.
	web := filepath.Join(f.dir, "systems/web.nix")
	src, err := os.ReadFile(web)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(web, []byte(strings.Replace(string(src), "deployed by nix-hive", "version 2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	goals := []struct {
		goal                     string
		wantCurrent, wantProfile string // "old" or "new"
		wantCall                 string
	}{
		{"dry-activate", "old", "old", "dry-activate"},
		{"test", "new", "old", "test"},
		{"boot", "new", "new", "boot"}, // test left it running; boot moves the profile
		{"build", "new", "new", ""},
	}
	for _, g := range goals {
		t.Run("goal "+g.goal, func(t *testing.T) {
			before := len(f.activations("web-1"))
			r, err := f.deploy("--on", "web-1", "--goal", g.goal)
			if err != nil {
				t.Fatalf("deploy --goal %s: %v", g.goal, err)
			}
			o := r.Instances["web-1"]
			if len(r.Instances) != 1 || o.Path == paths["web-1"] {
				t.Fatalf("report = %+v", r)
			}
			want := map[string]string{"old": paths["web-1"], "new": o.Path}
			current, profile := f.running("web-1")
			if current != want[g.wantCurrent] || profile != want[g.wantProfile] {
				t.Errorf("after %s: current %s, profile %s; want %s, %s", g.goal, current, profile, g.wantCurrent, g.wantProfile)
			}
			calls := f.activations("web-1")
			if g.wantCall == "" {
				if len(calls) != before || o.Result != "built" {
					t.Errorf("build activated something (%q) or result %q", calls, o.Result)
				}
				return
			}
			if len(calls) != before+1 || calls[len(calls)-1] != g.wantCall+" "+o.Path {
				t.Errorf("activations = %q, want a last %q", calls, g.wantCall)
			}
		})
	}

	t.Run("goal push copies without activating", func(t *testing.T) {
		f.setVersion(7)
		before := map[string][2]string{}
		calls := map[string]int{}
		for _, n := range []string{"web-2", "eu-3"} {
			c, p := f.running(n)
			before[n] = [2]string{c, p}
			calls[n] = len(f.activations(n))
		}
		r, err := f.deploy("--on", "web-2,eu-3", "--goal", "push")
		if err != nil {
			t.Fatalf("deploy --goal push: %v", err)
		}
		for _, n := range []string{"web-2", "eu-3"} {
			o := r.Instances[n]
			if o.Result != "pushed" || o.Path == before[n][0] {
				t.Errorf("%s: %+v, want pushed with a new path", n, o)
				continue
			}
			f.on(n, "nix-store", "--check-validity", o.Path)
			if c, p := f.running(n); c != before[n][0] || p != before[n][1] || len(f.activations(n)) != calls[n] {
				t.Errorf("%s changed by push: current %s, profile %s", n, c, p)
			}
		}
		f.on("store-eu", "nix-store", "--check-validity", r.Instances["eu-3"].Path)
	})

	t.Run("a failing activation rolls back one host", func(t *testing.T) {
		db := filepath.Join(f.dir, "systems/db.nix")
		src, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		broken := strings.Replace(string(src), "motd =", "failActivation = true;\n  motd =", 1)
		if err := os.WriteFile(db, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := f.deploy("--on", "db-1,eu-*")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		if o := r.Instances["db-1"]; o.Result != "rolled-back" || !strings.Contains(o.Error, "switch-to-configuration switch failed") {
			t.Errorf("db-1: %q %q, want rolled-back", o.Result, o.Error)
		}
		current, profile := f.running("db-1")
		if current != paths["db-1"] || profile != paths["db-1"] {
			t.Errorf("db-1 after rollback: current %s, profile %s; want the old %s", current, profile, paths["db-1"])
		}
		// The others deploy their new version regardless.
		for _, name := range []string{"eu-1", "eu-2", "eu-3"} {
			o := r.Instances[name]
			if current, profile := f.running(name); o.Result != "activated" || current != o.Path || profile != o.Path {
				t.Errorf("%s: %q, runs %s (profile %s), want activated on %s", name, o.Result, current, profile, o.Path)
			}
		}
	})
}
