package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
)

// requiredTools are the programs a lab runs, directly or inside a host.
func requiredTools() []string {
	return []string{
		"ip", "ssh", "ssh-keygen", "nsenter", "unshare", "setsid", "mount", "hostname", "sleep", "sh", "nix-store", "sudo", "flock",
	}
}

// missing says why a lab cannot be built here, or "" if it can.
func missing() string {
	var why []string
	if os.Geteuid() != 0 {
		why = append(why, "not running as root")
	}
	for _, tool := range requiredTools() {
		if _, err := exec.LookPath(tool); err != nil {
			why = append(why, tool+" not found in PATH")
		}
	}
	if st, err := os.Stat(sshdPath); err != nil || st.Mode()&0o111 == 0 {
		why = append(why, sshdPath+" not found (install openssh-server)")
	}
	if st, err := os.Stat("/nix"); err != nil || !st.IsDir() {
		why = append(why, "/nix does not exist to mount a host's store on (install nix-bin)")
	}
	return strings.Join(why, "; ")
}

// Require stops a lab test that cannot run here: not root, or a tool (ip,
// sshd, ssh, ssh-keygen, nsenter, unshare, nix-store, ...) missing. When
// the environment variable CI is set it fails the test, since CI must never
// skip lab tests silently; otherwise it skips the test with the reason.
func Require(t testing.TB) {
	t.Helper()
	why := missing()
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("lab test cannot run (CI is set, so it may not skip): %s", why)
	}
	t.Skipf("lab test skipped: %s", why)
}

// NewForTest builds a lab for a test with the real process runner, fails
// the test if it cannot, and removes the lab when the test ends. An
// interrupt (SIGINT, SIGTERM) while the lab lives removes it before the
// test binary dies.
func NewForTest(t testing.TB, spec Spec) *Lab {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	l, err := New(ctx, &process.Exec{}, spec)
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	stopWatching := closeOnSignal(l)
	t.Cleanup(func() {
		defer stopWatching()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("remove lab: %v", err)
		}
	})
	return l
}

// closeOnSignal removes l when the process gets SIGINT or SIGTERM, then
// raises the signal again so that it ends the process as it would have
// without this handler (once every lab's handler has stopped listening,
// the signal's default action applies). The returned function stops
// watching.
func closeOnSignal(l *Lab) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case sig := <-ch:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = l.Close(ctx)
			cancel()
			signal.Stop(ch)
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}

// KnownHostsWithout returns the lab's known_hosts text without the lines
// of host, for tests of a host whose key is not known.
func (l *Lab) KnownHostsWithout(host string) (string, error) {
	h, err := l.host(host)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		return "", fmt.Errorf("read the lab's known_hosts: %w", err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		names, _, _ := strings.Cut(line, " ")
		if !slices.ContainsFunc(h.addrs(), func(a string) bool { return slices.Contains(strings.Split(names, ","), a) }) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n"), nil
}
