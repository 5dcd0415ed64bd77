package build

import (
	"context"
	"testing"

	"github.com/nix-hive/nix-hive/internal/evalcache"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
)

const (
	drv    = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web.drv"
	oldDrv = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web.drv"
	out    = "/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-web"
)

// TestEvaluateWithCache covers the evaluation cache and the retry of a
// busy Nix database: each case says what the cache holds, which commands
// run (the fake fails on any other) and what the cache holds afterwards.
func TestEvaluateWithCache(t *testing.T) {
	busy := &process.CommandError{ExitCode: 1, StderrTail: "error: SQLite database '/nix/var/nix/db/db.sqlite' is busy"}
	gone := &process.CommandError{ExitCode: 1, StderrTail: "error: path '" + oldDrv + "' is not valid"}
	tests := []struct {
		name   string
		cached string // the drv in the cache before, "" for none
		cache  bool
		expect func(f *processtest.Fake)
	}{
		{"no cache", "", false, func(f *processtest.Fake) {
			f.Expect([]string{"nix-instantiate"}, drv+"\n", nil)
			f.Expect([]string{"nix-store", "--query", "--outputs", drv}, out+"\n", nil)
		}},
		{"empty cache: evaluated and kept", "", true, func(f *processtest.Fake) {
			f.Expect([]string{"nix-instantiate"}, drv+"\n", nil)
			f.Expect([]string{"nix-store", "--query", "--outputs", drv}, out+"\n", nil)
		}},
		{"cached: not evaluated", drv, true, func(f *processtest.Fake) {
			f.Expect([]string{"nix-store", "--query", "--outputs", drv}, out+"\n", nil)
		}},
		{"cached drv collected: evaluated again", oldDrv, true, func(f *processtest.Fake) {
			f.Expect([]string{"nix-store", "--query", "--outputs", oldDrv}, "", gone)
			f.Expect([]string{"nix-instantiate"}, drv+"\n", nil)
			f.Expect([]string{"nix-store", "--query", "--outputs", drv}, out+"\n", nil)
		}},
		{"busy database: tried again", "", false, func(f *processtest.Fake) {
			f.Expect([]string{"nix-instantiate"}, "", busy)
			f.Expect([]string{"nix-instantiate"}, drv+"\n", nil)
			f.Expect([]string{"nix-store", "--query", "--outputs", drv}, out+"\n", nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{File: "/d/hive.nix", Systems: map[string]inventory.System{"web": {System: "x86_64-linux"}}}
			f := processtest.New(t)
			tt.expect(f)
			n := &Nix{Runner: f, Inventory: inv, ExprDir: "/x"}
			if tt.cache {
				n.Cache = &evalcache.Cache{Dir: t.TempDir(), Inputs: "k"}
				if tt.cached != "" {
					if err := n.Cache.Put("web", inv.Systems["web"], tt.cached); err != nil {
						t.Fatal(err)
					}
				}
			}
			sys, err := n.Evaluate(context.Background(), "web")
			if err != nil || sys.Drv != drv || sys.Path != out {
				t.Fatalf("Evaluate = %+v, %v", sys, err)
			}
			if n.Cache != nil {
				if got, ok := n.Cache.Get("web", inv.Systems["web"]); !ok || got != drv {
					t.Errorf("cache holds %q, %v; want %q", got, ok, drv)
				}
			}
		})
	}
}

// TestCacheKeys checks that a system's entry depends on the inputs and on
// the system's own settings.
func TestCacheKeys(t *testing.T) {
	dir := t.TempDir()
	web := inventory.System{System: "x86_64-linux", Nix: map[string]string{"cores": "2"}}
	c := &evalcache.Cache{Dir: dir, Inputs: "one"}
	if err := c.Put("web", web, drv); err != nil {
		t.Fatal(err)
	}
	otherNix := inventory.System{System: "x86_64-linux", Nix: map[string]string{"cores": "4"}}
	tests := []struct {
		name   string
		inputs string
		sys    inventory.System
		system string
		hit    bool
	}{
		{"same", "one", web, "web", true},
		{"other inputs", "two", web, "web", false},
		{"other nix settings", "one", otherNix, "web", false},
		{"other system", "one", web, "db", false},
	}
	for _, tt := range tests {
		got, ok := (&evalcache.Cache{Dir: dir, Inputs: tt.inputs}).Get(tt.system, tt.sys)
		if ok != tt.hit || (ok && got != drv) {
			t.Errorf("%s: Get = %q, %v; want hit %v", tt.name, got, ok, tt.hit)
		}
	}
}
