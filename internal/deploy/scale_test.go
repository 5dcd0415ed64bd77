package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/hostkeys"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/selector"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// scaleFleet is a synthetic fleet of n instances: 4 systems, 10 stores
// each behind a bastion (half the instances), the rest reached directly;
// and a known_hosts file with every host's key.
func scaleFleet(b *testing.B, n int) (*inventory.Inventory, string) {
	inv := &inventory.Inventory{File: "/d/hive.nix", Systems: map[string]inventory.System{}, Stores: map[string]inventory.Store{},
		Instances: map[string]inventory.Instance{}, SSHHosts: map[string]map[string]string{}}
	var known strings.Builder
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHp0C6xb7W1bkiL6P9xm8H6wZbU2bU2ojbNHo6cI9r7W\n"
	for s := range 4 {
		inv.Systems[fmt.Sprintf("sys-%d", s)] = inventory.System{System: "x86_64-linux", Tags: []string{fmt.Sprintf("tier-%d", s)}}
	}
	for s := range 10 {
		name := fmt.Sprintf("site-%d", s)
		inv.Stores[name] = inventory.Store{URL: "ssh-ng://store-" + name}
		inv.SSHHosts["bastion-"+name] = map[string]string{"HostName": fmt.Sprintf("198.51.100.%d", s+1), "User": "root"}
		inv.SSHHosts["store-"+name] = map[string]string{"HostName": fmt.Sprintf("10.%d.255.1", s), "ProxyJump": "bastion-" + name}
		fmt.Fprintf(&known, "198.51.100.%d %s10.%d.255.1 %s", s+1, key, s, key)
	}
	for i := range n {
		name := fmt.Sprintf("host-%05d", i)
		inst := inventory.Instance{System: fmt.Sprintf("sys-%d", i%4), Environment: "production", Tags: []string{fmt.Sprintf("rack-%d", i%50)},
			SSH: map[string]string{"HostName": fmt.Sprintf("10.%d.%d.%d", i%10, i/250%250, i%250+1), "User": "root"}}
		if i%2 == 1 {
			inst.Store = fmt.Sprintf("site-%d", i%10)
			inst.SSH["ProxyJump"] = "bastion-" + inst.Store
		}
		inv.Instances[name] = inst
		fmt.Fprintf(&known, "%s %s", inst.SSH["HostName"], key)
	}
	file := filepath.Join(b.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(known.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return inv, file
}

// unchangedStages are stages on which every host already runs its
// system: planning reads every host and changes none. Any other call
// fails.
type unchangedStages struct{ inv *inventory.Inventory }

func (unchangedStages) Evaluate(_ context.Context, system string) (engine.System, error) {
	return engine.System{Name: system, Drv: "/nix/store/x-" + system + ".drv", Path: "/nix/store/x-" + system}, nil
}
func (unchangedStages) Build(context.Context, engine.System) error {
	return errors.New("unexpected build")
}
func (unchangedStages) Push(context.Context, string, string) error {
	return errors.New("unexpected push")
}
func (unchangedStages) Copy(context.Context, string, string) error {
	return errors.New("unexpected copy")
}
func (s unchangedStages) Host(name string) engine.Host {
	return unchangedHost("/nix/store/x-" + s.inv.Instances[name].System)
}

// unchangedHost runs its path already.
type unchangedHost string

func (h unchangedHost) Status(context.Context) (engine.HostStatus, error) {
	return engine.HostStatus{Current: string(h), Profile: string(h)}, nil
}
func (unchangedHost) Activate(context.Context, string, goal.Goal) (engine.Activation, error) {
	return nil, errors.New("unexpected activation")
}

// BenchmarkScale measures, for 1,000, 5,000 and 10,000 instances, each step a
// run takes before it touches a host — selection, ssh configuration,
// host-key preflight, planning — and all of them together (-benchmem
// gives the memory).
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		inv, known := scaleFleet(b, n)
		sel, err := selector.Parse("@tier-1,@tier-2,@rack-3,host-0*")
		if err != nil {
			b.Fatal(err)
		}
		steps := []struct {
			name string
			run  func(b *testing.B)
		}{
			{"selection", func(b *testing.B) { benchSelect(b, inv, sel) }},
			{"sshconfig", func(b *testing.B) { benchSSHConfig(b, inv, known, false) }},
			{"sshfiles", func(b *testing.B) { benchSSHConfig(b, inv, known, true) }},
			{"preflight", func(b *testing.B) { benchPreflight(b, inv, known) }},
			{"planning", func(b *testing.B) { benchPlan(b, inv) }},
			{"all", func(b *testing.B) {
				benchSelect(b, inv, sel)
				benchSSHConfig(b, inv, known, false)
				benchPreflight(b, inv, known)
				benchPlan(b, inv)
			}},
		}
		for _, s := range steps {
			b.Run(fmt.Sprintf("%s/%d", s.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.run(b)
				}
			})
		}
	}
}

func benchSelect(b *testing.B, inv *inventory.Inventory, sel selector.Selector) {
	names, err := sel.Select(inv.InstanceNames(), inv.Tags)
	if err != nil || len(names) == 0 {
		b.Fatalf("selected %d: %v", len(names), err)
	}
	inv.Only(names)
}

// benchSSHConfig renders and checks the blocks (without ssh -G, which runs
// once per run whatever the fleet's size) and renders every instance's
// config; with files, it writes them too, as a run does for each host it
// contacts.
func benchSSHConfig(b *testing.B, inv *inventory.Inventory, known string, files bool) {
	if _, err := sshconfig.RenderBlocks(inv.SSHBlocks()); err != nil {
		b.Fatal(err)
	}
	cfg, err := sshconfig.New(b.TempDir(), inv.SSHBlocks(), sshconfig.Options{KnownHosts: known, NoMultiplex: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range inv.InstanceNames() {
		if !files {
			cfg.Render(n, false)
		} else if _, err := cfg.File(n); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPreflight(b *testing.B, inv *inventory.Inventory, known string) {
	cfg, err := sshconfig.New(b.TempDir(), inv.SSHBlocks(), sshconfig.Options{KnownHosts: known, NoMultiplex: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := (&hostkeys.Checker{SSH: cfg}).Check(context.Background(), deploy.Targets(inv)); err != nil {
		b.Fatal(err)
	}
}

func benchPlan(b *testing.B, inv *inventory.Inventory) {
	s := unchangedStages{inv: inv}
	e := &engine.Engine{Stages: engine.Stages{Builder: s, Distributor: s, Hosts: s}, Goal: goal.Boot, Parallel: 10}
	if _, err := e.Run(context.Background(), inv); err != nil {
		b.Fatal(err)
	}
}
