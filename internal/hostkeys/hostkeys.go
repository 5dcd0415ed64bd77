// Package hostkeys checks, before any host is touched, that ssh will accept
// every host a run connects to (the instances and the jump hosts in front of
// them): with host-key checking on, an unknown key would otherwise fail that
// host half-way through a run, after the others have been changed.
package hostkeys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Target is where ssh connects for one host alias, as `ssh -G` resolves it.
type Target struct {
	// HostName is the address or name connected to.
	HostName string
	// Port is the port connected to.
	Port string
	// KeyAlias is the name the key is looked up by (HostKeyAlias), if set.
	KeyAlias string
	// ProxyJump lists the jump hosts ("none" or empty for none).
	ProxyJump []string
	// StrictHostKeyChecking is ssh's setting for the host.
	StrictHostKeyChecking string
	// KnownHostsFiles are the files ssh reads keys from.
	KnownHostsFiles []string
}

// LookupName is the name a known_hosts entry for the target has:
// HostKeyAlias, else the host name, with the port in brackets unless 22.
func (t Target) LookupName() string {
	name := t.HostName
	if t.KeyAlias != "" {
		name = t.KeyAlias
	}
	if t.Port != "" && t.Port != "22" {
		return "[" + name + "]:" + t.Port
	}
	return name
}

// ParseG parses the output of `ssh -G HOST`.
func ParseG(out []byte) Target {
	var t Target
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToLower(key) {
		case "hostname":
			t.HostName = value
		case "port":
			t.Port = value
		case "hostkeyalias":
			t.KeyAlias = value
		case "proxyjump":
			if value != "none" {
				t.ProxyJump = strings.Split(value, ",")
			}
		case "stricthostkeychecking":
			t.StrictHostKeyChecking = value
		case "userknownhostsfile", "globalknownhostsfile":
			t.KnownHostsFiles = append(t.KnownHostsFiles, strings.Fields(value)...)
		}
	}
	return t
}

// jumpAlias turns a ProxyJump entry ([user@]host[:port]) into the alias
// ssh resolves it by, and the port given, if any.
func jumpAlias(entry string) (alias, port string) {
	if i := strings.LastIndex(entry, "@"); i >= 0 {
		entry = entry[i+1:]
	}
	if strings.HasPrefix(entry, "[") {
		if end := strings.Index(entry, "]"); end > 0 {
			host, rest := entry[1:end], entry[end+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
	}
	if h, p, ok := strings.Cut(entry, ":"); ok && !strings.Contains(p, ":") {
		return h, p
	}
	return entry, ""
}

// ErrUnknownHost is wrapped by Check's error for each host whose key is in
// none of the known_hosts files.
var ErrUnknownHost = errors.New("host key is not known")

// Checker resolves hosts with `ssh -G` and looks their keys up with
// `ssh-keygen -F`.
type Checker struct {
	// Runner runs ssh and ssh-keygen.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Hint says how to make a host known; empty means the command line's
	// advice (ssh-keyscan into known_hosts, or --accept-new-host-keys).
	Hint string
}

// DefaultHint is the command line's advice for an unknown host key; %s is
// the host's address.
const DefaultHint = "add it (ssh-keyscan %s >> known_hosts, after checking it) or pass --accept-new-host-keys"

// hop is one host to check: an alias (and port) and the instance it serves.
type hop struct{ alias, port, via string }

// Check verifies that every host in aliases, and every jump host in front
// of them, has a known key (unless its StrictHostKeyChecking is not yes).
// It reports every unknown host at once, naming the instance it serves.
// Hosts are checked concurrently, a level of jump hosts at a time, since a
// fleet may have thousands.
func (c *Checker) Check(ctx context.Context, aliases []string) error {
	seen := map[string]bool{}
	var level []hop
	add := func(h hop) {
		if key := h.alias + ":" + h.port; !seen[key] {
			seen[key] = true
			level = append(level, h)
		}
	}
	for _, a := range aliases {
		add(hop{alias: a, via: a})
	}
	var errs []error
	for len(level) > 0 {
		results := make([]struct {
			jumps []hop
			err   error
		}, len(level))
		var g errgroup.Group
		g.SetLimit(16)
		for i, h := range level {
			g.Go(func() error {
				results[i].jumps, results[i].err = c.checkOne(ctx, h)
				return nil
			})
		}
		_ = g.Wait()
		level = nil
		for _, r := range results {
			if r.err != nil {
				errs = append(errs, r.err)
			}
			for _, j := range r.jumps {
				add(j)
			}
		}
	}
	return errors.Join(errs...)
}

// checkOne resolves one host, checks its key, and returns its jump hosts.
func (c *Checker) checkOne(ctx context.Context, h hop) ([]hop, error) {
	args := []string{"ssh", "-G", "-F", c.SSH.Path}
	if h.port != "" {
		args = append(args, "-p", h.port)
	}
	out, err := c.Runner.Run(ctx, process.Command{Args: append(args, h.alias)})
	if err != nil {
		return nil, fmt.Errorf("%s: resolve ssh settings for %s: %w", h.via, h.alias, err)
	}
	t := ParseG(out)
	var jumps []hop
	for _, j := range t.ProxyJump {
		ja, jp := jumpAlias(j)
		jumps = append(jumps, hop{alias: ja, port: jp, via: h.via})
	}
	if t.StrictHostKeyChecking != "yes" && t.StrictHostKeyChecking != "true" {
		return jumps, nil
	}
	if c.known(ctx, t) {
		return jumps, nil
	}
	what := h.alias
	if h.alias != h.via {
		what = fmt.Sprintf("jump host %s of %s", h.alias, h.via)
	}
	hint := c.Hint
	if hint == "" {
		hint = DefaultHint
	}
	return jumps, fmt.Errorf("%s (%s): %w in %s; %s",
		what, t.LookupName(), ErrUnknownHost, filesText(t.KnownHostsFiles), fmt.Sprintf(hint, t.HostName))
}

// known reports whether any of the target's known_hosts files has its key.
func (c *Checker) known(ctx context.Context, t Target) bool {
	for _, f := range existing(t.KnownHostsFiles) {
		if _, err := c.Runner.Run(ctx, process.Command{Args: []string{"ssh-keygen", "-F", t.LookupName(), "-f", f}}); err == nil {
			return true
		}
	}
	return false
}

// existing keeps the files that exist, with ~ expanded.
func existing(files []string) []string {
	home, _ := os.UserHomeDir()
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f, "~/") {
			f = home + f[1:]
		}
		if _, err := os.Stat(f); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// filesText names the known_hosts files for an error message.
func filesText(files []string) string {
	if ex := existing(files); len(ex) > 0 {
		return strings.Join(ex, ", ")
	}
	return "any known_hosts file (none of " + strings.Join(files, ", ") + " exists)"
}
