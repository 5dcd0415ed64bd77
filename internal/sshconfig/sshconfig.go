// Package sshconfig writes the ssh_config files every ssh and nix command of
// a run uses — one small file per host, holding its Host block, the blocks
// of its jump chain and nix-hive's safe defaults — and builds ssh command
// lines that run a quoted argument list on a host. Every connection of a
// run to a host goes through one multiplexed master connection (a private
// ControlPath), which Close ends.
package sshconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

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
	// NoMultiplex turns connection reuse off: every ssh command makes its
	// own connection.
	NoMultiplex bool
}

// ControlPersist is how long, in seconds, an idle master connection
// outlives its last session; Close ends the masters before that.
const ControlPersist = 60

// Config is a run's ssh configuration: the inventory's Host blocks and
// the options, from which it writes one file per host on first use.
//
// A Config with only Path set (as tests build it) uses that one file for
// every host and multiplexes nothing.
type Config struct {
	// Path, when set, is the one file used for every host.
	Path string

	dir     string           // where the per-host files are written
	control string           // the private directory of the master sockets
	blocks  map[string]Block // by lower-case name
	opts    Options

	mu    sync.Mutex
	files map[string]string // written files, by host and variant
}

// New returns the run's ssh config for blocks (the inventory's, already
// judged by Check), writing its files into dir on demand. Unless
// o.NoMultiplex, it makes the private directory of the master sockets.
func New(dir string, blocks []Block, o Options) (*Config, error) {
	if strings.ContainsAny(dir, " \t\n") {
		return nil, fmt.Errorf("write ssh config: the path %q must not contain white space (nix splits NIX_SSHOPTS on it)", dir)
	}
	if _, err := RenderBlocks(blocks); err != nil { // checked at load; again, as they go into files
		return nil, fmt.Errorf("write ssh config: %w", err)
	}
	c := &Config{dir: filepath.Join(dir, "ssh"), blocks: map[string]Block{}, opts: o, files: map[string]string{}}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("write ssh config: %w", err)
	}
	for _, b := range blocks {
		c.blocks[strings.ToLower(b.Name)] = b
	}
	if !o.NoMultiplex {
		ctl, err := controlDir()
		if err != nil {
			return nil, err
		}
		c.control = ctl
	}
	return c, nil
}

// controlDir makes a private directory for the master sockets with a
// short path: a unix socket's path is limited to about 104 bytes, and ssh
// adds the 40-character %C hash and a temporary suffix of 17.
func controlDir() (string, error) {
	base := os.TempDir()
	if len(base) > 40 || strings.ContainsAny(base, " \t\"%") { // ssh expands % in ControlPath
		base = "/tmp"
	}
	d, err := os.MkdirTemp(base, "nh")
	if err != nil {
		return "", fmt.Errorf("make the directory of the ssh master connections: %w", err)
	}
	return d, nil
}

// File returns the config file for connections to host (an alias, or
// [user@]host[:port]), writing it on first use.
func (c *Config) File(host string) (string, error) { return c.file(host, false) }

// FreshFile is File for a connection that must be new: it uses no master
// connection, to the host or to its jump hosts.
func (c *Config) FreshFile(host string) (string, error) { return c.file(host, true) }

func (c *Config) file(host string, fresh bool) (string, error) {
	if c.dir == "" {
		return c.Path, nil
	}
	alias, _ := SplitJump(host)
	key := strings.ToLower(alias)
	if fresh {
		key += ".fresh"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.files[key]; ok {
		return p, nil
	}
	p := filepath.Join(c.dir, fileName(key))
	if err := os.WriteFile(p, []byte(c.Render(alias, fresh)), 0o600); err != nil {
		return "", fmt.Errorf("write the ssh config of %s: %w", alias, err)
	}
	c.files[key] = p
	return p, nil
}

// fileName is key if it is a safe file name, else a name made from its
// bytes.
func fileName(key string) string {
	if namePattern.MatchString(key) {
		return key
	}
	return fmt.Sprintf("h-%x", key)
}

// mustFile is File for command lines: a file that cannot be written makes
// ssh fail with a message naming it, at the command that needs it.
func (c *Config) mustFile(host string, fresh bool) string {
	p, err := c.file(host, fresh)
	if err != nil {
		return filepath.Join(c.dir, "unwritable")
	}
	return p
}

// NixEnv returns the environment that makes nix's own ssh to host use its
// config (and so its master connection).
func (c *Config) NixEnv(host string) []string {
	return []string{"NIX_SSHOPTS=-F " + c.mustFile(host, false)}
}

// Command returns the ssh command that runs remote (a program and its
// arguments) on host, over the host's master connection. Each remote
// argument is quoted, because ssh hands the joined arguments to the remote
// user's shell.
func (c *Config) Command(host string, remote ...string) []string {
	return []string{"ssh", "-F", c.mustFile(host, false), "-o", "LogLevel=ERROR", host, "--", process.QuoteArgs(remote)}
}

// FreshCommand is Command over a new connection, which proves that the
// host can still be reached (as a magic rollback's confirmation must).
func (c *Config) FreshCommand(host string, remote ...string) []string {
	return []string{"ssh", "-F", c.mustFile(host, true), "-o", "LogLevel=ERROR", host, "--", process.QuoteArgs(remote)}
}

// ForwardArgs returns the ssh command that connects its standard input
// and output to host:port as seen from instance (ssh -W).
func (c *Config) ForwardArgs(instance, hostPort string) []string {
	return []string{"ssh", "-F", c.mustFile(instance, false), "-o", "LogLevel=ERROR", "-W", hostPort, instance}
}
