package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// TestFaults deploys the example fleet once, then injects one fault at a
// time and checks that the faulty host is reported, the others are not
// harmed, and every host is on exactly one complete generation.
func TestFaults(t *testing.T) {
	f := newFleet(t)
	ctx := context.Background()
	first, err := f.deploy()
	if err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	old := map[string]string{}
	for _, n := range labfleet.Instances {
		old[n] = first.Instances[n].Path
	}

	t.Run("an unknown host key stops the run before any host is touched", func(t *testing.T) {
		known, err := f.lab.KnownHostsWithout("eu-2")
		if err != nil {
			t.Fatal(err)
		}
		partial := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(partial, []byte(known), 0o600)
		f.setVersion(100)
		calls := len(f.activations("web-1"))
		var stdout, stderr bytes.Buffer
		err = cli.Run(context.Background(), f.args("--known-hosts", partial), labfleet.Environ(), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "no host was touched") || !strings.Contains(err.Error(), "eu-2 ("+f.lab.Hosts["eu-2"].Addr+"): host key is not known") {
			t.Fatalf("error = %v", err)
		}
		if strings.Contains(err.Error(), "web-1") {
			t.Errorf("known hosts reported too: %v", err)
		}
		if len(f.activations("web-1")) != calls {
			t.Error("web-1 was activated although the run should have stopped")
		}
	})

	t.Run("a host that is down fails fast, the others deploy", func(t *testing.T) {
		if err := f.lab.StopSSH(ctx, "db-1"); err != nil {
			t.Fatal(err)
		}
		defer f.lab.StartSSH(ctx, "db-1")
		f.setVersion(1)
		start := time.Now()
		r, err := f.deploy("--on", "db-1,web-1")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		if o := r.Instances["db-1"]; o.Result != "failed" || !strings.Contains(o.Error, "reach db-1") {
			t.Errorf("db-1: %q %q", o.Result, o.Error)
		}
		if got := r.Instances["web-1"].Result; got != "activated" {
			t.Errorf("web-1: %q, want activated", got)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("a down host took %s to report", d)
		}
		if current, profile := f.running("db-1"); current != old["db-1"] || profile != old["db-1"] {
			t.Errorf("db-1 changed while down: %s %s", current, profile)
		}
	})

	t.Run("another activation holds the host", func(t *testing.T) {
		f.on("web-2", "sh", "-c", "mkdir -p /run/nix-hive/lock /run/nix-hive/other && echo other >/run/nix-hive/lock/id && echo running >/run/nix-hive/other/status")
		f.setVersion(2)
		r, err := f.deploy("--on", "web-2", "--lock-timeout", "2s")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		if o := r.Instances["web-2"]; o.Result != "failed" || !strings.Contains(o.Error, "another nix-hive activation is running on the host") {
			t.Errorf("web-2: %q %q", o.Result, o.Error)
		}
		if current, _ := f.running("web-2"); current != old["web-2"] {
			t.Errorf("web-2 was activated while locked: %s", current)
		}
		f.on("web-2", "sh", "-c", "echo activated >/run/nix-hive/other/status")
		if r, err := f.deploy("--on", "web-2"); err != nil || r.Instances["web-2"].Result != "activated" {
			t.Errorf("after the other activation ended: %v %+v", err, r.Instances["web-2"])
		}
	})

	t.Run("a system that cuts the network rolls itself back", func(t *testing.T) {
		web := filepath.Join(f.dir, "systems/web.nix")
		src, _ := os.ReadFile(web)
		os.WriteFile(web, []byte(strings.Replace(string(src), "motd =", "breakNetwork = true;\n  motd =", 1)), 0o644)
		defer os.WriteFile(web, src, 0o644)
		before, _ := f.running("web-1")
		r, err := f.deploy("--on", "web-1", "--confirm-timeout", "3s")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		if o := r.Instances["web-1"]; o.Result != "rolled-back" || !strings.Contains(o.Error, "not confirmed") {
			t.Errorf("web-1: %q %q", o.Result, o.Error)
		}
		current, profile := f.running("web-1")
		if current != before || profile != before {
			t.Errorf("web-1 after rollback: current %s profile %s, want %s", current, profile, before)
		}
		// The host is reachable again.
		if r, err := f.deploy("--on", "web-1", "--goal", "dry-activate"); err != nil {
			t.Errorf("web-1 unreachable after its rollback: %v %+v", err, r)
		}
	})

	t.Run("a connection cut during the copy leaves the host as it was", func(t *testing.T) {
		web := filepath.Join(f.dir, "systems/web.nix")
		src, _ := os.ReadFile(web)
		os.WriteFile(web, []byte(strings.Replace(string(src), "motd =", "payloadBytes = 4194304;\n  motd =", 1)), 0o644)
		defer os.WriteFile(web, src, 0o644)
		uplink := f.lab.Hosts["web-2"].Uplink
		f.run(t, "tc", "qdisc", "add", "dev", uplink, "root", "tbf", "rate", "4mbit", "burst", "32kb", "latency", "400ms")
		defer f.run(t, "tc", "qdisc", "del", "dev", uplink, "root")
		before, _ := f.running("web-2")
		calls := len(f.activations("web-2"))

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cut := make(chan struct{})
		progress := &cancelOn{text: "web-2| copying path", cancel: func() {
			select {
			case <-cut:
			default:
				close(cut)
			}
		}}
		go func() {
			select {
			case <-cut:
				f.lab.SetLink(context.Background(), "web-2", false)
			case <-ctx.Done():
			}
		}()
		defer f.lab.SetLink(context.Background(), "web-2", true)
		var stdout bytes.Buffer
		err := cli.Run(ctx, f.args("--on", "web-2"), labfleet.Environ(), &stdout, progress)
		t.Logf("progress:\n%s", progress.String())
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		var r report
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if o := r.Instances["web-2"]; o.Result != "failed" || !strings.Contains(o.Error, "copy") {
			t.Errorf("web-2: %q %q, want failed in the copy", o.Result, o.Error)
		}
		f.lab.SetLink(context.Background(), "web-2", true)
		if current, profile := f.running("web-2"); current != before || profile != before {
			t.Errorf("web-2 changed: current %s profile %s, want %s", current, profile, before)
		}
		if got := len(f.activations("web-2")); got != calls {
			t.Errorf("web-2 was activated after a failed copy")
		}
	})

	t.Run("an activation outlives a dropped connection and is reattached", func(t *testing.T) {
		web := filepath.Join(f.dir, "systems/web.nix")
		src, _ := os.ReadFile(web)
		os.WriteFile(web, []byte(strings.Replace(string(src), "motd =", "activationSeconds = 3;\n  motd =", 1)), 0o644)
		defer os.WriteFile(web, src, 0o644)
		f.setVersion(50)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		activating := make(chan struct{})
		var once sync.Once
		progress := &cancelOn{text: "web-2: activating", cancel: func() { once.Do(func() { close(activating) }) }}
		outage := make(chan struct{})
		go func() {
			defer close(outage)
			select {
			case <-activating:
			case <-ctx.Done():
				return
			}
			time.Sleep(time.Second) // the worker has started on the host
			f.lab.SetLink(context.Background(), "web-2", false)
			time.Sleep(20 * time.Second) // longer than ssh's ServerAlive limit (15 s)
			f.lab.SetLink(context.Background(), "web-2", true)
		}()
		var stdout bytes.Buffer
		err := cli.Run(ctx, f.args("--on", "web-2", "--confirm-timeout", "90s"), labfleet.Environ(), &stdout, progress)
		cancel() // a run that ended before activating must not leave the outage waiting
		<-outage
		t.Logf("progress:\n%s", progress.String())
		if err != nil {
			t.Fatalf("deploy: %v", err)
		}
		var r report
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		o := r.Instances["web-2"]
		if current, profile := f.running("web-2"); o.Result != "activated" || current != o.Path || profile != o.Path {
			t.Errorf("web-2: %q, runs %s (profile %s), want activated on %s", o.Result, current, profile, o.Path)
		}
		if !strings.Contains(progress.String(), "lost contact while activating (will reattach)") {
			t.Errorf("the connection was not lost during the activation; the test proved nothing")
		}
	})

	t.Run("cancelling finishes the running activation and starts no other", func(t *testing.T) {
		f.setVersion(3)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		progress := &cancelOn{text: "db-1: activating", cancel: cancel}
		var stdout bytes.Buffer
		err := cli.Run(ctx, f.args("--parallel", "1"), labfleet.Environ(), &stdout, progress)
		t.Logf("progress:\n%s", progress.String())
		if code := cli.ExitCode(err); code != 130 {
			t.Errorf("exit code %d (%v), want 130", code, err)
		}
		var r report
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if o := r.Instances["db-1"]; o.Result != "activated" {
			t.Errorf("db-1, activating when cancelled: %q %q, want activated", o.Result, o.Error)
		} else if current, profile := f.running("db-1"); current != o.Path || profile != o.Path {
			t.Errorf("db-1 runs %s (profile %s), want %s", current, profile, o.Path)
		}
		for _, n := range labfleet.Instances[1:] {
			o := r.Instances[n]
			if o.Result != "skipped" && o.Result != "failed" {
				t.Errorf("%s: %q after cancel, want skipped or failed", n, o.Result)
			}
			if current, profile := f.running(n); current != profile {
				t.Errorf("%s is between generations: current %s, profile %s", n, current, profile)
			}
		}
	})
}

func (f *fleet) run(t *testing.T, args ...string) {
	t.Helper()
	if _, err := (&process.Exec{}).Run(context.Background(), process.Command{Args: args}); err != nil {
		t.Fatal(err)
	}
}

// cancelOn is a progress writer that cancels the run when text appears.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	text   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.text) {
		c.cancel()
	}
	return len(p), nil
}

func (c *cancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
