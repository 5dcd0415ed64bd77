package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/labfleet"
)

// TestOneConnectionPerHost counts the ssh logins each lab host's sshd
// logs from the runner (directly, or through the bastion): a deployment
// makes one connection per host and per jump host, plus the fresh one of
// each confirmation (and its jump through the bastion); a no-op rerun one
// per host. After each run no master connection is left.
func TestOneConnectionPerHost(t *testing.T) {
	f := newFleet(t)
	bastion := f.lab.Hosts["bastion-eu"].SiteAddr
	// logins counts the logins host has accepted from the runner so far.
	logins := func(host string) int {
		data, err := os.ReadFile(filepath.Join(f.lab.Hosts[host].Dir, "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "Accepted publickey") {
				continue
			}
			if f.lab.Hosts[host].Site == "" || f.lab.Hosts[host].Bastion || strings.Contains(line, " from "+bastion+" ") {
				n++
			}
		}
		return n
	}
	hosts := append([]string{"bastion-eu", "store-eu"}, labfleet.Instances...)
	run := func(name string, want map[string]int, args ...string) {
		before := map[string]int{}
		for _, h := range hosts {
			before[h] = logins(h)
		}
		masters, _ := filepath.Glob(filepath.Join(os.TempDir(), "nh*"))
		if _, err := f.deploy(args...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, h := range hosts {
			if got := logins(h) - before[h]; got != want[h] {
				t.Errorf("%s: %s accepted %d logins from the runner, want %d", name, h, got, want[h])
			}
		}
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(f.lab.Hosts["web-1"].Dir, "sshd.log"))
			t.Logf("web-1's sshd log:\n%s", data)
		}
		after, _ := filepath.Glob(filepath.Join(os.TempDir(), "nh*"))
		for _, d := range after {
			if !contains(masters, d) {
				t.Errorf("%s: the master connections' directory %s is left", name, d)
			}
		}
	}
	// Each instance: its master, and the fresh confirmation. The bastion:
	// its master, and the fresh jump of each confirmation behind it.
	first := map[string]int{"bastion-eu": 4, "store-eu": 1}
	noop := map[string]int{"bastion-eu": 1}
	for _, n := range labfleet.Instances {
		first[n], noop[n] = 2, 1
	}
	run("first deployment", first)
	run("no-op rerun", noop)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
