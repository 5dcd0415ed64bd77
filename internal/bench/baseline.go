package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// baseline deploys the fleet as a loop of `nix copy --to ssh://HOST` and
// activation over ssh would (a nixos-rebuild --target-host loop), parallel
// instances at once: evaluated and built by nix-hive (goal build, no
// cache), then copied straight from the runner to every instance, over the
// whole fleet's ssh config without connection reuse.
func (b *bench) baseline(ctx context.Context, parallel int) error {
	paths, err := b.build(ctx, "--no-eval-cache")
	if err != nil {
		return err
	}
	ssh, err := b.fleetSSH(ctx)
	if err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for _, inst := range instances() {
		path := paths[inst.name]
		g.Go(func() error {
			steps := [][]string{
				nixcmd.CopyTo("ssh://"+inst.name, path),
				ssh.Command(inst.name, "nix-env", "-p", "/nix/var/nix/profiles/system", "--set", path),
				ssh.Command(inst.name, path+"/bin/switch-to-configuration", "switch"),
			}
			for _, args := range steps {
				if _, err := b.r.Run(ctx, process.Command{Args: args, Env: append(ssh.NixEnv(inst.name), "NIX_CONFIG=substituters =")}); err != nil {
					return fmt.Errorf("%s: %w", inst.name, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// fleetSSH writes one ssh config for the whole fleet, as a hand-written
// one would be: the inventory's Host blocks, the lab's key and known hosts.
func (b *bench) fleetSSH(ctx context.Context) (*sshconfig.Config, error) {
	out, err := b.nixHive(ctx, "inventory", "--hive", b.dir)
	if err != nil {
		return nil, err
	}
	var inv struct {
		SSHConfig string `json:"sshConfig"`
	}
	if err := json.Unmarshal(out, &inv); err != nil {
		return nil, fmt.Errorf("read the inventory: %w", err)
	}
	cfg := &sshconfig.Config{Path: filepath.Join(b.work, "fleet_ssh_config")}
	text := inv.SSHConfig + "\nHost *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  IdentityFile " + b.lab.Key +
		"\n  UserKnownHostsFile " + b.lab.KnownHosts + "\n"
	if err := os.WriteFile(cfg.Path, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("write the fleet's ssh config: %w", err)
	}
	return cfg, nil
}

// limitBytes is what must cross the runner's uplink at the least: every
// distinct store path once per store that serves an instance needing it,
// and every path of a closure once per instance copied to directly (NAR
// sizes).
func (b *bench) limitBytes(ctx context.Context, paths map[string]string) (float64, error) {
	closures := map[string]map[string]uint64{} // system path -> path -> size
	for _, p := range paths {
		if closures[p] != nil {
			continue
		}
		c, err := b.closure(ctx, p)
		if err != nil {
			return 0, err
		}
		closures[p] = c
	}
	perStore := map[string]map[string]uint64{}
	var total uint64
	for _, inst := range instances() {
		c := closures[paths[inst.name]]
		if inst.store == "" {
			for _, size := range c {
				total += size
			}
			continue
		}
		if perStore[inst.store] == nil {
			perStore[inst.store] = map[string]uint64{}
		}
		for p, size := range c {
			perStore[inst.store][p] = size
		}
	}
	for _, union := range perStore {
		for _, size := range union {
			total += size
		}
	}
	return float64(total), nil
}

// closure returns the paths of a closure and their NAR sizes.
func (b *bench) closure(ctx context.Context, path string) (map[string]uint64, error) {
	out, err := b.r.Run(ctx, process.Command{Args: []string{"nix-store", "--query", "--requisites", path}})
	if err != nil {
		return nil, fmt.Errorf("read the closure of %s: %w", path, err)
	}
	reqs := strings.Fields(string(out))
	out, err = b.r.Run(ctx, process.Command{Args: append([]string{"nix-store", "--query", "--size"}, reqs...)})
	if err != nil {
		return nil, fmt.Errorf("read the sizes of %s's closure: %w", path, err)
	}
	sizes := strings.Fields(string(out))
	if len(sizes) != len(reqs) {
		return nil, fmt.Errorf("read the sizes of %s's closure: %d sizes for %d paths", path, len(sizes), len(reqs))
	}
	c := map[string]uint64{}
	for i, p := range reqs {
		n, err := strconv.ParseUint(sizes[i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read the sizes of %s's closure: %w", path, err)
		}
		c[p] = n
	}
	return c, nil
}
