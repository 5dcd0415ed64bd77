package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// BenchmarkFleetVersusSequential deploys a new version of the example fleet
// with nix-hive, then another new version with the loop most fleets use
// today — `nix copy --to ssh://HOST` and activation over ssh, host after
// host — and reports both times and their ratio. The eu site's uplink is
// capped at 40 Mbit/s to model a WAN link to a remote site:
//
//	go test ./internal/deploy -run '^$' -bench FleetVersusSequential -benchtime 3x
func BenchmarkFleetVersusSequential(b *testing.B) {
	f := newFleet(b)
	ctx := context.Background()
	r := &process.Exec{}
	uplink := f.lab.Hosts["bastion-eu"].Uplink
	if _, err := r.Run(ctx, process.Command{Args: []string{"tc", "qdisc", "add", "dev", uplink, "root", "tbf", "rate", "40mbit", "burst", "64kb", "latency", "200ms"}}); err != nil {
		b.Fatalf("cap the site's uplink: %v", err)
	}
	version := 0
	next := func() {
		version++
		f.setVersion(version)
	}
	// The baseline uses the ssh config nix-hive generates, so both reach
	// the eu instances through the bastion.
	ssh := &sshconfig.Config{Path: filepath.Join(b.TempDir(), "ssh_config")}
	text := f.inventorySSHConfig() + "\nHost *\n  BatchMode yes\n  IdentityFile " + f.lab.Key + "\n  UserKnownHostsFile " + f.lab.KnownHosts + "\n"
	if err := os.WriteFile(ssh.Path, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}

	var hive, sequential time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next()
		start := time.Now()
		if _, err := f.deploy("--confirm-timeout", "0"); err != nil {
			b.Fatalf("nix-hive deploy: %v", err)
		}
		hive += time.Since(start)

		next()
		start = time.Now()
		report, err := f.deploy("--goal", "build")
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range labfleet.Instances {
			path := report.Instances[name].Path
			steps := [][]string{
				nixcmd.CopyTo("ssh://"+name, path),
				ssh.Command(name, "nix-env", "-p", "/nix/var/nix/profiles/system", "--set", path),
				ssh.Command(name, path+"/bin/switch-to-configuration", "switch"),
			}
			for _, args := range steps {
				if _, err := r.Run(ctx, process.Command{Args: args, Env: append(ssh.NixEnv(name), labfleet.OfflineNix)}); err != nil {
					b.Fatalf("sequential baseline on %s: %v", name, err)
				}
			}
		}
		sequential += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(hive.Seconds()/float64(b.N), "nix-hive-s/op")
	b.ReportMetric(sequential.Seconds()/float64(b.N), "sequential-s/op")
	b.ReportMetric(sequential.Seconds()/hive.Seconds(), "speedup")
}

var motdVersion = regexp.MustCompile(`motd = ("v[0-9]+ " \+ )?`)

// setVersion gives every system a new closure (the edge system a new 1 MiB
// payload too), so that each deployment copies and activates for real.
func (f *fleet) setVersion(version int) {
	for _, system := range []string{"web", "db", "edge"} {
		path := filepath.Join(f.dir, "systems", system+".nix")
		src, err := os.ReadFile(path)
		if err != nil {
			f.t.Fatal(err)
		}
		out := motdVersion.ReplaceAllString(string(src), fmt.Sprintf(`motd = "v%d " + `, version))
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}
