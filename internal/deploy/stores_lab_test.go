package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// TestStoresOnLab checks the example's ssh store on real hosts: runs whose
// store keys are wrong stop before any host is touched, an instance whose
// login nix does not trust is refused before anything changes, a path the
// store already holds unsigned is signed by the next deployment, and the
// instances substitute through the store's read-only nix-ssh login, not
// root.
func TestStoresOnLab(t *testing.T) {
	f := newFleet(t)
	hive, err := os.ReadFile(filepath.Join(f.dir, "hive.nix"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.secret")
	if out, err := (&process.Exec{}).Run(context.Background(), process.Command{Args: []string{
		"nix-store", "--generate-binary-cache-key", "store-eu", other, other + ".pub"}}); err != nil {
		t.Fatalf("make a second key: %v %s", err, out)
	}
	const who = "store eu (ssh-ng://store-eu, for eu-1, eu-2, eu-3): "
	checks := []struct {
		name string
		hive string
		args []string
		want string
	}{
		{"a store without publicKey", strings.Replace(string(hive), "publicKey = hosts.storePublicKey;", "", 1), nil,
			who + "stores.eu.publicKey is not set"},
		{"no signing key", string(hive), []string{"--signing-key", ""}, who + "no signing key: its instances accept only paths signed by the key store-eu"},
		{"a signing key that does not match publicKey", string(hive), []string{"--signing-key", other},
			who + "the signing key's public half store-eu:"},
	}
	for _, c := range checks {
		t.Run(c.name+" stops the run before any host is touched", func(t *testing.T) {
			f.write("hive.nix", c.hive)
			defer f.write("hive.nix", string(hive))
			logs := f.sshdLogSizes()
			stderr, err := f.deployFails(append([]string{"--on", "eu-*,web-1"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "no host was touched") {
				t.Fatalf("error = %v\nwant it to contain %q (stderr:\n%s)", err, c.want, stderr)
			}
			if after := f.sshdLogSizes(); fmt.Sprint(after) != fmt.Sprint(logs) {
				t.Errorf("hosts were contacted: sshd log sizes %v, then %v", logs, after)
			}
		})
	}

	t.Run("a path the store holds unsigned is signed by the next deployment", func(t *testing.T) {
		f.setVersion(int(time.Now().UnixNano() % 1e9)) // a path no earlier run signed
		r, err := f.deploy("--on", "eu-1", "--goal", "build")
		path := r.Instances["eu-1"].Path
		if err != nil || path == "" {
			t.Fatalf("build: %v %+v", err, r)
		}
		f.copyUnsigned("store-eu", path)
		if sigs := f.sigs("store-eu", path); strings.Contains(sigs, "store-eu:") {
			t.Fatalf("the store has %s signed already: %s", path, sigs)
		}
		r, err = f.deploy("--on", "eu-*")
		for _, n := range []string{"eu-1", "eu-2", "eu-3"} {
			if o := r.Instances[n]; o.Result != "activated" || o.Path != path {
				t.Errorf("%s: %+v, want activated on %s", n, o, path)
			}
		}
		if err != nil {
			t.Fatalf("deploy: %v", err)
		}
		for _, line := range strings.Split(f.sigs("store-eu", path, "--recursive"), "\n") {
			if !strings.Contains(line, "store-eu:") {
				t.Errorf("not signed in the store: %s", line)
			}
		}
	})

	t.Run("the instances substitute as nix-ssh, not root", func(t *testing.T) {
		log, err := os.ReadFile(filepath.Join(f.lab.Hosts["store-eu"].Dir, "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"eu-1", "eu-2", "eu-3"} {
			from := " from " + f.lab.Hosts[n].SiteAddr + " port "
			if !strings.Contains(string(log), "Accepted publickey for "+lab.ServeUser+from) {
				t.Errorf("%s never logged in to the store as %s", n, lab.ServeUser)
			}
			if strings.Contains(string(log), "Accepted publickey for root"+from) {
				t.Errorf("%s logged in to the store as root", n)
			}
		}
	})

	t.Run("an instance whose login nix does not trust is refused before anything changes", func(t *testing.T) {
		restore := f.loginAs(lab.User, "eu-2")
		defer restore()
		sudoers := filepath.Join(f.lab.Hosts["eu-2"].Dir, "etc", "sudoers.d", filepath.Base(lab.SudoersFile))
		rule, err := os.ReadFile(sudoers)
		if err != nil {
			t.Fatal(err)
		}
		f.on("eu-2", "rm", lab.SudoersFile)
		defer os.WriteFile(sudoers, rule, 0o440)
		f.setVersion(int(time.Now().UnixNano() % 1e9))
		before, _ := f.running("eu-2")
		stderr, err := f.deployFails("--on", "eu-*")
		for _, want := range []string{"instance eu-2: user deploy is not root, cannot sudo without a password and is not a trusted user of nix there (trusted-users = root)",
			`nix.settings.trusted-users = [ "deploy" ];`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v\nwant it to contain %q (stderr:\n%s)", err, want, stderr)
			}
		}
		for _, n := range []string{"eu-1", "eu-2"} {
			if current, _ := f.running(n); n == "eu-2" && current != before {
				t.Errorf("%s changed: runs %s", n, current)
			}
		}
	})
}

// deployFails runs `nix-hive deploy` with args for a run expected to stop
// before the plan (so without a report); it returns the log and the error.
func (f *fleet) deployFails(args ...string) (string, error) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Run(context.Background(), f.args(args...), labfleet.Environ(), &stdout, &stderr)
	f.t.Logf("nix-hive %s:\n%s\nerror: %v", strings.Join(args, " "), stderr.String(), err)
	if stdout.Len() > 0 {
		f.t.Errorf("the stopped run printed a report: %s", stdout.String())
	}
	return stderr.String(), err
}

// sshdLogSizes returns the size of every host's sshd log: a host nobody
// connected to keeps its size.
func (f *fleet) sshdLogSizes() map[string]int64 {
	f.t.Helper()
	out := map[string]int64{}
	for name, h := range f.lab.Hosts {
		st, err := os.Stat(filepath.Join(h.Dir, "sshd.log"))
		if err != nil {
			f.t.Fatal(err)
		}
		out[name] = st.Size()
	}
	return out
}

// copyUnsigned copies path's closure from the runner to an ssh host of the
// fleet as nix copy does, without signing it.
func (f *fleet) copyUnsigned(host, path string) {
	f.t.Helper()
	cfg := filepath.Join(f.t.TempDir(), "ssh_config")
	text := fmt.Sprintf("IdentityFile %s\nUserKnownHostsFile %s\nBatchMode yes\n%s", f.lab.Key, f.lab.KnownHosts, f.inventorySSHConfig())
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
	args := []string{"nix", "--extra-experimental-features", "nix-command", "copy", "--no-check-sigs", "--to", "ssh-ng://" + host, path}
	r := &process.Exec{Environ: append(labfleet.Environ(), "NIX_SSHOPTS=-F "+cfg)}
	if out, err := r.Run(context.Background(), process.Command{Args: args}); err != nil {
		f.t.Fatalf("copy %s to %s unsigned: %v %s", path, host, err, out)
	}
}

// sigs returns `nix path-info --sigs` of path on a lab host.
func (f *fleet) sigs(host, path string, flags ...string) string {
	f.t.Helper()
	args := append([]string{"nix", "--extra-experimental-features", "nix-command", "path-info", "--sigs"}, flags...)
	return f.on(host, append(args, path)...)
}
