// Package sshconfig writes the ssh_config file every ssh and nix command of
// a run uses (the inventory's Host blocks plus nix-hive's safe defaults),
// and builds ssh command lines that run a quoted argument list on a host.
package sshconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Options are the run-wide ssh settings from the command line.
type Options struct {
	// IdentityFile is the private key to log in with (--ssh-key), if any.
	IdentityFile string
	// KnownHosts is the known_hosts file to check host keys against
	// (--known-hosts), if any; else ssh's default files are used.
	KnownHosts string
	// AcceptNewHostKeys trusts a host key on first use
	// (StrictHostKeyChecking accept-new) instead of refusing unknown hosts.
	AcceptNewHostKeys bool
	// ConnectTimeout is ssh's ConnectTimeout in seconds; zero means 10.
	ConnectTimeout int
}

// Config is a written ssh_config file.
type Config struct {
	// Path is the file's path, passed to ssh with -F.
	Path string
}

// Render returns the ssh_config text: the inventory's Host blocks, then a
// final "Host *" block with nix-hive's defaults. ssh takes the first value
// it finds for each option, so hive.nix's own settings win.
func Render(inventoryConfig string, o Options) string {
	timeout := o.ConnectTimeout
	if timeout == 0 {
		timeout = 10
	}
	check := "yes"
	if o.AcceptNewHostKeys {
		check = "accept-new"
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(inventoryConfig, "\n"))
	b.WriteString("\n\n# nix-hive's defaults for every host.\nHost *\n")
	fmt.Fprintf(&b, "  BatchMode yes\n  ConnectTimeout %d\n  ServerAliveInterval 5\n  ServerAliveCountMax 3\n", timeout)
	fmt.Fprintf(&b, "  StrictHostKeyChecking %s\n", check)
	if o.IdentityFile != "" {
		fmt.Fprintf(&b, "  IdentityFile %s\n  IdentitiesOnly yes\n", quote(o.IdentityFile))
	}
	if o.KnownHosts != "" {
		fmt.Fprintf(&b, "  UserKnownHostsFile %s\n", quote(o.KnownHosts))
	}
	return b.String()
}

func quote(path string) string {
	if strings.ContainsAny(path, " \t") {
		return `"` + path + `"`
	}
	return path
}

// Write renders the config into dir/ssh_config (mode 0600) and returns it.
func Write(dir, inventoryConfig string, o Options) (*Config, error) {
	path := filepath.Join(dir, "ssh_config")
	if strings.ContainsAny(path, " \t\n") {
		return nil, fmt.Errorf("write ssh config: the path %q must not contain white space (nix splits NIX_SSHOPTS on it)", path)
	}
	if err := os.WriteFile(path, []byte(Render(inventoryConfig, o)), 0o600); err != nil {
		return nil, fmt.Errorf("write ssh config: %w", err)
	}
	return &Config{Path: path}, nil
}

// NixEnv returns the environment that makes nix's own ssh use the config.
func (c *Config) NixEnv() []string {
	return []string{"NIX_SSHOPTS=-F " + c.Path}
}

// Command returns the ssh command that runs remote (a program and its
// arguments) on host. Each remote argument is quoted, because ssh hands the
// joined arguments to the remote user's shell.
func (c *Config) Command(host string, remote ...string) []string {
	return []string{"ssh", "-F", c.Path, "-o", "LogLevel=ERROR", host, "--", process.QuoteArgs(remote)}
}
