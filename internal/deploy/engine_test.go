package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// fakeFleet answers the engine's nix and ssh commands like a fleet whose
// hosts run nothing yet; hosts listed in failing fail their activation.
type fakeFleet struct {
	*process.Fake
	mu       sync.Mutex
	failing  map[string]bool
	counts   map[string]int
	sequence []string
}

func storePath(name string) string {
	return "/nix/store/" + strings.Repeat("a", 31) + string(rune('a'+len(name)%20)) + "-nixos-system-" + name
}

func newFakeFleet(failing ...string) *fakeFleet {
	f := &fakeFleet{Fake: &process.Fake{}, failing: map[string]bool{}, counts: map[string]int{}}
	for _, h := range failing {
		f.failing[h] = true
	}
	count := func(key string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.counts[key]++
		f.sequence = append(f.sequence, key)
	}
	f.Respond([]string{"nix-instantiate"}, func(c process.Command) (string, error) {
		name := argAfter(c.Args, "name")
		count("instantiate " + name)
		return storePath(name) + ".drv\n", nil
	})
	f.Respond([]string{"nix-store", "--query", "--outputs"}, func(c process.Command) (string, error) {
		return strings.TrimSuffix(c.Args[3], ".drv") + "\n", nil
	})
	f.Respond([]string{"nix-store", "--realise"}, func(c process.Command) (string, error) {
		name := strings.TrimSuffix(strings.TrimPrefix(c.Args[2][44:], "nixos-system-"), ".drv")
		count("realise " + name)
		return storePath(name) + "\n", nil
	})
	f.Respond([]string{"nix", "--extra-experimental-features", "nix-command", "copy"}, func(c process.Command) (string, error) {
		count("copy " + c.Args[len(c.Args)-2])
		return "", nil
	})
	f.Respond([]string{"ssh"}, func(c process.Command) (string, error) {
		host, remote := c.Args[5], c.Args[len(c.Args)-1]
		words := strings.Fields(remote)
		switch {
		case strings.HasPrefix(remote, "nix-store --realise"):
			count("substitute " + host)
			return "", nil
		case strings.HasSuffix(remote, "nix-hive-agent status"):
			return "current=\nprofile=\n", nil
		case strings.Contains(remote, "nix-hive-agent start "):
			count("activate " + host)
			return "started=" + words[len(words)-4] + "\n", nil
		case strings.Contains(remote, "nix-hive-agent wait "):
			if f.failing[host] {
				return "status=rolled-back\nreason=switch-to-configuration switch failed\n", nil
			}
			return "status=activated\n", nil
		}
		return "", fmt.Errorf("unexpected ssh command: %s", remote)
	})
	return f
}

func argAfter(args []string, key string) string {
	for i := range args {
		if args[i] == key && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func testInventory() *inventory.Inventory {
	inst := func(system, store string) inventory.Instance {
		return inventory.Instance{System: system, Store: store, Environment: "production"}
	}
	return &inventory.Inventory{
		File:    "/d/hive.nix",
		Paths:   []string{"deployment=/d"},
		Systems: map[string]inventory.System{"web": {System: "x86_64-linux"}, "db": {System: "x86_64-linux"}},
		Stores:  map[string]inventory.Store{"eu": {URL: "ssh-ng://cache-eu", Substituter: "ssh://10.0.0.5", PublicKey: "c:K="}},
		Instances: map[string]inventory.Instance{
			"web-1": inst("web", "eu"), "web-2": inst("web", "eu"), "web-3": inst("web", "eu"),
			"web-4": inst("web", ""), "db-1": inst("db", ""),
		},
	}
}

func TestEngineBuildsOncePushesOncePerStore(t *testing.T) {
	tests := []struct {
		name    string
		goal    Goal
		failing []string
		want    map[string]int
		results map[string]State
	}{
		{
			name: "switch",
			goal: GoalSwitch,
			want: map[string]int{
				"instantiate web": 1, "realise web": 1, "instantiate db": 1, "realise db": 1,
				"copy ssh-ng://cache-eu": 1, "copy ssh://web-4": 1, "copy ssh://db-1": 1,
				"substitute web-1": 1, "substitute web-2": 1, "substitute web-3": 1,
				"activate web-1": 1, "activate web-2": 1, "activate web-3": 1, "activate web-4": 1, "activate db-1": 1,
			},
			results: map[string]State{"web-1": Activated, "web-4": Activated, "db-1": Activated},
		},
		{
			name:    "build",
			goal:    GoalBuild,
			want:    map[string]int{"instantiate web": 1, "realise web": 1, "instantiate db": 1, "realise db": 1},
			results: map[string]State{"web-1": Built, "db-1": Built},
		},
		{
			name:    "one host fails",
			goal:    GoalSwitch,
			failing: []string{"web-2"},
			want:    map[string]int{"activate web-1": 1, "activate web-2": 1, "activate web-3": 1},
			results: map[string]State{"web-1": Activated, "web-2": RolledBack, "web-3": Activated, "db-1": Activated},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeFleet(tt.failing...)
			var mu sync.Mutex
			var events []Event
			e := &Engine{
				Runner:    f,
				Inventory: testInventory(),
				SSH:       &sshconfig.Config{Path: "/run/ssh_config"},
				Options:   Options{Goal: tt.goal, Parallel: 2, ExprDir: "/hive"},
				Observer: ObserverFunc(func(_ context.Context, e Event) {
					mu.Lock()
					events = append(events, e)
					mu.Unlock()
				}),
			}
			report, err := e.Run(context.Background(), testInventory().InstanceNames())
			if tt.failing == nil && err != nil {
				t.Fatalf("run failed: %v", err)
			}
			if tt.failing != nil && !errors.Is(err, ErrFailed) {
				t.Fatalf("error = %v, want ErrFailed", err)
			}
			for key, n := range tt.want {
				if f.counts[key] != n {
					t.Errorf("%s ran %d times, want %d (all: %v)", key, f.counts[key], n, f.counts)
				}
			}
			for name, want := range tt.results {
				if got := report.Instances[name].Result; got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
			// Every instance's events start at planned, with the path its
			// system evaluated to, and end once.
			finals := map[string]int{}
			for _, ev := range events {
				if ev.State == Planned && ev.Path != storePath(testInventory().Instances[ev.Instance].System) {
					t.Errorf("%s planned with path %q", ev.Instance, ev.Path)
				}
				if ev.Final {
					finals[ev.Instance]++
				}
			}
			for _, name := range testInventory().InstanceNames() {
				if finals[name] != 1 {
					t.Errorf("%s reached %d final states", name, finals[name])
				}
			}
		})
	}
}

func TestEngineDryRunRunsNothing(t *testing.T) {
	var out strings.Builder
	e := &Engine{
		Runner:    &process.Dry{Out: &out},
		Inventory: testInventory(),
		SSH:       &sshconfig.Config{Path: "/run/ssh_config"},
		Options:   Options{Goal: GoalSwitch, DryRun: true, ExprDir: "/hive", SigningKey: "/k"},
	}
	if _, err := e.Run(context.Background(), []string{"web-1", "db-1"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"nix-instantiate /hive/system.nix --argstr hiveFile /d/hive.nix --argstr name web",
		"nix-store --query --outputs '/nix/store/<web.drv>'",
		"nix-store --realise '/nix/store/<web.drv>'",
		"nix --extra-experimental-features nix-command store sign --recursive --key-file /k '/nix/store/<web>'",
		"'NIX_SSHOPTS=-F /run/ssh_config' nix --extra-experimental-features nix-command copy --no-check-sigs --to ssh-ng://cache-eu '/nix/store/<web>'",
		"ssh -F /run/ssh_config -o LogLevel=ERROR web-1 -- 'nix-store --realise '\\''/nix/store/<web>'\\''",
		"nix-hive-agent start '\\''<id>'\\'' '\\''/nix/store/<db>'\\'' switch 0'",
		"'NIX_SSHOPTS=-F /run/ssh_config' nix --extra-experimental-features nix-command copy --no-check-sigs --to ssh://db-1 '/nix/store/<db>'",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseGoal(t *testing.T) {
	for _, g := range Goals {
		if got, err := ParseGoal(string(g)); err != nil || got != g {
			t.Errorf("ParseGoal(%q) = %q, %v", g, got, err)
		}
	}
	if _, err := ParseGoal("reboot"); err == nil {
		t.Error("ParseGoal accepted reboot")
	}
}
