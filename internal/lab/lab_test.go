package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
)

// fleetSpec is two public hosts and a site with a bastion, a store and an
// instance.
var fleetSpec = Spec{Hosts: []HostSpec{
	{Name: "web-1"},
	{Name: "web-2"},
	{Name: "gw", Site: "dc", Bastion: true},
	{Name: "store", Site: "dc"},
	{Name: "app", Site: "dc"},
}}

// sshClient reaches a lab's hosts as nix-hive would: ssh -F with a
// config file naming each host, private ones behind their bastion.
type sshClient struct {
	config string
}

func newSSHClient(t *testing.T, l *Lab) *sshClient {
	t.Helper()
	bastions := map[string]string{}
	for _, h := range l.Hosts {
		if h.Bastion {
			bastions[h.Site] = h.Name
		}
	}
	var b strings.Builder
	block := func(alias, addr, jump, timeout string) {
		fmt.Fprintf(&b, "Host %s\n  HostName %s\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n", alias, addr, l.Key)
		fmt.Fprintf(&b, "  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n", l.KnownHosts)
		fmt.Fprintf(&b, "  BatchMode yes\n  ConnectTimeout %s\n  LogLevel ERROR\n", timeout)
		if jump != "" {
			fmt.Fprintf(&b, "  ProxyJump %s\n", jump)
		}
	}
	for _, h := range l.Hosts {
		jump := ""
		if h.Site != "" && !h.Bastion {
			jump = bastions[h.Site]
			// The same host without the jump: the runner cannot reach it.
			block(h.Name+"-direct", h.Addr, "", "1")
		}
		block(h.Name, h.Addr, jump, "3")
	}
	path := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return &sshClient{config: path}
}

// run runs a command on host over ssh, feeding it stdin.
func (c *sshClient) run(host string, stdin []byte, args ...string) (string, error) {
	return c.runOpts(host, nil, stdin, args...)
}

// unreachable reports whether ssh to host fails within about a second.
func (c *sshClient) unreachable(host string) bool {
	_, err := c.runOpts(host, []string{"-o", "ConnectTimeout=1"}, nil, "true")
	return err != nil
}

// runOpts runs a command on host over ssh with extra ssh options.
func (c *sshClient) runOpts(host string, opts []string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sshArgs := append(append([]string{"ssh", "-F", c.config}, opts...), host, "--", process.QuoteArgs(args))
	cmd := process.Command{Args: sshArgs}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := (&process.Exec{}).Run(ctx, cmd)
	return strings.TrimSpace(string(out)), err
}

func (c *sshClient) must(t *testing.T, host string, args ...string) string {
	t.Helper()
	out, err := c.run(host, nil, args...)
	if err != nil {
		t.Fatalf("ssh %s %s: %v", host, strings.Join(args, " "), err)
	}
	return out
}

func TestFleet(t *testing.T) {
	t.Parallel()
	start := time.Now()
	l := NewForTest(t, fleetSpec)
	t.Logf("lab %d with %d hosts up in %s", l.Slot, len(l.Hosts), time.Since(start).Round(time.Millisecond))
	c := newSSHClient(t, l)

	// Checks that leave every host up run side by side.
	t.Run("up", func(t *testing.T) {
		t.Run("ssh reaches every host, private ones only through the bastion", func(t *testing.T) {
			t.Parallel()
			for _, name := range []string{"web-1", "web-2", "gw", "store", "app"} {
				if got := c.must(t, name, "hostname"); got != name {
					t.Errorf("ssh %s hostname = %q", name, got)
				}
			}
			for _, name := range []string{"store", "app"} {
				if !c.unreachable(name + "-direct") {
					t.Errorf("ssh straight to private host %s at %s worked", name, l.Hosts[name].Addr)
				}
				// The machine may route anything through its default route (a
				// sandbox may even answer TCP there), but no lab link leads to
				// a site.
				route, err := (&process.Exec{}).Run(context.Background(), process.Command{Args: []string{"ip", "-o", "route", "get", l.Hosts[name].Addr}})
				if err == nil && strings.Contains(string(route), " dev nhl") {
					t.Errorf("the runner has a lab route to private host %s: %s", name, route)
				}
			}
			if out := c.must(t, "gw", "cat", "/proc/sys/net/ipv4/ip_forward"); out != "0" {
				t.Errorf("bastion forwards: ip_forward = %s", out)
			}
		})

		t.Run("each host has its own /nix, /run and /root", func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("lab-marker-%d", time.Now().UnixNano())
			for _, dir := range []string{"/nix", "/run", "/root"} {
				c.must(t, "app", "touch", dir+"/"+marker)
				if _, err := os.Stat(filepath.Join(l.Hosts["app"].Dir, filepath.Base(dir), marker)); err != nil {
					t.Errorf("%s/%s written on app is not in its directory: %v", dir, marker, err)
				}
				if _, err := os.Stat(dir + "/" + marker); err == nil {
					t.Errorf("%s/%s written on app appeared on the machine", dir, marker)
				}
				for _, other := range []string{"web-1", "store"} {
					if out, err := c.run(other, nil, "test", "-e", dir+"/"+marker); err == nil {
						t.Errorf("%s/%s written on app appeared on %s %s", dir, marker, other, out)
					}
				}
				out, err := l.Exec(context.Background(), "app", "ls", dir)
				if err != nil || !strings.Contains(string(out), marker) {
					t.Errorf("Exec on app does not see %s/%s: %q %v", dir, marker, out, err)
				}
			}
		})

		t.Run("nix-store --add lands in the host's own store", func(t *testing.T) {
			t.Parallel()
			path := c.must(t, "web-1", "sh", "-c", "echo lab-web-1 >/root/greeting && nix-store --add /root/greeting")
			if !strings.HasPrefix(path, "/nix/store/") || !strings.HasSuffix(path, "-greeting") {
				t.Fatalf("nix-store --add printed %q", path)
			}
			if data, err := os.ReadFile(filepath.Join(l.Hosts["web-1"].Dir, path)); err != nil || string(data) != "lab-web-1\n" {
				t.Errorf("store path not in web-1's /nix: %q %v", data, err)
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("%s landed in the machine's store", path)
			}
			if out, err := c.run("web-2", nil, "nix-store", "--check-validity", path); err == nil {
				t.Errorf("%s is valid on web-2 too: %s", path, out)
			}
			if got := c.must(t, "web-1", "nix-store", "--check-validity", "--print-invalid", path); got != "" {
				t.Errorf("%s is not valid on web-1: %s", path, got)
			}
		})

		t.Run("an instance pulls from a store host on its site", func(t *testing.T) {
			t.Parallel()
			store := l.Hosts["store"]
			if got := c.must(t, "app", "ssh", "-o", "BatchMode=yes", "root@"+store.SiteAddr, "hostname"); got != "store" {
				t.Errorf("app ssh store hostname = %q", got)
			}
			path := c.must(t, "store", "sh", "-c", "echo from-the-store >/root/payload && nix-store --add /root/payload")
			c.must(t, "app", "nix", "--extra-experimental-features", "nix-command", "copy", "--no-check-sigs",
				"--from", "ssh://root@"+store.SiteAddr, path)
			if got := c.must(t, "app", "cat", path); got != "from-the-store" {
				t.Errorf("app has %s = %q", path, got)
			}
		})

		t.Run("TxBytes counts what is sent into a host", func(t *testing.T) {
			t.Parallel()
			const n = 1 << 20
			payload := bytes.Repeat([]byte("x"), n)
			for _, tt := range []struct{ target, counted string }{
				{"web-1", "web-1"},
				{"gw", "gw"},
				{"app", "gw"},  // the runner's bytes for the site cross the bastion's uplink
				{"app", "app"}, // and then the app's site link
			} {
				before, err := l.TxBytes(context.Background(), tt.counted)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.run(tt.target, payload, "sh", "-c", "cat >/dev/null"); err != nil {
					t.Fatal(err)
				}
				after, err := l.TxBytes(context.Background(), tt.counted)
				if err != nil {
					t.Fatal(err)
				}
				if after-before < n {
					t.Errorf("sent %d bytes to %s, but %s's counter grew by %d", n, tt.target, tt.counted, after-before)
				}
			}
		})
	})

	// Then hosts go down and come back, one at a time.
	t.Run("outages", func(t *testing.T) {
		t.Run("StopSSH takes a host down and StartSSH brings it back", func(t *testing.T) {
			ctx := context.Background()
			for _, name := range []string{"web-2", "store"} {
				if err := l.StopSSH(ctx, name); err != nil {
					t.Fatal(err)
				}
				if !c.unreachable(name) {
					t.Errorf("ssh to stopped host %s worked", name)
				}
				if out, err := l.Exec(ctx, name, "hostname"); err != nil || strings.TrimSpace(string(out)) != name {
					t.Errorf("Exec on stopped host %s: %q %v", name, out, err)
				}
				if err := l.StartSSH(ctx, name); err != nil {
					t.Fatal(err)
				}
				if got := c.must(t, name, "hostname"); got != name {
					t.Errorf("ssh %s after StartSSH: %q", name, got)
				}
			}
		})

		t.Run("SetLink cuts a host off and back on", func(t *testing.T) {
			ctx := context.Background()
			for _, name := range []string{"web-2", "app"} {
				if err := l.SetLink(ctx, name, false); err != nil {
					t.Fatal(err)
				}
				if !c.unreachable(name) {
					t.Errorf("ssh to %s with its link down worked", name)
				}
				if err := l.SetLink(ctx, name, true); err != nil {
					t.Fatal(err)
				}
				if got := c.must(t, name, "hostname"); got != name {
					t.Errorf("ssh %s after its link came back: %q", name, got)
				}
			}
		})
	})
}
