package activation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

// testHost is a host in a temporary directory: the agent runs there with
// sh, without ssh, through a runner that runs the remote command text
// locally with NIX_HIVE_AGENT_ROOT pointing at the directory. Its systems
// "old" (running, profile generation 1) and "new" carry the stand-in
// switch-to-configuration of testdata.
type testHost struct {
	t    *testing.T
	root string
	env  []string
	log  syncBuffer
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	testenv.RequireTools(t, "sh", "flock", "setsid", "readlink", "tail", "sed")
	h := &testHost{t: t, root: t.TempDir()}
	h.env = []string{"NIX_HIVE_AGENT_ROOT=" + h.root}
	for _, d := range []string{"bin", "nix/var/nix/profiles", "nix/var/nix/gcroots/nix-hive", "run"} {
		h.mkdir(d)
	}
	h.copy("testdata/nix-env", "bin/nix-env")
	for _, sys := range []string{"old", "new"} {
		h.mkdir("store/" + sys + "/bin")
		h.copy("testdata/switch-to-configuration", "store/"+sys+"/bin/switch-to-configuration")
	}
	h.symlink(h.path("old"), "nix/var/nix/profiles/system-1-link")
	h.symlink("system-1-link", "nix/var/nix/profiles/system")
	h.symlink(h.path("old"), "run/current-system")
	h.symlink(h.path("new"), "nix/var/nix/gcroots/nix-hive/new")
	return h
}

func (h *testHost) path(system string) string { return filepath.Join(h.root, "store", system) }

func (h *testHost) mkdir(dir string) {
	if err := os.MkdirAll(filepath.Join(h.root, dir), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHost) write(name, content string) {
	if err := os.WriteFile(filepath.Join(h.root, name), []byte(content), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHost) copy(from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		h.t.Fatal(err)
	}
	h.write(to, string(data))
}

func (h *testHost) symlink(target, name string) {
	if err := os.Symlink(target, filepath.Join(h.root, name)); err != nil {
		h.t.Fatal(err)
	}
}

// resolve returns where a link under the root finally points.
func (h *testHost) resolve(name string) string {
	p, err := filepath.EvalSymlinks(filepath.Join(h.root, name))
	if err != nil {
		return ""
	}
	return p
}

func (h *testHost) exists(name string) bool {
	_, err := os.Lstat(filepath.Join(h.root, name))
	return err == nil
}

// Run implements process.Runner: it runs the remote command of an ssh
// command line locally, in the test host.
func (h *testHost) Run(ctx context.Context, c process.Command) ([]byte, error) {
	remote := c.Args[len(c.Args)-1]
	env := append(append([]string{}, h.env...), "PATH="+filepath.Join(h.root, "bin")+":"+os.Getenv("PATH"))
	return (&process.Exec{}).Run(ctx, process.Command{Args: []string{"sh", "-c", remote}, Env: env, Stdin: c.Stdin})
}

// agent is the host's agent with short timeouts.
func (h *testHost) agent(o Options) *Agent {
	hosts := &Hosts{Runner: h, SSH: &sshconfig.Config{Path: "/dev/null"}, Options: o,
		Log: func(string) io.Writer { return &h.log }}
	if o.Poll == 0 {
		hosts.Options.Poll = 100 * time.Millisecond
	}
	return hosts.Agent("web-1")
}

// activate runs a whole activation of the new system, confirmation
// included.
func (h *testHost) activate(o Options, g goal.Goal) (engine.ActivationResult, error) {
	a, err := h.agent(o).Activate(context.Background(), h.path("new"), g)
	if err != nil {
		return engine.ActivationResult{}, err
	}
	return a.Confirm(context.Background())
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAgentDecisions runs the agent against stand-in systems and checks
// what each switch-to-configuration outcome leads to: the result, what
// runs, where the profile points, whether the failed generation is gone,
// and what the error or warning says.
func TestAgentDecisions(t *testing.T) {
	tests := []struct {
		name    string
		goal    goal.Goal
		policy  Policy
		setup   func(h *testHost)
		wantErr error  // nil: activated
		current string // "old" or "new"
		profile string
		reboot  bool
		says    []string // in the error, or the warning, or the log
	}{
		{name: "switch succeeds", goal: goal.Switch, current: "new", profile: "new"},
		{name: "exit 100 needs a reboot and is not rolled back", goal: goal.Switch,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "100") },
			current: "old", profile: "new", reboot: true, says: []string{"exited 100"}},
		{name: "exit 100 under test changes nothing and fails", goal: goal.Test,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "100") },
			wantErr: errActivationFailed, current: "old", profile: "old", says: []string{"use switch or boot"}},
		{name: "exit 4 rolls back by default", goal: goal.Switch,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "4") },
			wantErr: engine.ErrRolledBack, current: "old", profile: "old",
			says: []string{"exited 4: some units failed", "the following units failed: example.service"}},
		{name: "exit 2 rolls back", goal: goal.Switch,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "2") },
			wantErr: engine.ErrRolledBack, current: "old", profile: "old", says: []string{"exited 2: the activation script failed"}},
		{name: "exit 4 is kept with a warning under keep", goal: goal.Switch, policy: Keep,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "4") },
			current: "new", profile: "new", says: []string{"exited 4", "example.service"}},
		{name: "a rollback whose switch reports failed units still counts", goal: goal.Switch,
			setup:   func(h *testHost) { h.write("failing-unit", "unrelated.service") },
			wantErr: engine.ErrRolledBack, current: "old", profile: "old",
			says: []string{"the previous system's switch-to-configuration switch exited 4", "unrelated.service"}},
		{name: "test rolls back the running system only", goal: goal.Test,
			setup:   func(h *testHost) { h.write("store/new/exit-code", "4") },
			wantErr: engine.ErrRolledBack, current: "old", profile: "old"},
		{name: "a new kernel needs a reboot", goal: goal.Switch,
			setup: func(h *testHost) {
				h.mkdir("store/kernel-a")
				h.mkdir("store/kernel-b")
				h.symlink(h.path("old"), "run/booted-system")
				h.symlink(h.path("kernel-a"), "store/old/kernel")
				h.symlink(h.path("kernel-b"), "store/new/kernel")
			},
			current: "new", profile: "new", reboot: true},
		{name: "dry-activate shows what the activation printed", goal: goal.DryActivate,
			current: "old", profile: "old", says: []string{"would restart the following units: example.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			res, err := h.activate(Options{OnFailure: tt.policy, ConfirmTimeout: 10 * time.Second, Timeout: time.Minute}, tt.goal)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && tt.wantErr != errActivationFailed && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error %v, want %v\nlog:\n%s", err, tt.wantErr, h.log.String())
			}
			if got, want := h.resolve("run/current-system"), h.path(tt.current); got != want {
				t.Errorf("running %s, want %s", got, want)
			}
			if got, want := h.resolve("nix/var/nix/profiles/system"), h.path(tt.profile); got != want {
				t.Errorf("profile %s, want %s", got, want)
			}
			if res.RebootRequired != tt.reboot {
				t.Errorf("reboot required %v, want %v", res.RebootRequired, tt.reboot)
			}
			if errors.Is(err, engine.ErrRolledBack) && h.exists("nix/var/nix/profiles/system-2-link") {
				t.Error("the failed generation 2 is still there after the rollback")
			}
			if tt.goal.SetsProfile() && h.exists("nix/var/nix/gcroots/nix-hive/new") {
				t.Error("the closure's GC root outlived the activation")
			}
			text := h.log.String() + res.Warning
			if err != nil {
				text += err.Error()
			}
			for _, s := range tt.says {
				if !strings.Contains(text, s) {
					t.Errorf("nothing says %q:\nlog:\n%s\nwarning: %s\nerror: %v", s, h.log.String(), res.Warning, err)
				}
			}
			if tt.policy == Keep && !strings.Contains(res.Warning, "exited 4") {
				t.Errorf("warning %q", res.Warning)
			}
		})
	}
}

// TestAgentErrorShowsActivationThenRollback checks that a rolled-back
// activation's error gives the activation's own output before the
// rollback's.
func TestAgentErrorShowsActivationThenRollback(t *testing.T) {
	h := newTestHost(t)
	h.write("store/new/exit-code", "4")
	_, err := h.activate(Options{Timeout: time.Minute}, goal.Switch)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	own := strings.Index(msg, "the following units failed: example.service")
	back := strings.Index(msg, "rollback output:")
	if !strings.HasPrefix(firstLine(msg), engine.ErrRolledBack.Error()+": switch-to-configuration switch exited 4") || own < 0 || back < own {
		t.Errorf("error:\n%s", msg)
	}
}

// TestAgentSwitchLock checks that a held switch-to-configuration lock
// makes the activation wait, without touching the profile, and either go
// on once the lock is released or fail as busy.
func TestAgentSwitchLock(t *testing.T) {
	for _, tt := range []struct {
		name     string
		hold     time.Duration
		lockWait time.Duration
		wantErr  error
	}{
		{"released in time", 1500 * time.Millisecond, 20 * time.Second, nil},
		{"held too long", 20 * time.Second, time.Second, ErrBusy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t)
			lock := filepath.Join(h.root, "run/nixos/switch-to-configuration.lock")
			h.mkdir("run/nixos")
			holder := exec.Command("flock", lock, "sleep", seconds(tt.hold))
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
			time.Sleep(200 * time.Millisecond)
			_, err := h.activate(Options{LockTimeout: tt.lockWait, Timeout: time.Minute}, goal.Switch)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			want := "new"
			if tt.wantErr != nil {
				want = "old"
				if !strings.Contains(err.Error(), "switch-to-configuration.lock") {
					t.Errorf("error does not name the lock: %v", err)
				}
			} else if !strings.Contains(h.log.String(), "waiting for the host") {
				t.Errorf("no wait was logged:\n%s", h.log.String())
			}
			if got := h.resolve("nix/var/nix/profiles/system"); got != h.path(want) {
				t.Errorf("profile %s, want %s", got, h.path(want))
			}
		})
	}
}

// errActivationFailed stands for any error in a test case's wantErr.
var errActivationFailed = errors.New("any error")

func seconds(d time.Duration) string { return strings.TrimSuffix(d.String(), "s") }

// TestAgentConfirmation checks the confirmation window: an activation
// nobody confirms is rolled back; one that nix-hive released (it stopped
// waiting) is kept.
func TestAgentConfirmation(t *testing.T) {
	t.Run("unconfirmed", func(t *testing.T) {
		h := newTestHost(t)
		a := h.agent(Options{ConfirmTimeout: time.Second, Timeout: time.Minute})
		out, err := h.Run(context.Background(), a.Command(StartArgs("c1", h.path("new"), goal.Switch, time.Second, Rollback)...))
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		rep := h.waitFor(a, "c1", "rolled-back")
		if !strings.Contains(rep.Reason, "not confirmed within 1s") || h.resolve("run/current-system") != h.path("old") {
			t.Errorf("%+v, running %s", rep, h.resolve("run/current-system"))
		}
	})
	t.Run("slow activation released by nix-hive", func(t *testing.T) {
		h := newTestHost(t)
		h.write("store/new/sleep", "2")
		_, err := h.activate(Options{ConfirmTimeout: time.Second, Timeout: 500 * time.Millisecond}, goal.Switch)
		if err == nil || !strings.Contains(err.Error(), "nix-hive stopped waiting; the host keeps the new system") {
			t.Fatalf("error %v", err)
		}
		a := h.agent(Options{})
		ids, _ := filepath.Glob(filepath.Join(h.root, "run/nix-hive/*/status"))
		if len(ids) != 1 {
			t.Fatalf("activations: %v", ids)
		}
		rep := h.waitFor(a, filepath.Base(filepath.Dir(ids[0])), "activated")
		if h.resolve("run/current-system") != h.path("new") {
			t.Errorf("%+v, running %s", rep, h.resolve("run/current-system"))
		}
	})
}

// waitFor waits until the activation id ends, and checks its status.
func (h *testHost) waitFor(a *Agent, id, status string) Report {
	h.t.Helper()
	for range 100 {
		out, err := h.Run(context.Background(), a.Command("wait", id, "5", "0"))
		if err != nil {
			h.t.Fatal(err)
		}
		rep := ParseReport(out)
		if rep.Status != statusRunning && rep.Status != statusAwaiting {
			if rep.Status != status {
				h.t.Fatalf("status %q (%s), want %s", rep.Status, rep.Reason, status)
			}
			return rep
		}
	}
	h.t.Fatal("the activation did not end")
	return Report{}
}

// TestAgentUsesSystemdRun checks that where systemd runs, the worker and
// the switch run in transient units, the switch with nixos-rebuild's
// options.
func TestAgentUsesSystemdRun(t *testing.T) {
	h := newTestHost(t)
	h.mkdir("run/systemd/system")
	h.copy("testdata/systemd-run", "bin/systemd-run")
	if _, err := h.activate(Options{Timeout: time.Minute}, goal.Switch); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(h.root, "systemd-run.calls"))
	calls := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(calls) != 2 || !strings.Contains(calls[0], "--unit=nix-hive-agent-") ||
		!strings.HasPrefix(calls[1], "-E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER --collect --no-ask-password --pipe --quiet --service-type=exec --unit=nix-hive-switch-") ||
		!strings.HasSuffix(calls[1], h.path("new")+"/bin/switch-to-configuration switch") {
		t.Errorf("systemd-run calls:\n%s", data)
	}
}

// TestAgentRefusesWithoutSudo checks that a login that is not root and
// cannot sudo gets the error that says so, and that nothing is changed.
func TestAgentRefusesWithoutSudo(t *testing.T) {
	h := newTestHost(t)
	h.write("bin/id", "#!/bin/sh\ncase $1 in -u) echo 1000 ;; -un) echo deploy ;; esac\n")
	h.write("bin/sudo", "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n")
	_, err := h.agent(Options{}).Status(context.Background())
	if !errors.Is(err, engine.ErrRefused) || !strings.Contains(err.Error(), "user deploy on web-1 is not root and cannot sudo without a password") {
		t.Fatalf("error %v", err)
	}
	if h.exists("run/nix-hive") {
		t.Error("the agent was installed although the login may not")
	}
}

// TestAgentReject checks that an activation refused because its health
// checks failed is undone at once under the rollback policy, and kept
// (but failed) under keep.
func TestAgentReject(t *testing.T) {
	tests := []struct {
		policy      Policy
		wantRunning string
		wantErr     []string
	}{
		{Rollback, "old", []string{"not ready", "rolled back to the previous generation", "a health check failed"}},
		{Keep, "new", []string{"not ready", "keeping the new system"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			h := newTestHost(t)
			a, err := h.agent(Options{ConfirmTimeout: time.Minute, Timeout: time.Minute, OnFailure: tt.policy}).Activate(context.Background(), h.path("new"), goal.Switch)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = a.(engine.Rejecter).Reject(context.Background(), errors.New("health check ready failed: not ready"))
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want %q", err, want)
				}
			}
			if errors.Is(err, engine.ErrRolledBack) != (tt.policy == Rollback) {
				t.Errorf("error %v: rolled back is %v", err, errors.Is(err, engine.ErrRolledBack))
			}
			if got := h.resolve("run/current-system"); got != h.path(tt.wantRunning) {
				t.Errorf("running %s, want %s", got, tt.wantRunning)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("the refusal took %s; it must not wait for the confirmation window", d)
			}
		})
	}
}
