package lab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHost checks a Serve host: ServeUser may only run nix-store
// --serve, through which another host substitutes a path of its store
// without root, and Start runs an HTTP server in a host that the site
// reaches.
func TestServeHost(t *testing.T) {
	t.Parallel()
	l := NewForTest(t, Spec{Hosts: []HostSpec{
		{Name: "gw", Site: "s", Bastion: true}, {Name: "store", Site: "s", Serve: true}, {Name: "app", Site: "s"},
	}})
	c := newSSHClient(t, l)
	ctx := context.Background()
	store := l.Hosts["store"]

	t.Run("the serve user runs nix-store --serve and nothing else", func(t *testing.T) {
		out, err := c.runOpts("store", []string{"-o", "User=" + ServeUser}, nil, "id")
		if err != nil && strings.Contains(out, "uid=") {
			t.Fatalf("%s got a shell: %q", ServeUser, out)
		}
		path := c.must(t, "store", "sh", "-c", "echo served >/root/payload && nix-store --add /root/payload")
		c.must(t, "app", "nix-store", "--realise", path, "--option", "substituters", "ssh://"+ServeUser+"@"+store.SiteAddr,
			"--option", "require-sigs", "false")
		if got := c.must(t, "app", "cat", path); got != "served" {
			t.Errorf("app has %s = %q", path, got)
		}
		log, err := os.ReadFile(filepath.Join(store.Dir, sshdLogFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(log), "Accepted publickey for "+ServeUser+" from "+l.Hosts["app"].SiteAddr) {
			t.Errorf("the store's sshd log shows no %s login from app:\n%s", ServeUser, log)
		}
	})

	t.Run("Start runs a service the site reaches", func(t *testing.T) {
		busybox, err := exec.LookPath("busybox")
		if err != nil {
			t.Fatalf("busybox (busybox-static) is needed: %v", err)
		}
		dir := filepath.Join(store.Dir, "www")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hello"), []byte("hello over http\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.Start(ctx, "store", "httpd", busybox, "httpd", "-f", "-p", "8080", "-h", dir); err != nil {
			t.Fatal(err)
		}
		got := c.must(t, "app", busybox, "wget", "-q", "-O", "-", "http://"+store.SiteAddr+":8080/hello")
		if got != "hello over http" {
			t.Errorf("app fetched %q", got)
		}
		if err := l.Start(ctx, "store", "bad name", "true"); err == nil {
			t.Error("Start took a name with a space")
		}
	})
}
