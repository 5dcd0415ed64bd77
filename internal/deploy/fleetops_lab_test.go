package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/labfleet"
)

// command runs `nix-hive NAME --json` with the fleet's hive and the lab's
// keys, decodes stdout into out and returns the exit code.
func (f *fleet) command(out any, name string, extra ...string) int {
	f.t.Helper()
	args := append([]string{name, "--hive", f.dir, "--json", "--ssh-key", f.lab.Key, "--known-hosts", f.lab.KnownHosts}, extra...)
	var stdout, stderr bytes.Buffer
	err := cli.Run(context.Background(), args, labfleet.Environ(), &stdout, &stderr)
	f.t.Logf("nix-hive %s %s: %v\n%s", name, strings.Join(extra, " "), err, stderr.String())
	if jerr := json.Unmarshal(stdout.Bytes(), out); jerr != nil {
		f.t.Fatalf("nix-hive %s --json output does not parse: %v\n%s", name, jerr, stdout.String())
	}
	return cli.ExitCode(err)
}

// edit replaces old with new in a file of the fleet.
func (f *fleet) edit(name, old, new string) {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	src, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(src), old) {
		f.t.Fatalf("edit %s: %v (or no %q in it)", name, err, old)
	}
	f.write(name, strings.Replace(string(src), old, new, 1))
}

type planJSON struct {
	Instances map[string]struct {
		Plan, Running, Target, Error string
		Diff                         *struct {
			Changes []struct {
				Name, Change             string
				AddedPaths, RemovedPaths []string
			}
		}
	}
}

type statusJSON struct {
	Instances map[string]struct {
		Expected, Running, Profile string
		Reachable, Drift           bool
	}
}

// hostState is what every host runs and how often it was activated.
func (f *fleet) hostState() map[string]string {
	out := map[string]string{}
	for _, n := range everyInstance {
		c, p := f.running(n)
		out[n] = c + " " + p + " " + strings.Join(f.activations(n), ",")
	}
	return out
}

// TestPlanStatusRollback deploys the fleet, then plans a change of one
// system, detects an out-of-band switch and rolls a host back, on real
// hosts.
func TestPlanStatusRollback(t *testing.T) {
	f := newFleet(t)
	first, err := f.deploy()
	if err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	var st statusJSON
	if code := f.command(&st, "status"); code != 0 || len(st.Instances) != len(everyInstance) {
		t.Fatalf("status after deploying: exit %d, %+v", code, st)
	}

	t.Run("plan names exactly the changed system's instances and changes nothing", func(t *testing.T) {
		f.edit("systems/web.nix", "deployed by nix-hive", "version 2")
		before := f.hostState()
		var p planJSON
		if code := f.command(&p, "plan"); code != 0 {
			t.Fatalf("plan: exit %d", code)
		}
		for _, n := range everyInstance {
			i := p.Instances[n]
			want := "unchanged"
			if strings.HasPrefix(n, "web-") {
				want = "changed"
			}
			if i.Plan != want || i.Running != first.Instances[n].Path || i.Error != "" {
				t.Errorf("%s: %+v, want %s running %s", n, i, want, first.Instances[n].Path)
				continue
			}
			if want == "unchanged" {
				if i.Diff != nil {
					t.Errorf("%s: an unchanged instance has a diff", n)
				}
				continue
			}
			if i.Diff == nil || len(i.Diff.Changes) != 1 || !slices.Contains(i.Diff.Changes[0].AddedPaths, i.Target) ||
				!slices.Contains(i.Diff.Changes[0].RemovedPaths, i.Running) {
				t.Errorf("%s: diff %+v does not name %s replacing %s", n, i.Diff, i.Target, i.Running)
			}
		}
		if after := f.hostState(); !mapsEqual(before, after) {
			t.Errorf("plan changed hosts:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("status flags exactly the host switched out of band", func(t *testing.T) {
		f.edit("systems/web.nix", "version 2", "deployed by nix-hive")
		f.edit("systems/db.nix", "deployed by nix-hive", "hand-made")
		pushed, err := f.deploy("--on", "db-1", "--goal", "push")
		if err != nil {
			t.Fatal(err)
		}
		f.edit("systems/db.nix", "hand-made", "deployed by nix-hive")
		other := pushed.Instances["db-1"].Path
		f.on("db-1", "sh", "-c", `nix-env -p /nix/var/nix/profiles/system --set "$1" && "$1/bin/switch-to-configuration" switch`, "sh", other)
		var st statusJSON
		if code := f.command(&st, "status"); code != 3 {
			t.Errorf("status: exit %d, want 3 (drift)", code)
		}
		for _, n := range everyInstance {
			i := st.Instances[n]
			if i.Drift != (n == "db-1") || !i.Reachable || i.Expected != first.Instances[n].Path {
				t.Errorf("%s: %+v", n, i)
			}
		}
		if i := st.Instances["db-1"]; i.Running != other || i.Profile != other {
			t.Errorf("db-1: %+v, want running %s", i, other)
		}
		if _, err := f.deploy(); err != nil {
			t.Fatal(err)
		}
		if code := f.command(&st, "status"); code != 0 {
			t.Errorf("status after redeploying: exit %d, %+v", code, st)
		}
	})

	t.Run("a host that is down is unknown to plan and drift to status", func(t *testing.T) {
		ctx := context.Background()
		if err := f.lab.StopSSH(ctx, "db-1"); err != nil {
			t.Fatal(err)
		}
		defer f.lab.StartSSH(ctx, "db-1")
		var p planJSON
		if code := f.command(&p, "plan", "--on", "db-1,web-2"); code != 1 {
			t.Errorf("plan: exit %d, want 1", code)
		}
		if i := p.Instances["db-1"]; i.Plan != "unknown" || !strings.Contains(i.Error, "reach db-1") || i.Target != first.Instances["db-1"].Path {
			t.Errorf("db-1: %+v, want unknown with the reason", i)
		}
		if i := p.Instances["web-2"]; i.Plan != "unchanged" {
			t.Errorf("web-2: %+v", i)
		}
		var st statusJSON
		if code := f.command(&st, "status", "--on", "db-1,web-2"); code != 3 {
			t.Errorf("status: exit %d, want 3", code)
		}
		if i := st.Instances["db-1"]; !i.Drift || i.Reachable || st.Instances["web-2"].Drift {
			t.Errorf("status: %+v", st)
		}
	})

	t.Run("rollback puts web-1 on its previous generation", func(t *testing.T) {
		f.edit("systems/web.nix", "deployed by nix-hive", "version 3")
		second, err := f.deploy("--on", "web-1")
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := f.running("web-1"); c != second.Instances["web-1"].Path {
			t.Fatalf("web-1 runs %s", c)
		}
		var r report
		if code := f.command(&r, "rollback", "--on", "web-1"); code != 0 || len(r.Instances) != 1 {
			t.Fatalf("rollback: exit %d, %+v", code, r)
		}
		want := first.Instances["web-1"].Path
		if o := r.Instances["web-1"]; o.Result != "activated" || o.Path != want || o.System != "web" {
			t.Errorf("rollback report: %+v, want activated on %s", o, want)
		}
		if c, p := f.running("web-1"); c != want || p != want {
			t.Errorf("web-1 after rollback: current %s, profile %s; want %s", c, p, want)
		}
		if c, _ := f.running("web-2"); c != first.Instances["web-2"].Path {
			t.Errorf("web-2 was touched: %s", c)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
