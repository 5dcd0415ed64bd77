package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
)

// TestActivationOnLab checks, on real hosts, that activation behaves as
// on real NixOS: switch-to-configuration's exit codes, its lock, slow
// activations, the activation's output, and a login that is not root.
func TestActivationOnLab(t *testing.T) {
	f := newFleet(t)
	if _, err := f.deploy(); err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	version := 200
	next := func() { version++; f.setVersion(version) }

	t.Run("exit 100 needs a reboot and is not rolled back", func(t *testing.T) {
		defer f.configure("web", "switchExitCode = 100;")()
		next()
		before, _ := f.running("web-1")
		r, err := f.deploy("--on", "web-1")
		o := r.Instances["web-1"]
		if err != nil || o.Result != "activated" || !o.RebootRequired {
			t.Fatalf("web-1: %+v (%v), want activated with rebootRequired", o, err)
		}
		if current, profile := f.running("web-1"); current != before || profile != o.Path {
			t.Errorf("web-1 runs %s with profile %s; want the old %s running and the new %s as the boot entry", current, profile, before, o.Path)
		}
	})

	t.Run("exit 4 rolls back and deletes the failed generation", func(t *testing.T) {
		defer f.configure("web", "switchExitCode = 4;")()
		next()
		current, profile := f.running("web-1")
		links := f.generations("web-1")
		r, err := f.deploy("--on", "web-1")
		o := r.Instances["web-1"]
		if !errors.Is(err, engine.ErrFailed) || o.Result != "rolled-back" || !strings.HasPrefix(o.Error, "activate switch on web-1: rolled back to the previous generation: switch-to-configuration switch exited 4: some units failed") {
			t.Fatalf("web-1: %+v (%v), want rolled-back for exit 4", o, err)
		}
		if !strings.Contains(o.Error, "the following units failed: nix-hive-example.service") || !strings.Contains(o.Error, "rollback output:") {
			t.Errorf("the error lacks the activation's own output or the rollback's:\n%s", o.Error)
		}
		if c, p := f.running("web-1"); c != current || p != profile {
			t.Errorf("web-1 runs %s with profile %s, want the previous %s with profile %s", c, p, current, profile)
		}
		if after := f.generations("web-1"); after != links {
			t.Errorf("generations before %q, after %q: the failed one was not deleted", links, after)
		}
	})

	t.Run("exit 4 is kept with a warning under keep", func(t *testing.T) {
		defer f.configure("web", "switchExitCode = 4;")()
		next()
		r, err := f.deploy("--on", "web-1", "--on-activation-failure", "keep")
		o := r.Instances["web-1"]
		if err != nil || o.Result != "activated" || !strings.Contains(o.Warning, "exited 4") {
			t.Fatalf("web-1: %+v (%v), want activated with a warning", o, err)
		}
		if current, profile := f.running("web-1"); current != o.Path || profile != o.Path {
			t.Errorf("web-1 runs %s with profile %s, want %s", current, profile, o.Path)
		}
	})

	t.Run("a held switch lock makes the instance wait, then fail as busy or go on", func(t *testing.T) {
		next()
		before, _ := f.running("web-2")
		stop := f.holdSwitchLock("web-2")
		r, err := f.deploy("--on", "web-2", "--lock-timeout", "2s")
		stop()
		if o := r.Instances["web-2"]; !errors.Is(err, engine.ErrFailed) || o.Result != "failed" || !strings.Contains(o.Error, "/run/nixos/switch-to-configuration.lock") {
			t.Errorf("web-2: %+v (%v), want failed as busy", o, err)
		}
		if current, profile := f.running("web-2"); current != before || profile != before {
			t.Errorf("web-2 was changed while another switch held the lock: %s %s", current, profile)
		}
		stop = f.holdSwitchLock("web-2")
		released := make(chan struct{})
		go func() {
			defer close(released)
			time.Sleep(4 * time.Second)
			if _, profile := f.running("web-2"); profile != before {
				t.Errorf("the profile was touched while another switch held the lock: %s", profile)
			}
			stop()
		}()
		start := time.Now()
		r, err = f.deploy("--on", "web-2", "--lock-timeout", "60s")
		<-released
		o := r.Instances["web-2"]
		if err != nil || o.Result != "activated" {
			t.Fatalf("web-2 after the lock was released: %+v (%v)", o, err)
		}
		t.Logf("waited for the switch lock and activated in %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("a slow activation outlasts the confirmation timeout and is kept", func(t *testing.T) {
		// The switch takes twice the confirmation window; the window is long
		// enough for a fresh ssh connection on a loaded 2-core machine.
		defer f.configure("web", "activationSeconds = 8;")()
		next()
		r, err := f.deploy("--on", "web-1", "--confirm-timeout", "4s")
		o := r.Instances["web-1"]
		if err != nil || o.Result != "activated" || o.Seconds < 8 {
			t.Fatalf("web-1: %+v (%v), want activated after 8 s", o, err)
		}
		time.Sleep(5 * time.Second)
		if current, profile := f.running("web-1"); current != o.Path || profile != o.Path {
			t.Errorf("web-1 runs %s with profile %s after the confirmation window, want %s", current, profile, o.Path)
		}
	})

	t.Run("an activation longer than --activation-timeout is not rolled back", func(t *testing.T) {
		defer f.configure("web", "activationSeconds = 6;")()
		next()
		r, err := f.deploy("--on", "web-1", "--activation-timeout", "2s", "--confirm-timeout", "2s")
		o := r.Instances["web-1"]
		if !errors.Is(err, engine.ErrFailed) || !strings.Contains(o.Error, "nix-hive stopped waiting; the host keeps the new system") {
			t.Fatalf("web-1: %+v (%v), want nix-hive to stop waiting", o, err)
		}
		time.Sleep(9 * time.Second) // the activation ends, then longer than the confirmation timeout
		if current, profile := f.running("web-1"); current != o.Path || profile != o.Path {
			t.Errorf("web-1 runs %s with profile %s, want the slow but good %s", current, profile, o.Path)
		}
	})

	t.Run("dry-activate prints what the activation printed", func(t *testing.T) {
		next()
		var stdout, stderr bytes.Buffer
		err := cli.Run(context.Background(), f.args("--on", "web-1", "--goal", "dry-activate"), labfleet.Environ(), &stdout, &stderr)
		if err != nil || !strings.Contains(stderr.String(), "web-1| would restart the following units: nix-hive-example.service") {
			t.Errorf("dry-activate (%v) printed:\n%s", err, stderr.String())
		}
	})

	t.Run("a sudo user deploys end to end", func(t *testing.T) {
		restore := f.loginAs(lab.User, "web-2", "eu-1")
		defer restore()
		next()
		r, err := f.deploy("--on", "web-2,eu-1")
		for _, n := range []string{"web-2", "eu-1"} {
			o := r.Instances[n]
			if current, profile := f.running(n); o.Result != "activated" || current != o.Path || profile != o.Path {
				t.Errorf("%s as %s: %+v (%v), runs %s with profile %s", n, lab.User, o, err, current, profile)
			}
			if pins := f.on(n, "sh", "-c", "ls /nix/var/nix/gcroots/nix-hive 2>/dev/null; true"); pins != "" {
				t.Errorf("%s: GC roots left after the activation: %s", n, pins)
			}
		}
	})

	t.Run("without sudo the user is told and no host is changed", func(t *testing.T) {
		restore := f.loginAs(lab.User, "web-2")
		defer restore()
		f.on("web-2", "rm", lab.SudoersFile)
		next()
		before, _ := f.running("web-2")
		calls := len(f.activations("web-2"))
		r, err := f.deploy("--on", "web-2")
		o := r.Instances["web-2"]
		if !errors.Is(err, engine.ErrFailed) || o.Result != "failed" || !strings.Contains(o.Error, "user deploy on web-2 is not root and cannot sudo without a password") {
			t.Fatalf("web-2: %+v (%v)", o, err)
		}
		if strings.HasPrefix(o.Error, "reach") {
			t.Errorf("the error says the host was not reached: %s", o.Error)
		}
		if current, profile := f.running("web-2"); current != before || profile != before || len(f.activations("web-2")) != calls {
			t.Errorf("web-2 changed: %s %s", current, profile)
		}
		if f.on("web-2", "sh", "-c", "ls /nix/var/nix/gcroots/nix-hive 2>/dev/null; true") != "" {
			t.Error("web-2 got a GC root although nothing may be copied")
		}
	})
}

// TestJumpHostFirstOnLab deploys the eu site's bastion as an instance
// together with hosts behind it: the bastion is activated and confirmed
// before any host behind it starts.
func TestJumpHostFirstOnLab(t *testing.T) {
	f := newFleet(t)
	src, err := os.ReadFile(filepath.Join(f.dir, "hive.nix"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), `    bastion-eu = { HostName = hosts.bastion-eu; User = "root"; };`, "", 1)
	text = strings.Replace(text, "  instances = {", `  instances = {
    bastion-eu = { system = "web"; ssh = { HostName = hosts.bastion-eu; User = "root"; }; };`, 1)
	f.write("hive.nix", text)
	var stdout, stderr bytes.Buffer
	err = cli.Run(context.Background(), f.args("--on", "bastion-eu,eu-1,eu-2,web-1"), labfleet.Environ(), &stdout, &stderr)
	t.Logf("progress:\n%s", stderr.String())
	if err != nil {
		t.Fatal(err)
	}
	log := stderr.String()
	done := strings.Index(log, "bastion-eu: activated")
	if done < 0 {
		t.Fatal("the bastion was not activated")
	}
	for _, n := range []string{"eu-1", "eu-2", "web-1"} {
		if i := strings.Index(log, n+": building"); i < done {
			t.Errorf("%s started (at %d) before the bastion was activated and confirmed (at %d)", n, i, done)
		}
	}
}

// configure adds attributes to a system's configuration and returns the
// function that restores it.
func (f *fleet) configure(system, attrs string) func() {
	f.t.Helper()
	path := filepath.Join(f.dir, "systems", system+".nix")
	src, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(filepath.Join("systems", system+".nix"), strings.Replace(string(src), "motd =", attrs+"\n  motd =", 1))
	return func() { f.write(filepath.Join("systems", system+".nix"), string(src)) }
}

// loginAs makes nix-hive log in to the instances as user, and returns the
// function that restores root.
func (f *fleet) loginAs(user string, instances ...string) func() {
	f.t.Helper()
	src, err := os.ReadFile(filepath.Join(f.dir, "hive.nix"))
	if err != nil {
		f.t.Fatal(err)
	}
	text := string(src)
	for _, n := range instances {
		marker := "    " + n + " = {"
		i := strings.Index(text, marker)
		if i < 0 {
			f.t.Fatalf("hive.nix has no instance %s", n)
		}
		end := i + strings.Index(text[i:], "\n")
		line := text[i:end]
		line = strings.Replace(line, `User = "root";`, `User = "`+user+`";`, 1)
		line = strings.Replace(line, "ssh = onSite hosts."+n+";", "ssh = onSite hosts."+n+` // { User = "`+user+`"; };`, 1)
		text = text[:i] + line + text[end:]
	}
	f.write("hive.nix", text)
	return func() { f.write("hive.nix", string(src)) }
}

// generations lists a host's system profile generations.
func (f *fleet) generations(host string) string {
	return f.on(host, "sh", "-c", "ls /nix/var/nix/profiles | grep '^system-' | sort")
}

// holdSwitchLock holds a host's switch-to-configuration lock, as another
// nixos-rebuild would, until the returned function is called.
func (f *fleet) holdSwitchLock(host string) func() {
	f.t.Helper()
	f.on(host, "sh", "-c", "mkdir -p /run/nixos && rm -f /run/nixos/hold-done")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.lab.Exec(ctx, host, "flock", "/run/nixos/switch-to-configuration.lock", "sh", "-c",
			"while [ ! -e /run/nixos/hold-done ]; do sleep 0.1; done")
	}()
	for i := 0; ; i++ {
		if _, err := f.lab.Exec(context.Background(), host, "flock", "-n", "/run/nixos/switch-to-configuration.lock", "true"); err != nil {
			break // held
		}
		if i == 100 {
			f.t.Fatal("the switch lock was not taken")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		f.on(host, "touch", "/run/nixos/hold-done")
		<-done
		cancel()
	}
}
